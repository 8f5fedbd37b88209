"""``flask demo`` (the demo city, idempotent) and ``flask seed-bulk`` (benchmark volume)."""
from __future__ import annotations

import io

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Account, Category
from . import data
from .bulk import seed_bulk
from .direct import load_direct_appeals
from .loader import ensure_reference_data, load_tickets

DEFAULT_TICKETS = 3000


def print_logins() -> None:
    click.echo(f"Demo logins (password: {data.DEMO_PASSWORD}):")
    for email, _name, role, dept in data.DEMO_LOGINS:
        click.echo(f"  {email:<34} {role}{' · ' + dept if dept else ''}")


def load_demo(tickets: int, show_progress: bool = True) -> str:
    """Load the demo city (idempotent); returns a one-line summary."""
    ref = ensure_reference_data()
    db.session.commit()
    with click.progressbar(length=tickets, label="Demo tickets",
                           file=None if show_progress else _Null()) as bar:
        report = load_tickets(ref, tickets, progress=bar)
    direct = load_direct_appeals(ref.categories)
    return (f"{report.created} tickets created ({direct} from the web form and Open311), {report.skipped} already "
            f"there; {len(ref.departments)} "
            f"departments, {len(ref.categories)} categories, {len(ref.accounts)} accounts.")


@click.command("demo")
@click.option("--tickets", default=DEFAULT_TICKETS, show_default=True, help="How many demo tickets.")
@click.option("--quiet", is_flag=True, help="No progress bar and no logins at the end.")
@with_appcontext
def demo_command(tickets: int, quiet: bool) -> None:
    """Load the demo city of Belogorsk (running it again changes nothing)."""
    summary = load_demo(tickets, show_progress=not quiet)
    if not quiet:
        click.echo(summary)
        print_logins()


class _Null(io.StringIO):
    """A file for a progress bar nobody should see (keeps nothing; never a terminal)."""

    def write(self, text: str) -> int:
        return len(text)


@click.command("seed-bulk")
@click.option("--tickets", default=100_000, show_default=True, help="How many tickets to add.")
@click.option("--batch", default=10_000, show_default=True, help="Rows per insert transaction.")
@with_appcontext
def seed_bulk_command(tickets: int, batch: int) -> None:
    """Add many tickets with one message each (Core bulk insert, for benchmarks)."""
    accounts = db.session.scalars(db.select(Account).order_by(Account.id)).all()
    categories = db.session.scalars(
        db.select(Category).where(Category.default_department_id.is_not(None)).order_by(Category.id)).all()
    if not accounts or not categories:
        ref = ensure_reference_data()
        db.session.commit()
        accounts, categories = ref.accounts, ref.categories
    with click.progressbar(length=tickets, label="Bulk tickets") as bar:
        first = seed_bulk(tickets, max(batch, 1), accounts, categories, on_batch=bar.update)
    click.echo(f"{tickets} tickets added (ids from {first}).")
