"""``flask departments import FILE``: a city's departments and categories for its first day."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from .extensions import db
from .org_import import expand, import_rows, read


@click.group("departments")
def departments_group() -> None:
    """The city's departments and the categories they answer for."""


@departments_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path: str) -> None:
    """Create or update departments and categories from FILE (JSON, CSV or XLSX); running
    it again changes nothing."""
    try:
        rows = list(expand(read(path)))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with click.progressbar(length=len(rows), label="Rows", file=sys.stderr) as bar:
        results = import_rows(rows, progress=bar)
    db.session.commit()
    for result in results:
        if result.status != "unchanged":
            click.echo(result.line())
    counts = {s: sum(r.status == s for r in results) for s in ("created", "updated", "unchanged", "error")}
    click.echo(f"{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged, "
               f"{counts['error']} rows with errors")
    if counts["error"]:
        raise click.exceptions.Exit(1)


def init_cli(app: Flask) -> None:
    app.cli.add_command(departments_group)
