"""``flask demo-registry``: the accounts registry at the seed's scale (see demo.py)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from ..extensions import db


@click.command("demo-registry")
@with_appcontext
def demo_registry_command() -> None:
    """137 accounts, 60 days of subscriber counts (~336 500 today) and posts (idempotent)."""
    from .demo import load_registry_demo

    report = load_registry_demo()
    db.session.commit()
    click.echo(f"{report.accounts} active accounts ({report.accounts_added} added), "
               f"{report.subscribers} subscribers today; {report.snapshots_added} snapshots and "
               f"{report.posts_added} posts added.")


def init_cli(app: Flask) -> None:
    app.cli.add_command(demo_registry_command)
