"""Reading subscriber snapshots back as daily series (``None`` where a day is missing)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from ..extensions import db
from ..models.registry import SubscriberSnapshot


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def daily_counts(account_ids: Iterable[int], start: date, end: date) -> dict[int, list[int | None]]:
    """Per account, one value per day from ``start`` to ``end``; a missing day is ``None``."""
    ids = list(account_ids)
    days = days_between(start, end)
    index = {day: n for n, day in enumerate(days)}
    series: dict[int, list[int | None]] = {account_id: [None] * len(days) for account_id in ids}
    if not ids:
        return series
    rows = db.session.execute(
        db.select(SubscriberSnapshot.account_id, SubscriberSnapshot.day, SubscriberSnapshot.count)
        .where(SubscriberSnapshot.account_id.in_(ids), SubscriberSnapshot.day >= start,
               SubscriberSnapshot.day <= end)).all()
    for account_id, day, count in rows:
        series[account_id][index[day]] = count
    return series


def latest_counts(account_ids: Iterable[int] | None = None) -> dict[int, tuple[date, int]]:
    """Each account's most recent snapshot: account id -> (day, count)."""
    latest = db.select(SubscriberSnapshot.account_id, db.func.max(SubscriberSnapshot.day).label("day")) \
        .group_by(SubscriberSnapshot.account_id)
    if account_ids is not None:
        latest = latest.where(SubscriberSnapshot.account_id.in_(list(account_ids)))
    latest = latest.subquery()
    rows = db.session.execute(
        db.select(SubscriberSnapshot.account_id, SubscriberSnapshot.day, SubscriberSnapshot.count)
        .join(latest, (latest.c.account_id == SubscriberSnapshot.account_id) & (latest.c.day == SubscriberSnapshot.day))
    ).all()
    return {account_id: (day, count) for account_id, day, count in rows}


def change(values: list[int | None]) -> int | None:
    """Last known value minus the first known one in the window (``None`` with fewer than two)."""
    known = [v for v in values if v is not None]
    return known[-1] - known[0] if len(known) >= 2 else None


def carried(values: list[int | None]) -> list[int | None]:
    """Missing days after the first known one take the previous count (for totals only)."""
    out, last = [], None
    for value in values:
        last = value if value is not None else last
        out.append(last)
    return out


def sum_carried(rows: list[list[int | None]]) -> list[int | None]:
    """Day-by-day total of several series. An account missing one day counts with its
    previous count (a partial sum would read as a loss of its subscribers); days before
    every reporting account has a first count in the window are gaps."""
    reporting = [carried(r) for r in rows if any(v is not None for v in r)]
    if not reporting:
        return [None] * (len(rows[0]) if rows else 0)
    return [_total([r[n] for r in reporting]) for n in range(len(reporting[0]))]


def _total(values: list[int | None]) -> int | None:
    """The sum of one day's counts; None (a gap) when any is missing."""
    present = [v for v in values if v is not None]
    return sum(present) if len(present) == len(values) else None
