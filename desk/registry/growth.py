"""Subscriber growth per account and per direction over a window of city days."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .. import labels
from ..i18n import city_today
from ..models import Account
from . import charts
from .directory import DIRECTIONS, active_accounts
from .series import daily_counts, days_between, sum_carried

PERIOD_DAYS = (7, 30, 60, 90)
DEFAULT_DAYS = 30


@dataclass
class Growth:
    """First and last known count in the window (gaps at the edges are skipped)."""

    values: list[int | None]
    first: int | None = None
    last: int | None = None

    def __post_init__(self) -> None:
        known = [v for v in self.values if v is not None]
        if known:
            self.first, self.last = known[0], known[-1]

    @property
    def change(self) -> int | None:
        return self.last - self.first if self.first is not None and self.last is not None else None

    @property
    def percent(self) -> float | None:
        if self.change is None or not self.first:
            return None
        return 100.0 * self.change / self.first

    @property
    def gaps(self) -> int:
        return sum(1 for v in self.values if v is None)


@dataclass(kw_only=True)
class AccountGrowth(Growth):
    account: Account


@dataclass
class DirectionGrowth:
    direction: str
    accounts: list[AccountGrowth] = field(default_factory=list)

    @property
    def total(self) -> Growth:
        """Daily totals (an account's missing day carries its previous count)."""
        return Growth(sum_carried([a.values for a in self.accounts]))

    def _sum(self, name: str) -> int | None:
        values = [getattr(a, name) for a in self.accounts if a.change is not None]
        return sum(values) if values else None

    @property
    def first(self) -> int | None:
        return self._sum("first")

    @property
    def last(self) -> int | None:
        return self._sum("last")

    @property
    def change(self) -> int | None:
        return self._sum("change")

    @property
    def percent(self) -> float | None:
        return 100.0 * self.change / self.first if self.change is not None and self.first else None


@dataclass
class GrowthReport:
    days: list[date]
    directions: list[DirectionGrowth]

    @property
    def accounts(self) -> list[AccountGrowth]:
        return [a for d in self.directions for a in d.accounts]


def clean_days(value: str | int | None) -> int:
    if value is None:
        return DEFAULT_DAYS
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days in PERIOD_DAYS else DEFAULT_DAYS


def growth_report(days: int = DEFAULT_DAYS, *, direction: str | None = None, network: str | None = None,
                  account_id: int | None = None, today: date | None = None) -> GrowthReport:
    today = today or city_today()
    start = today - timedelta(days=days - 1)
    accounts = [a for a in active_accounts(network, direction) if account_id is None or a.id == account_id]
    series = daily_counts([a.id for a in accounts], start, today)
    groups = {d: DirectionGrowth(d) for d in DIRECTIONS}
    for account in accounts:
        groups[account.direction].accounts.append(AccountGrowth(series[account.id], account=account))
    return GrowthReport(days_between(start, today), [g for g in groups.values() if g.accounts])


def growth_chart(report: GrowthReport, account_id: int | None = None) -> tuple[charts.Chart, list[str], str]:
    """One account's line when one is chosen, else one line per direction (daily totals)."""
    x_labels = [day.strftime("%d.%m") for day in report.days]
    if account_id is not None and report.accounts:
        item = report.accounts[0]
        series, names = [item.values], [item.account.name]
        title = f"{item.account.name} · {labels.label('platform', item.account.platform)}"
    else:
        series = [group.total.values for group in report.directions]
        names, title = [labels.label("direction", group.direction) for group in report.directions], ""
    chart = charts.line_chart(series, width=760, height=260, x_labels=x_labels, pad_left=64, pad_bottom=20)
    return chart, names, title
