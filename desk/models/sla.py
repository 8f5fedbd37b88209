"""The business calendar, working hours and SLA policies (see ``desk.sla``)."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .org import Category, Department

CALENDAR_KINDS = ("holiday", "day_off", "working", "short")
REACTION_STOPS = ("first_reply", "routing")


class CalendarDay(Model):
    """A day that differs from the weekly schedule (production calendar)."""

    __tablename__ = "calendar_days"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in CALENDAR_KINDS) + ")", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(300), default="")
    # The decree (or "edited by <admin>") the day comes from.
    source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WorkingHours(Model):
    """Working hours of one weekday (0 = Monday); no row means the built-in default."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint("NOT is_working OR (start_time IS NOT NULL AND end_time IS NOT NULL)", name="has_hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int] = mapped_column(unique=True)
    is_working: Mapped[bool] = mapped_column(default=True)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    lunch_start: Mapped[time | None] = mapped_column(Time)
    lunch_end: Mapped[time | None] = mapped_column(Time)


class SlaPolicy(Model):
    """Deadlines for a category, else a department, else the global policy (both ids empty)."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        CheckConstraint("category_id IS NULL OR department_id IS NULL", name="one_scope"),
        CheckConstraint("reaction_minutes > 0 AND resolution_days > 0", name="positive_terms"),
        CheckConstraint("high_factor > 0 AND high_factor <= 1 AND urgent_factor > 0 AND urgent_factor <= 1",
                        name="factors"),
        CheckConstraint("reaction_stops_at IN (" + ", ".join(f"'{k}'" for k in REACTION_STOPS) + ")",
                        name="reaction_stops_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), unique=True)
    # The public-reaction norm (ЦУР): 24 hours, counted on the clock unless told otherwise.
    reaction_minutes: Mapped[int] = mapped_column(default=24 * 60)
    reaction_in_working_hours: Mapped[bool] = mapped_column(default=False)
    reaction_stops_at: Mapped[str] = mapped_column(String(16), default="first_reply")
    resolution_days: Mapped[int] = mapped_column(default=7)
    # Share of the allowed time left for high and urgent tickets.
    high_factor: Mapped[float] = mapped_column(default=0.5)
    urgent_factor: Mapped[float] = mapped_column(default=0.25)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    category: Mapped[Category | None] = relationship("Category")
    department: Mapped[Department | None] = relationship("Department")

    @property
    def scope(self) -> str:
        if self.category_id is not None:
            return "category"
        if self.department_id is not None:
            return "department"
        return "global"
