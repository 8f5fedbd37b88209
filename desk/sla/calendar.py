"""The city's business calendar: working-time arithmetic, pure (no database, no app).

A :class:`BusinessCalendar` knows the city's time zone, the working hours of each
weekday (with a lunch break) and the production calendar's exceptions (holidays,
transferred days off, working Saturdays, shortened pre-holiday days). All arguments
and results are aware UTC datetimes; days are cut into working intervals in local
time and cached, so the arithmetic walks whole days, never minutes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HOLIDAY = "holiday"
DAY_OFF = "day_off"
WORKING = "working"
SHORT = "short"
DAY_KINDS = (HOLIDAY, DAY_OFF, WORKING, SHORT)
NON_WORKING = frozenset({HOLIDAY, DAY_OFF})

DEFAULT_TIMEZONE = "Asia/Yakutsk"
BUNDLED_CALENDAR = Path(__file__).resolve().parent / "data" / "production_calendar_ru.json"
# A calendar without a single working day in this many days is a configuration error.
MAX_SEARCH_DAYS = 366 * 10
ZERO = timedelta(0)


@dataclass(frozen=True)
class DaySchedule:
    """Working hours of one day in local wall-clock time, with an optional lunch break."""

    start: time
    end: time
    lunch_start: time | None = None
    lunch_end: time | None = None

    def intervals(self) -> list[tuple[int, int]]:
        """Working intervals as (start, end) seconds after local midnight."""
        start, end = _seconds(self.start), _seconds(self.end)
        if self.lunch_start and self.lunch_end:
            ls, le = _seconds(self.lunch_start), _seconds(self.lunch_end)
            if start < ls < le < end:
                return [(start, ls), (le, end)]
        return [(start, end)] if start < end else []

    @property
    def length(self) -> timedelta:
        return timedelta(seconds=sum(e - s for s, e in self.intervals()))


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


DEFAULT_DAY = DaySchedule(time(9), time(18), time(13), time(14))
DEFAULT_WEEK: dict[int, DaySchedule | None] = {0: DEFAULT_DAY, 1: DEFAULT_DAY, 2: DEFAULT_DAY, 3: DEFAULT_DAY,
                                               4: DEFAULT_DAY, 5: None, 6: None}


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return value.astimezone(UTC)


class BusinessCalendar:
    """Working time of the city.

    ``week`` maps weekday (0 = Monday) to its schedule or ``None`` for a day off;
    ``days`` maps a date to one of :data:`DAY_KINDS`. A working weekend day uses the
    standard (first working weekday's) schedule; a shortened day ends ``short_by`` earlier.
    """

    def __init__(
        self,
        tz: str = DEFAULT_TIMEZONE,
        week: dict[int, DaySchedule | None] | None = None,
        days: dict[date, str] | None = None,
        short_by: timedelta = timedelta(hours=1),
    ) -> None:
        self.tz = ZoneInfo(tz)
        self.week = dict(DEFAULT_WEEK if week is None else week)
        self.days = dict(days or {})
        self.short_by = short_by
        working = [s for _, s in sorted(self.week.items()) if s is not None and s.intervals()]
        self.standard_day: DaySchedule = working[0] if working else DEFAULT_DAY
        self._cache: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    # -- one day --------------------------------------------------------------
    def local_intervals(self, day: date) -> list[tuple[int, int]]:
        """Working intervals of ``day`` in seconds after local midnight."""
        kind = self.days.get(day)
        if kind in NON_WORKING:
            return []
        schedule = self.week.get(day.weekday())
        if schedule is None or not schedule.intervals():
            if kind not in (WORKING, SHORT):
                return []
            schedule = self.standard_day
        intervals = schedule.intervals()
        if kind == SHORT:
            intervals = _cut_end(intervals, int(self.short_by.total_seconds()))
        return intervals

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """Working intervals of the local ``day`` as aware UTC datetimes (cached)."""
        cached = self._cache.get(day)
        if cached is None:
            midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001 — local wall time, _to_utc places it
            cached = tuple(
                (self._to_utc(midnight + timedelta(seconds=s)), self._to_utc(midnight + timedelta(seconds=e)))
                for s, e in self.local_intervals(day)
            )
            self._cache[day] = cached
        return cached

    def _to_utc(self, local_naive: datetime) -> datetime:
        return local_naive.replace(tzinfo=self.tz).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return _utc(moment).astimezone(self.tz).date()

    def is_working_day(self, day: date) -> bool:
        return bool(self.intervals(day))

    def working_length(self, day: date) -> timedelta:
        return sum((e - s for s, e in self.intervals(day)), ZERO)

    # -- arithmetic -----------------------------------------------------------
    def is_working_moment(self, moment: datetime) -> bool:
        moment = _utc(moment)
        return any(s <= moment < e for s, e in self.intervals(self.local_date(moment)))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest moment at which ``amount`` of working time has passed since ``start``."""
        if amount < ZERO:
            raise ValueError("working time to add must not be negative")
        start = _utc(start)
        if amount == ZERO:
            return start
        remaining = amount
        day = self.local_date(start)
        for _ in range(MAX_SEARCH_DAYS):
            for s, e in self.intervals(day):
                if e <= start:
                    continue
                s = max(s, start)
                if remaining <= e - s:
                    return s + remaining
                remaining -= e - s
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time ahead")

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        a, b = _utc(a), _utc(b)
        if b < a:
            return -self.working_time_between(b, a)
        total = ZERO
        day, last = self.local_date(a), self.local_date(b)
        while day <= last:
            for s, e in self.intervals(day):
                overlap = min(e, b) - max(s, a)
                if overlap > ZERO:
                    total += overlap
            day += timedelta(days=1)
        return total

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The end of the ``n``-th working day after the local day of ``start``
        (the way a term "within n working days" expires); ``n == 0`` returns ``start``."""
        if n < 0:
            raise ValueError("n must not be negative")
        start = _utc(start)
        if n == 0:
            return start
        day = self.local_date(start)
        for _ in range(MAX_SEARCH_DAYS):
            day += timedelta(days=1)
            spans = self.intervals(day)
            if spans:
                n -= 1
                if n == 0:
                    return spans[-1][1]
        raise ValueError("the calendar has no working days ahead")


def _cut_end(intervals: list[tuple[int, int]], seconds: int) -> list[tuple[int, int]]:
    """Remove ``seconds`` of working time from the end of the day (a shortened day)."""
    result = list(intervals)
    while seconds > 0 and result:
        s, e = result[-1]
        if e - s > seconds:
            result[-1] = (s, e - seconds)
            break
        seconds -= e - s
        result.pop()
    return result


# -- the production calendar file ----------------------------------------------
@dataclass(frozen=True)
class CalendarEntry:
    day: date
    kind: str
    note: str = ""
    source: str = ""


def read_calendar_file(path: str | Path = BUNDLED_CALENDAR) -> list[CalendarEntry]:
    """Entries of a production-calendar JSON file (see ``data/production_calendar_ru.json``).

    Accepts either ``{"years": [{"year", "source", "days": [...]}, ...]}`` or a single
    year object. Raises ``ValueError`` on unknown kinds or dates outside their year.
    """
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    years = data.get("years", [data])
    entries: list[CalendarEntry] = []
    for year in years:
        source = year.get("source", "")
        if year.get("status") == "provisional":
            source = source if source.upper().startswith("PROVISIONAL") else f"PROVISIONAL: {source}"
        for item in year["days"]:
            day = date.fromisoformat(item["date"])
            if item["kind"] not in DAY_KINDS:
                raise ValueError(f"{day}: unknown kind {item['kind']!r}")
            if "year" in year and day.year != int(year["year"]):
                raise ValueError(f"{day} is listed under year {year['year']}")
            entries.append(CalendarEntry(day, item["kind"], item.get("note", ""), source))
    return entries


def calendar_from_file(path: str | Path = BUNDLED_CALENDAR, tz: str = DEFAULT_TIMEZONE,
                       week: dict[int, DaySchedule | None] | None = None) -> BusinessCalendar:
    """A calendar built straight from a JSON file (tests, and before the table is filled)."""
    return BusinessCalendar(tz, week, {e.day: e.kind for e in read_calendar_file(path)})
