"""The business calendar as the database holds it: built from the tables, cached per
process for a short while, and filled from the bundled production calendar on first use."""
from __future__ import annotations

import logging
import time as _time
from datetime import date

from flask import current_app

from ..extensions import db
from ..models.sla import CalendarDay, WorkingHours
from .calendar import BUNDLED_CALENDAR, DEFAULT_WEEK, BusinessCalendar, CalendarEntry, DaySchedule, read_calendar_file

log = logging.getLogger(__name__)

# Another process (the web or the worker) may edit the calendar; rebuild at least this often.
CACHE_SECONDS = 60
_CACHE_KEY = "desk_business_calendar"


def ensure_seeded() -> int:
    """Load the bundled production calendar into an empty table (flush only); returns rows added."""
    if db.session.scalar(db.select(CalendarDay.id).limit(1)) is not None:
        return 0
    entries = read_calendar_file(BUNDLED_CALENDAR)
    db.session.add_all(CalendarDay(day=e.day, kind=e.kind, note=e.note, source=e.source) for e in entries)
    db.session.flush()
    log.info("production calendar loaded: %d days", len(entries))
    return len(entries)


def week_schedule() -> dict[int, DaySchedule | None]:
    """The weekly schedule: stored rows over the built-in Mon–Fri 9–18, lunch 13–14."""
    week = dict(DEFAULT_WEEK)
    for row in db.session.scalars(db.select(WorkingHours)):
        if row.is_working and row.start_time and row.end_time:
            week[row.weekday] = DaySchedule(row.start_time, row.end_time, row.lunch_start, row.lunch_end)
        else:
            week[row.weekday] = None
    return week


def build_calendar() -> BusinessCalendar:
    ensure_seeded()
    days = {d: k for d, k in db.session.execute(db.select(CalendarDay.day, CalendarDay.kind))}
    return BusinessCalendar(current_app.config.get("DESK_TIMEZONE") or "Asia/Yakutsk", week_schedule(), days)


def get_calendar() -> BusinessCalendar:
    """The city's calendar (cached for :data:`CACHE_SECONDS` in this process)."""
    cached = current_app.extensions.get(_CACHE_KEY)
    if cached is not None and _time.monotonic() - cached[0] < CACHE_SECONDS:
        calendar: BusinessCalendar = cached[1]  # app.extensions holds Any
        return calendar
    calendar = build_calendar()
    current_app.extensions[_CACHE_KEY] = (_time.monotonic(), calendar)
    return calendar


def invalidate_calendar() -> None:
    current_app.extensions.pop(_CACHE_KEY, None)


def stored_entries(years: set[int] | None = None) -> dict[date, CalendarEntry]:
    query = db.select(CalendarDay)
    rows = db.session.scalars(query).all()
    return {r.day: CalendarEntry(r.day, r.kind, r.note, r.source) for r in rows
            if years is None or r.day.year in years}
