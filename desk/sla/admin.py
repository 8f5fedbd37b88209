"""Admin operations on the calendar, working hours and SLA policies (flush only)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models.sla import CalendarDay, SlaPolicy, WorkingHours
from ..refusals import DeskError
from .calendar import DEFAULT_WEEK, CalendarEntry
from .store import ensure_seeded, invalidate_calendar, stored_entries


@dataclass
class CalendarDiff:
    added: list[CalendarEntry] = field(default_factory=list)
    changed: list[tuple[CalendarEntry, CalendarEntry]] = field(default_factory=list)  # (old, new)
    removed: list[CalendarEntry] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def diff_calendar(entries: list[CalendarEntry]) -> CalendarDiff:
    """What importing ``entries`` would change, year by year: only the years in the file
    are replaced; days of those years missing from the file are removed."""
    ensure_seeded()
    years = {e.day.year for e in entries}
    stored = stored_entries(years)
    incoming = {e.day: e for e in entries}
    diff = CalendarDiff()
    for day, new in sorted(incoming.items()):
        old = stored.get(day)
        if old is None:
            diff.added.append(new)
        elif (old.kind, old.note) != (new.kind, new.note):
            diff.changed.append((old, new))
    diff.removed = [old for day, old in sorted(stored.items()) if day not in incoming]
    return diff


def apply_calendar_diff(diff: CalendarDiff) -> None:
    rows = {r.day: r for r in db.session.scalars(db.select(CalendarDay).where(
        CalendarDay.day.in_([old.day for old, _ in diff.changed] + [e.day for e in diff.removed])))}
    for entry in diff.added:
        db.session.add(CalendarDay(day=entry.day, kind=entry.kind, note=entry.note, source=entry.source))
    for _, new in diff.changed:
        row = rows[new.day]
        row.kind, row.note, row.source = new.kind, new.note, new.source
    for entry in diff.removed:
        db.session.delete(rows[entry.day])
    db.session.flush()
    invalidate_calendar()


def set_day(day: date, kind: str | None, note: str, source: str) -> None:
    """Set a day's kind, or return it to the weekly schedule (``kind`` None)."""
    ensure_seeded()
    row = db.session.scalars(db.select(CalendarDay).where(CalendarDay.day == day)).first()
    if kind is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(CalendarDay(day=day, kind=kind, note=note, source=source))
    else:
        row.kind, row.note, row.source = kind, note, source
    db.session.flush()
    invalidate_calendar()


def year_days(year: int) -> dict[date, CalendarDay]:
    ensure_seeded()
    return {r.day: r for r in db.session.scalars(db.select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))}


def working_hours_rows() -> list[dict[str, Any]]:
    """One dict per weekday for the form: stored values over the defaults."""
    stored = {r.weekday: r for r in db.session.scalars(db.select(WorkingHours))}
    rows = []
    for weekday in range(7):
        row = stored.get(weekday)
        default = DEFAULT_WEEK.get(weekday)
        if row is not None:
            rows.append({"weekday": weekday, "is_working": row.is_working, "start_time": row.start_time,
                         "end_time": row.end_time, "lunch_start": row.lunch_start, "lunch_end": row.lunch_end})
        else:
            rows.append({"weekday": weekday, "is_working": default is not None,
                         "start_time": default.start if default else None,
                         "end_time": default.end if default else None,
                         "lunch_start": default.lunch_start if default else None,
                         "lunch_end": default.lunch_end if default else None})
    return rows


class HoursError(DeskError):
    """Working hours that cannot be saved."""


def _lunch_inside(start: time | None, end: time | None, lunch_start: time | None, lunch_end: time | None) -> bool:
    """No lunch break at all, or one strictly inside the working hours."""
    if lunch_start is None or lunch_end is None:
        return lunch_start is None and lunch_end is None
    return start is not None and end is not None and start < lunch_start < lunch_end < end


def save_working_hours(weekday: int, is_working: bool, start: time | None, end: time | None,
                       lunch_start: time | None, lunch_end: time | None) -> None:
    if is_working and (start is None or end is None or start >= end):
        raise HoursError(_l("a working day needs a start before its end"))
    if not _lunch_inside(start, end, lunch_start, lunch_end):
        raise HoursError(_l("the lunch break must lie inside the working hours"))
    row = db.session.scalars(db.select(WorkingHours).where(WorkingHours.weekday == weekday)).first()
    if row is None:
        row = WorkingHours(weekday=weekday)
        db.session.add(row)
    row.is_working = is_working
    row.start_time, row.end_time = (start, end) if is_working else (None, None)
    row.lunch_start, row.lunch_end = (lunch_start, lunch_end) if is_working else (None, None)
    db.session.flush()
    invalidate_calendar()


def list_policies() -> list[SlaPolicy]:
    return list(db.session.scalars(db.select(SlaPolicy).order_by(
        SlaPolicy.category_id.is_not(None), SlaPolicy.department_id.is_not(None), SlaPolicy.id)))
