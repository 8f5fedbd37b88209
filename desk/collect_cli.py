"""``flask collect run`` (poll once, synchronously: cron and tests) and
``flask collect backfill`` (history, where a network has a way to read it)."""
from __future__ import annotations

import importlib
from datetime import UTC, datetime, time

import click
from flask import Flask
from flask.cli import with_appcontext

from .extensions import db
from .models import Account
from .networks import SPECS


def _accounts(account_id: int | None, platform: str | None) -> list[Account]:
    query = db.select(Account).where(Account.is_active.is_(True), Account.on_networks()).order_by(Account.id)
    if account_id is not None:
        query = db.select(Account).where(Account.id == account_id)
    if platform:
        query = query.where(Account.platform == platform)
    return list(db.session.scalars(query).all())


def _label(account: Account) -> str:
    return f"account {account.id} ({account.platform}, {account.name})"


@click.group("collect")
def collect_group() -> None:
    """Collect residents' comments from the networks."""


@collect_group.command("run")
@click.option("--account", "account_id", type=int, help="Only this account.")
@click.option("--platform", type=click.Choice(list(SPECS)), help="Only this network.")
@with_appcontext
def run_command(account_id: int | None, platform: str | None) -> None:
    """Poll each active polling account once until it has nothing new; print counts."""
    base = importlib.import_module("workers.collectors.base")
    accounts = _accounts(account_id, platform)
    if account_id is not None and not accounts:
        raise click.ClickException(f"no account {account_id}")
    failed = 0
    for account in accounts:
        if not base.is_polling(account):
            click.echo(f"{_label(account)}: not collected by polling, skipped")
            continue
        try:
            c = base.poll_account(account.id)
        except base.ChannelError as exc:
            failed += 1
            click.echo(f"{_label(account)}: FAILED: {exc.description}")
            continue
        click.echo(f"{_label(account)}: created {c.created}, joined {c.joined}, edited {c.edited}, "
                   f"duplicates {c.duplicate}, posts {c.posts}, deleted {c.deleted}, skipped {c.skipped}, "
                   f"dead letters {c.dead}")
    if failed:
        raise click.exceptions.Exit(1)


def _parse_date(value: str) -> datetime:
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None
    if day.tzinfo is None:
        day = datetime.combine(day.date(), time.min, UTC) if len(value) <= 10 else \
            day.replace(tzinfo=UTC)
    return day


@collect_group.command("backfill")
@click.option("--account", "account_id", type=int, required=True)
@click.option("--since", required=True, help="Start date, YYYY-MM-DD (UTC).")
@with_appcontext
def backfill_command(account_id: int, since: str) -> None:
    """Read an account's history since a date (only networks that allow it)."""
    base = importlib.import_module("workers.collectors.base")
    since_at = _parse_date(since)
    account = db.session.get(Account, account_id)
    if account is None:
        raise click.ClickException(f"no account {account_id}")
    try:
        module = base.network_module(account.platform)
    except (KeyError, ModuleNotFoundError):
        module = None
    backfill = getattr(module, "backfill", None)
    if backfill is None:
        raise click.ClickException(f"backfill is not supported by this network ({account.platform})")

    def progress(done: int, total: int | None = None, note: str = "") -> None:
        width = 30
        bar = "#" * int(width * done / total) if total else ""
        shown = f"[{bar:<{width}}] {done}/{total}" if total else f"{done}"
        click.echo(f"\r{shown} {note}"[:120], nl=False)

    counts = backfill(account, since_at, progress)
    click.echo("")
    if counts is not None:
        click.echo(f"{_label(account)}: created {counts.created}, joined {counts.joined}, "
                   f"duplicates {counts.duplicate}, posts {counts.posts}, dead letters {counts.dead}")


def init_cli(app: Flask) -> None:
    app.cli.add_command(collect_group)
