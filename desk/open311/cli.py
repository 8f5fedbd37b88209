"""``flask open311 keys create --name NAME`` (prints the key once), ``keys list``,
``keys revoke --name NAME``."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from . import keys
from .views import endpoint_url

open311_cli = AppGroup("open311", help="Open311 GeoReport v2.")
keys_cli = AppGroup("keys", help="API keys of the systems that post requests.")
open311_cli.add_command(keys_cli)


@keys_cli.command("create")
@click.option("--name", required=True, help="The system that will use the key.")
def create_key(name: str) -> None:
    """Create a key and print it once (only its hash is kept)."""
    try:
        _key, plain = keys.issue(name)
    except keys.KeyRefusal as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from None
    db.session.commit()
    click.echo(plain)


@keys_cli.command("list")
def list_keys() -> None:
    """Every key: name, first characters, created, last used, revoked."""
    rows = keys.all_keys()
    if not rows:
        click.echo("no keys")
    for key in rows:
        def when(moment) -> str:
            return moment.isoformat(timespec="seconds") if moment else "-"

        state = f"revoked {when(key.revoked_at)}" if key.revoked_at else "active"
        click.echo(f"{key.name}\t{key.prefix}…\tcreated {when(key.created_at)}\t"
                   f"last used {when(key.last_used_at)}\t{state}")
    click.echo(f"endpoint: {endpoint_url()}", err=True)


@keys_cli.command("revoke")
@click.option("--name", required=True)
def revoke_key(name: str) -> None:
    """Revoke the key named NAME: its posts are refused (403) from now on."""
    key = keys.by_name(name)
    if key is None:
        raise click.UsageError(f"no key named {name!r}")
    changed = keys.revoke(key)
    db.session.commit()
    click.echo(f"revoked {key.name}" if changed else f"{key.name} was already revoked")


def init_cli(app: Flask) -> None:
    app.cli.add_command(open311_cli)
