"""The city's open figures: how the city answers residents, per month, department and direction.

Every number comes from the managers' SLA report code (``desk.reports``): the same
filters (period in the city's time zone; not-appeal, spam and merged tickets excluded),
the same outcome definitions, the same percentile code and the same backlog buckets. This
module only picks the public subset and lays it out; it writes no SQL of its own.

Only aggregates leave here: counts, shares, durations, and the names of departments,
directions and categories. No ticket text, author or operator is ever read.

The figures of a period are cached in Redis for ``OPEN_DATA_CACHE_SECONDS`` as JSON;
a Redis outage only costs the cache (the figures are computed directly).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from redis.exceptions import RedisError

from ..queue import get_redis
from ..reports.figures import Durations, Tally, backlog, build_report
from ..reports.filters import NONE, ReportFilters
from ..reports.percentiles import durations
from ..reports.periods import Period, add_months, month_start

log = logging.getLogger(__name__)

MONTHS = 12  # the default period: this month and the eleven before it
TOP_CATEGORIES = 5
CACHE_KEY = "open-data:v1:{start}:{end}"
OLD_BACKLOG = ("7to30", "gt30")  # "open for more than a week" in the summary
EARLIEST_MONTH = date(2000, 1, 1)


@dataclass
class Row:
    """The public figures of one slice (a month, a department, a direction, or all)."""

    key: str  # "2025-11", a department id, a direction value, "all", or "none"
    name: str  # a department's or category's name; empty where the page names it
    start: str  # first local day, ISO
    end: str  # last local day, ISO (inclusive)
    received: int
    answered_on_time: int  # first public answer by the reaction deadline (24 h by default)
    answered_late: int
    answered_share: float | None  # percent of the measured
    median_first_answer_seconds: float | None
    resolved_on_time: int
    resolved_late: int
    resolved_share: float | None
    open_now: int | None = None  # today's backlog of the slice (not for months)


@dataclass
class OpenFigures:
    start: str
    end: str  # inclusive
    timezone: str
    generated_at: str  # UTC, ISO
    total: Row
    months: list[Row] = field(default_factory=list)
    departments: list[Row] = field(default_factory=list)
    directions: list[Row] = field(default_factory=list)
    backlog: list[tuple[str, int]] = field(default_factory=list)  # (age bucket, open tickets)
    categories: list[tuple[str, int]] = field(default_factory=list)  # (name, received), most frequent first

    @property
    def period(self) -> Period:
        return Period(date.fromisoformat(self.start), date.fromisoformat(self.end) + timedelta(days=1))

    @property
    def open_now(self) -> int:
        return sum(n for _key, n in self.backlog)

    @property
    def open_old(self) -> int:
        return sum(n for key, n in self.backlog if key in OLD_BACKLOG)

    @property
    def latest_month(self) -> Row | None:
        """The last month that received appeals (the widget's and the summary's month)."""
        return next((row for row in reversed(self.months) if row.received), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpenFigures:
        rows = {name: [Row(**r) for r in data[name]] for name in ("months", "departments", "directions")}
        return cls(start=data["start"], end=data["end"], timezone=data["timezone"],
                   generated_at=data["generated_at"], total=Row(**data["total"]),
                   backlog=[(k, n) for k, n in data["backlog"]],
                   categories=[(k, n) for k, n in data["categories"]], **rows)

    @property
    def etag(self) -> str:
        """Changes when a figure changes, not when the same figures are recomputed."""
        body = {k: v for k, v in self.to_dict().items() if k != "generated_at"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]

    @property
    def generated(self) -> datetime:
        return datetime.fromisoformat(self.generated_at)


# --- the period ----------------------------------------------------------------------------

def default_period(today: date) -> Period:
    """This month so far and the eleven full months before it, in the city's dates."""
    return Period(add_months(month_start(today), -(MONTHS - 1)), today + timedelta(days=1))


def month_period(raw: str, today: date) -> Period | None:
    """The month ``YYYY-MM`` (up to today for the current one); None if it is not a
    month between 2000 and this one."""
    try:
        year, month = (int(part) for part in raw.split("-"))
        start = date(year, month, 1)
    except ValueError:
        return None
    if len(raw) != 7 or not EARLIEST_MONTH <= start <= today:
        return None
    return Period(start, min(add_months(start, 1), today + timedelta(days=1)))


def selectable_months(today: date, count: int = 24) -> list[date]:
    """First days of the months offered by the selector, newest first."""
    first = month_start(today)
    return [add_months(first, -n) for n in range(count)]


# --- computing -----------------------------------------------------------------------------

def _row(key: str, name: str, period: Period, tally: Tally, times: Durations, open_now: int | None = None) -> Row:
    return Row(key=key, name=name, start=period.start.isoformat(), end=period.last_day.isoformat(),
               received=tally.total, answered_on_time=tally.reaction_on_time, answered_late=tally.reaction_missed,
               answered_share=tally.reaction_share, median_first_answer_seconds=times.reaction_median,
               resolved_on_time=tally.resolution_on_time, resolved_late=tally.resolution_missed,
               resolved_share=tally.resolution_share, open_now=open_now)


def compute(period: Period, now: datetime, tz: ZoneInfo) -> OpenFigures:
    """The open figures of ``period``, from the SLA report's own functions."""
    filters = ReportFilters(period)
    report = build_report(filters, now, tz)
    total = _row("all", "", period, report.total, report.durations, sum(n for _k, n in report.backlog))
    months = [_row(point.period.start.strftime("%Y-%m"), "", point.period, point.tally,
                   durations(filters.with_period(point.period), tz))
              for point in report.months]

    def slices(dimension: str, named: bool) -> list[Row]:
        rows = []
        for group in report.groups[dimension]:
            sliced = filters.with_dim(dimension, group.key)
            open_now = sum(n for _k, n in backlog(sliced, now))
            name = str(group.name) if named and group.key != NONE else ""
            rows.append(_row(str(group.key), name, period, group.tally, durations(sliced, tz), open_now))
        return rows

    categories = [(str(g.name), g.tally.total) for g in report.groups["category"] if g.key != NONE]
    return OpenFigures(
        start=period.start.isoformat(), end=period.last_day.isoformat(), timezone=tz.key,
        generated_at=now.astimezone(UTC).replace(microsecond=0).isoformat(),
        total=total, months=months,
        departments=slices("department", named=True),
        directions=slices("direction", named=False),  # named in the reader's language at render time
        backlog=report.backlog, categories=categories[:TOP_CATEGORIES])


def figures(period: Period, now: datetime, tz: ZoneInfo) -> OpenFigures:
    """The cached figures of ``period``, computed on a miss."""
    key = CACHE_KEY.format(start=period.start.isoformat(), end=period.end.isoformat())
    seconds = current_app.config["OPEN_DATA_CACHE_SECONDS"]
    try:
        cached = get_redis().get(key) if seconds > 0 else None
    except RedisError:
        log.warning("open data: Redis unavailable, computing without the cache", exc_info=True)
        cached = None
    if cached is not None:
        return OpenFigures.from_dict(json.loads(cached))
    result = compute(period, now, tz)
    if seconds > 0:
        try:
            get_redis().set(key, json.dumps(result.to_dict()), ex=seconds)
        except RedisError:
            log.warning("open data: could not cache the figures", exc_info=True)
    return result
