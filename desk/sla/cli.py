"""``flask calendar import FILE [--yes]``: load production-calendar years, showing the
differences (added, changed, removed days) before applying them."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from .admin import apply_calendar_diff, diff_calendar
from .calendar import read_calendar_file

calendar_cli = AppGroup("calendar", help="The production calendar.")


@calendar_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Apply without asking.")
def import_command(path: str, yes: bool) -> None:
    """Import the years of FILE, replacing those years in the desk's calendar."""
    try:
        entries = read_calendar_file(path)
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    diff = diff_calendar(entries)
    years = ", ".join(str(y) for y in sorted({e.day.year for e in entries}))
    if diff.empty:
        db.session.commit()  # the bundled calendar may just have been seeded
        click.echo(f"No differences for {years}.")
        return
    for entry in diff.added:
        click.echo(f"+ {entry.day}  {entry.kind:8}  {entry.note}")
    for old, new in diff.changed:
        click.echo(f"~ {new.day}  {old.kind} -> {new.kind}  {new.note}")
    for entry in diff.removed:
        click.echo(f"- {entry.day}  {entry.kind:8}  {entry.note}")
    click.echo(f"{len(diff.added)} added, {len(diff.changed)} changed, {len(diff.removed)} removed ({years}).")
    if not yes and not click.confirm("Apply these changes?", default=False):
        db.session.rollback()
        click.echo("Nothing changed.")
        return
    apply_calendar_diff(diff)
    db.session.commit()
    click.echo("Applied.")


def init_cli(app: Flask) -> None:
    app.cli.add_command(calendar_cli)
