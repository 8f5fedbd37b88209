"""``flask accounts import FILE``: load the accounts registry from JSON, CSV or XLSX."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from .accounts_import import import_rows, read_rows
from .extensions import db


@click.group("accounts")
def accounts_group() -> None:
    """The city's accounts registry."""


@accounts_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path: str) -> None:
    """Create or update accounts from FILE; report each row (tokens are never printed)."""
    try:
        rows = read_rows(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    results = import_rows(rows)
    db.session.commit()
    for result in results:
        click.echo(result.line())
    bad = sum(r.status == "error" for r in results)
    click.echo(f"{len(results) - bad} rows loaded, {bad} rows with errors")
    if bad:
        raise click.exceptions.Exit(1)


def init_cli(app: Flask) -> None:
    app.cli.add_command(accounts_group)
