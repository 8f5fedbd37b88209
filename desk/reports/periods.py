"""Report periods: date ranges in the city's time zone, presets, and week/month buckets.

A period is a half-open range of local dates ``[start, end)``; its UTC bounds are the
local midnights converted to UTC, so "this week" means Monday 00:00 in the city.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

PRESETS = ("30d", "week", "month", "quarter", "year")
#: the last 30 days: "this month" on the 2nd would cover two days
DEFAULT_PRESET = "30d"
MAX_DAYS = 366 * 5  # a bound so that a typo cannot ask for ten thousand buckets


@dataclass(frozen=True)
class Period:
    start: date  # first local day, inclusive
    end: date  # local day after the last one (exclusive)
    preset: str = ""

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return local_midnight(self.start, tz), local_midnight(self.end, tz)

    def to_args(self) -> dict[str, str]:
        if self.preset:
            return {"period": self.preset}
        return {"from": self.start.isoformat(), "to": self.last_day.isoformat()}


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def preset_period(preset: str, today: date) -> Period:
    """The last 30 days, or the current week / month / quarter / year, up to and including today."""
    if preset == "30d":
        start = today - timedelta(days=29)
    elif preset == "week":
        start = week_start(today)
    elif preset == "month":
        start = month_start(today)
    elif preset == "quarter":
        start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    elif preset == "year":
        start = date(today.year, 1, 1)
    else:
        raise ValueError(preset)
    return Period(start, today + timedelta(days=1), preset)


def previous_week(today: date) -> Period:
    """The last full Monday–Sunday week before ``today`` (the weekly digest's period)."""
    end = week_start(today)
    return Period(end - timedelta(days=7), end)


def parse_period(args, today: date) -> tuple[Period, dict[str, Any]]:
    """The period asked for by ``from``/``to`` (local dates) or ``period`` (a preset);
    returns it and the errors found (falling back to the default preset)."""
    errors: dict[str, Any] = {}  # field -> a lazily translated message
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if raw_from or raw_to:
        try:
            start = date.fromisoformat(raw_from) if raw_from else today
            last = date.fromisoformat(raw_to) if raw_to else today
        except ValueError:
            errors["from"] = _l("dates must look like 2025-03-31")
        else:
            if last < start:
                errors["to"] = _l("must not be before the start")
            elif (last - start).days > MAX_DAYS:
                errors["to"] = _l("at most %(days)s days", days=MAX_DAYS)
            else:
                return Period(start, last + timedelta(days=1)), errors
    preset = (args.get("period") or DEFAULT_PRESET).strip()
    if preset not in PRESETS:
        errors["period"] = _l("must be one of %(values)s", values=", ".join(PRESETS))
        preset = DEFAULT_PRESET
    return preset_period(preset, today), errors


def buckets(period: Period, unit: str) -> list[Period]:
    """Consecutive weeks (Monday-based) or calendar months overlapping ``period``,
    clipped to it."""
    out = []
    cursor = week_start(period.start) if unit == "week" else month_start(period.start)
    while cursor < period.end:
        nxt = cursor + timedelta(days=7) if unit == "week" else add_months(cursor, 1)
        out.append(Period(max(cursor, period.start), min(nxt, period.end)))
        cursor = nxt
    return out


def constant_offset_spans(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, datetime, int]]:
    """Split the UTC range ``[start, end)`` where the zone's UTC offset changes; each
    piece comes with its offset in seconds (one piece for Asia/Yakutsk). Within a piece
    the local date is plain arithmetic on the UTC time, on every database."""
    spans = []
    cursor = start
    while cursor < end:
        offset = _offset(cursor, tz)
        lo = cursor
        hi = min(cursor + timedelta(days=1), end)
        # Step a day at a time while the offset holds, then bisect the change exactly.
        while _offset(hi, tz) == offset and hi < end:
            lo, hi = hi, min(hi + timedelta(days=1), end)
        if _offset(hi, tz) != offset:
            while hi - lo > timedelta(microseconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if _offset(mid, tz) == offset else (lo, mid)
            hi = min(hi, end)
        spans.append((cursor, hi, int(offset.total_seconds())))
        cursor = hi
    return spans


def _offset(moment: datetime, tz: ZoneInfo) -> timedelta:
    return moment.astimezone(tz).utcoffset() or timedelta(0)
