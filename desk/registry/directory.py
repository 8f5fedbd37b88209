"""The public directory: active accounts grouped by direction, with counts and trends."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import city_today
from ..models import Account, Direction, Platform
from . import charts
from .series import change, daily_counts, latest_counts
from .snapshots import COUNTED_PLATFORMS

TREND_DAYS = 30
NETWORKS = [p.value for p in Platform if p.value in COUNTED_PLATFORMS]
DIRECTIONS = Direction.values()


@dataclass
class DirectoryEntry:
    account: Account
    subscribers: int | None
    counted_on: date | None
    change: int | None  # over the trend window
    trend: charts.Chart


@dataclass
class DirectionGroup:
    direction: str
    entries: list[DirectoryEntry] = field(default_factory=list)

    @property
    def subscribers(self) -> int:
        return sum(e.subscribers or 0 for e in self.entries)


@dataclass
class Directory:
    groups: list[DirectionGroup]
    today: date

    @property
    def subscribers(self) -> int:
        return sum(g.subscribers for g in self.groups)

    @property
    def accounts(self) -> int:
        return sum(len(g.entries) for g in self.groups)


def clean_filter(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


def active_accounts(network: str | None = None, direction: str | None = None) -> list[Account]:
    query = db.select(Account).where(Account.is_active.is_(True), Account.on_networks()).options(selectinload(Account.department))
    if network:
        query = query.where(Account.platform == network)
    if direction:
        query = query.where(Account.direction == direction)
    return list(db.session.scalars(query.order_by(Account.name, Account.platform)).all())


def build_directory(network: str | None = None, direction: str | None = None,
                    today: date | None = None) -> Directory:
    today = today or city_today()
    accounts = active_accounts(network, direction)
    ids = [a.id for a in accounts]
    latest = latest_counts(ids)
    trends = daily_counts(ids, today - timedelta(days=TREND_DAYS - 1), today)
    by_direction: dict[str, DirectionGroup] = {d: DirectionGroup(d) for d in DIRECTIONS}
    for account in accounts:
        day, count = latest.get(account.id, (None, None))
        values = trends[account.id]
        by_direction[account.direction].entries.append(
            DirectoryEntry(account, count, day, change(values), charts.sparkline(values)))
    return Directory([g for g in by_direction.values() if g.entries], today)
