"""Median and 90th percentile of reaction and resolution times.

PostgreSQL computes them with ``percentile_cont``. SQLite has no such aggregate: it
sorts the durations (spilling to disk if it must) and hands back only the values at
the ranks needed, so memory stays bounded. Both use the same linear interpolation,
so the figures agree between the backends.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
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
    """Only the rows at the needed ranks leave SQLite: it numbers the sorted durations
    with ``row_number()`` (one sort, in C) and returns at most four of them."""
    base = [*where, end_column.is_not(None)]
    n = db.session.scalar(db.select(db.func.count()).select_from(Ticket).where(*base)) or 0
    if not n:
        return 0, (None,) * len(QUANTILES)
    ranked = db.select(expr.label("seconds"), db.func.row_number().over(order_by=expr).label("rn")) \
        .where(*base).subquery()
    wanted = sorted({rank for lo, hi, _frac in rank_pairs(n, QUANTILES) for rank in (lo, hi)})
    rows = db.session.execute(db.select(ranked.c.rn, ranked.c.seconds).where(ranked.c.rn.in_([r + 1 for r in wanted])))
    values = {rn - 1: float(seconds) for rn, seconds in rows}
    return n, tuple(_secs(v) for v in interpolate(values, n, QUANTILES))


def rank_pairs(n: int, quantiles: Sequence[float]) -> list[tuple[int, int, float]]:
    """For each quantile of ``n`` sorted values: the 0-based ranks around it and the
    fraction between them (``percentile_cont``'s linear interpolation)."""
    pairs = []
    for q in quantiles:
        rank = q * (n - 1)
        pairs.append((math.floor(rank), math.ceil(rank), rank - math.floor(rank)))
    return pairs


def interpolate(values_by_rank: dict[int, float], n: int, quantiles: Sequence[float]) -> list[float]:
    return [values_by_rank[lo] + (values_by_rank[hi] - values_by_rank[lo]) * frac
            for lo, hi, frac in rank_pairs(n, quantiles)]
