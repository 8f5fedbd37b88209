"""Median and 90th percentile of reaction and resolution times.

PostgreSQL computes them with ``percentile_cont``. SQLite has no such aggregate: the
durations are read in sorted order (the database sorts, spilling to disk if it must)
and the scan stops at the last rank needed, so Python holds two values at a time.
Both use the same linear interpolation, so the figures agree between the backends.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Float
from sqlalchemy.dialects.postgresql import ARRAY, array

from ..extensions import db
from ..models import Ticket
from .figures import Durations
from .filters import ReportFilters
from .metrics import duration_seconds

QUANTILES = (0.5, 0.9)


def durations(filters: ReportFilters, tz: ZoneInfo) -> Durations:
    dialect = db.engine.dialect.name
    reaction = duration_seconds(Ticket.first_reply_at, dialect)
    resolution = duration_seconds(Ticket.resolved_at, dialect)
    where = filters.conditions(tz)
    if dialect == "postgresql":
        return _postgres(reaction, resolution, where)
    out = Durations()
    out.reaction_count, (out.reaction_median, out.reaction_p90) = _scan(reaction, Ticket.first_reply_at, where)
    out.resolution_count, (out.resolution_median, out.resolution_p90) = _scan(resolution, Ticket.resolved_at, where)
    return out


def _postgres(reaction, resolution, where: list) -> Durations:
    quantiles = array(list(QUANTILES))

    def pct(expr):
        return db.func.percentile_cont(quantiles, type_=ARRAY(Float)).within_group(expr)

    row = db.session.execute(db.select(
        db.func.count(Ticket.first_reply_at), pct(reaction),
        db.func.count(Ticket.resolved_at), pct(resolution)).where(*where)).one()
    r_median, r_p90 = row[1] or (None, None)
    s_median, s_p90 = row[3] or (None, None)
    return Durations(row[0], _secs(r_median), _secs(r_p90), row[2], _secs(s_median), _secs(s_p90))


def _secs(value) -> float | None:
    return None if value is None else round(float(value), 3)


def _scan(expr, end_column, where: list) -> tuple[int, tuple[float | None, ...]]:
    base = [*where, end_column.is_not(None)]
    n = db.session.scalar(db.select(db.func.count()).select_from(Ticket).where(*base)) or 0
    if not n:
        return 0, (None,) * len(QUANTILES)
    query = db.select(expr.label("seconds")).where(*base).order_by("seconds")
    values = db.session.scalars(query.execution_options(yield_per=5000))
    try:
        return n, tuple(_secs(v) for v in quantiles_of_sorted(values, n, QUANTILES))
    finally:
        values.close()


def quantiles_of_sorted(values: Iterable[float], n: int, quantiles: Sequence[float]) -> list[float]:
    """``percentile_cont`` of each quantile over ``n`` values given in ascending order,
    reading no further than the highest rank needed."""
    needed = {}
    for q in quantiles:
        rank = q * (n - 1)
        needed[q] = (math.floor(rank), math.ceil(rank), rank - math.floor(rank))
    wanted = {i for lo, hi, _f in needed.values() for i in (lo, hi)}
    last = max(wanted)
    picked: dict[int, float] = {}
    for index, value in enumerate(values):
        if index in wanted:
            picked[index] = float(value)
        if index >= last:
            break
    return [picked[lo] + (picked[hi] - picked[lo]) * frac for lo, hi, frac in needed.values()]
