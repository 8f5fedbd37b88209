"""The report's figures, computed in SQL from ticket columns.

Compliance for all four dimensions comes from ONE grouped scan (grouped by department,
direction, category and network together) rolled up in Python: a year of a million
tickets is read once, whatever the number of tables on the page.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .. import labels
from ..extensions import db
from ..models import Category, Department, Ticket, TicketStatus
from . import metrics
from .filters import DIMENSIONS, NONE, ReportFilters
from .labels import DIMENSION_TITLES
from .periods import Period, buckets, constant_offset_spans

T = Ticket
COUNTED = ("total", "open", "breached", "reaction_on_time", "reaction_missed", "reaction_pending",
           "resolution_on_time", "resolution_missed", "resolution_pending")
EPOCH_DAY = date(1970, 1, 1)
TREND_COUNTED = ("total", "reaction_on_time", "reaction_missed", "resolution_on_time", "resolution_missed")


@dataclass
class Tally:
    total: int = 0
    open: int = 0
    breached: int = 0
    reaction_on_time: int = 0
    reaction_missed: int = 0
    reaction_pending: int = 0
    resolution_on_time: int = 0
    resolution_missed: int = 0
    resolution_pending: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def reaction_share(self) -> float | None:
        return share(self.reaction_on_time, self.reaction_missed)

    @property
    def resolution_share(self) -> float | None:
        return share(self.resolution_on_time, self.resolution_missed)


def share(on_time: int, missed: int) -> float | None:
    """Percentage on time among the measured; ``None`` when nothing is measured."""
    measured = on_time + missed
    return round(100.0 * on_time / measured, 1) if measured else None


@dataclass
class GroupRow:
    key: int | str  # dimension value, or NONE
    name: str  # or a lazy translated label
    tally: Tally


@dataclass
class Durations:
    """Seconds from creation to the first reply / to the resolve."""
    reaction_count: int = 0
    reaction_median: float | None = None
    reaction_p90: float | None = None
    resolution_count: int = 0
    resolution_median: float | None = None
    resolution_p90: float | None = None


@dataclass
class TrendPoint:
    period: Period
    tally: Tally


@dataclass
class Report:
    filters: ReportFilters
    now: datetime
    total: Tally
    groups: dict[str, list[GroupRow]]
    backlog: list[tuple[str, int]]
    durations: Durations
    weeks: list[TrendPoint] = field(default_factory=list)
    months: list[TrendPoint] = field(default_factory=list)


def _counts(conds: dict, names: tuple[str, ...]) -> list:
    return [db.func.count().filter(conds[n]).label(n) if n != "total" else db.func.count().label(n)
            for n in names]


def compliance(filters: ReportFilters, now: datetime, tz: ZoneInfo) -> tuple[Tally, dict[str, list[GroupRow]]]:
    """The totals and one table per dimension (department, direction, category, network)."""
    conds = metrics.outcome_conditions(now)
    keys = list(DIMENSIONS.values())
    query = (db.select(*keys, *_counts(conds, COUNTED))
             .where(*filters.conditions(tz)).group_by(*keys))
    total = Tally()
    per_dim: dict[str, dict] = {name: defaultdict(Tally) for name in DIMENSIONS}
    for row in db.session.execute(query):
        tally = Tally(*row[len(keys):])
        total.add(tally)
        for name, value in zip(DIMENSIONS, row[:len(keys)], strict=False):
            per_dim[name][value].add(tally)
    names = _names(per_dim)
    groups = {
        name: sorted((GroupRow(NONE if key is None else key, names[name](key), tally)
                      for key, tally in per_dim[name].items()), key=lambda r: (-r.tally.total, str(r.key)))
        for name in DIMENSIONS
    }
    return total, groups


def _names(per_dim: dict[str, dict]) -> dict:
    """Display name of each dimension value found."""
    dept_ids = [k for k in per_dim["department"] if k is not None]
    cat_ids = [k for k in per_dim["category"] if k is not None]
    depts = dict(db.session.execute(db.select(Department.id, Department.name).where(Department.id.in_(dept_ids))).all()) \
        if dept_ids else {}
    cats = dict(db.session.execute(db.select(Category.id, Category.name).where(Category.id.in_(cat_ids))).all()) \
        if cat_ids else {}
    return {
        "department": lambda k: depts.get(k, str(k)) if k is not None else "—",
        "category": lambda k: cats.get(k, str(k)) if k is not None else "—",
        # Lazy labels: rendered later in the reader's language (the digest job has no request).
        "direction": lambda k: labels.DIRECTION.get(k, k) if k is not None else "—",
        "platform": lambda k: labels.PLATFORM.get(k, k) if k is not None else "—",
    }


def describe(filters: ReportFilters) -> list[tuple[str, str]]:
    """(dimension name, value name) of each dimension the filters fix."""
    per_dim = {name: {None if value == NONE else value: None} for name, value in filters.dims}
    names = _names({name: per_dim.get(name, {}) for name in DIMENSIONS})
    return [(str(DIMENSION_TITLES[name]), names[name](None if value == NONE else value))
            for name, value in filters.dims]


def backlog(filters: ReportFilters, now: datetime) -> list[tuple[str, int]]:
    """Open tickets now, by age (the period does not apply: the backlog is today's)."""
    query = db.select(*[db.func.count().filter(metrics.age_condition(key, now)) for key, _lo, _hi in metrics.AGE_BUCKETS]) \
        .where(T.status.in_(TicketStatus.open_values()), *filters.dim_conditions())
    counts = db.session.execute(query).one()
    return [(key, int(n or 0)) for (key, _lo, _hi), n in zip(metrics.AGE_BUCKETS, counts, strict=False)]


def trends(filters: ReportFilters, now: datetime, tz: ZoneInfo) -> tuple[list[TrendPoint], list[TrendPoint]]:
    """Per week and per month of the period, bucketed by the local (city) date."""
    conds = metrics.outcome_conditions(now)
    dialect = db.engine.dialect.name
    start, end = filters.period.utc_bounds(tz)
    per_day: dict[date, Tally] = defaultdict(Tally)
    for span_start, span_end, offset in constant_offset_spans(start, end, tz):
        day = metrics.local_day_number(dialect, offset).label("day")
        query = (db.select(day, *_counts(conds, TREND_COUNTED))
                 .where(*filters.conditions(tz), T.created_at >= span_start, T.created_at < span_end)
                 .group_by(day))
        for row in db.session.execute(query):
            per_day[EPOCH_DAY + timedelta(days=int(row.day))].add(Tally(**{n: getattr(row, n) for n in TREND_COUNTED}))
    return _fold(per_day, filters.period, "week"), _fold(per_day, filters.period, "month")


def _fold(per_day: dict[date, Tally], period: Period, unit: str) -> list[TrendPoint]:
    points = [TrendPoint(p, Tally()) for p in buckets(period, unit)]
    for day, tally in per_day.items():
        for point in points:
            if point.period.start <= day < point.period.end:
                point.tally.add(tally)
                break
    return points


def build_report(filters: ReportFilters, now: datetime, tz: ZoneInfo, with_trends: bool = True) -> Report:
    from .percentiles import durations

    total, groups = compliance(filters, now, tz)
    report = Report(filters=filters, now=now, total=total, groups=groups,
                    backlog=backlog(filters, now), durations=durations(filters, tz))
    if with_trends:
        report.weeks, report.months = trends(filters, now, tz)
    return report
