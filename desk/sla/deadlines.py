"""Deadlines of a ticket, computed by pure functions from its times, policy and priority.

* Reaction: ``policy.reaction`` (24 h by default) on the clock or in working hours.
* Resolution: ``policy.resolution_days`` standard working days (8 h each by default) of
  working time. Counting working *time* rather than "the end of the n-th day" keeps the
  priority factors (urgent = a quarter) and the pause arithmetic exact.
* Both are multiplied by the priority factor (high, urgent); a pause moves the
  resolution deadline by exactly the working time paused.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..models import Priority, Ticket
from .calendar import ZERO, BusinessCalendar
from .policies import PolicyTerms


def priority_factor(terms: PolicyTerms, priority: str | Priority) -> float:
    value = Priority(priority)
    if value is Priority.URGENT:
        return terms.urgent_factor
    if value is Priority.HIGH:
        return terms.high_factor
    return 1.0


def reaction_allowed(terms: PolicyTerms, priority: str | Priority) -> timedelta:
    return terms.reaction * priority_factor(terms, priority)


def resolution_allowed(terms: PolicyTerms, priority: str | Priority, calendar: BusinessCalendar) -> timedelta:
    """Working time allowed to resolve a ticket of this priority."""
    return calendar.standard_day.length * terms.resolution_days * priority_factor(terms, priority)


def compute_reaction_due(created: datetime, terms: PolicyTerms, priority: str | Priority,
                         calendar: BusinessCalendar) -> datetime:
    allowed = reaction_allowed(terms, priority)
    if terms.reaction_in_working_hours:
        return calendar.add_working_time(created, allowed)
    return created + allowed


def compute_resolution_due(created: datetime, terms: PolicyTerms, priority: str | Priority,
                           calendar: BusinessCalendar, paused: timedelta = ZERO) -> datetime:
    """``created`` plus the allowed working time plus the working time already paused."""
    return calendar.add_working_time(created, resolution_allowed(terms, priority, calendar) + paused)


def shift_for_pause(due: datetime, paused_at: datetime, resumed_at: datetime,
                    calendar: BusinessCalendar) -> tuple[datetime, timedelta]:
    """The deadline after a pause, and the working time the pause lasted."""
    paused = max(calendar.working_time_between(paused_at, resumed_at), ZERO)
    return calendar.add_working_time(due, paused), paused


def time_left(ticket: Ticket, now: datetime, calendar: BusinessCalendar | None = None,
              clock: str = "resolution", terms: PolicyTerms | None = None) -> float | None:
    """Working seconds left until the deadline (negative when overdue).

    ``None`` when the clock does not run: no deadline, the ticket is no longer open, or
    (reaction clock) the reaction already happened. While the ticket waits for the
    resident the resolution clock is frozen at the moment of the pause. A reaction
    counted on the clock returns clock seconds (pass ``terms`` to spare the policy query).
    """
    if not ticket.is_open:
        return None
    calendar = calendar or _current_calendar()
    if clock == "reaction":
        if ticket.reacted_at is not None or ticket.reaction_due_at is None:
            return None
        if terms is None:
            from .policies import terms_for

            terms = terms_for(ticket)
        if not terms.reaction_in_working_hours:
            return (ticket.reaction_due_at - now).total_seconds()
        return calendar.working_time_between(now, ticket.reaction_due_at).total_seconds()
    if ticket.resolution_due_at is None:
        return None
    since = ticket.sla_paused_at or now
    return calendar.working_time_between(since, ticket.resolution_due_at).total_seconds()


def due_today(ticket: Ticket, now: datetime, calendar: BusinessCalendar | None = None) -> bool:
    """Open, not paused, not yet overdue, and the resolution deadline falls on today's local date."""
    due = ticket.resolution_due_at
    if due is None or not ticket.is_open or ticket.sla_paused_at is not None or due < now:
        return False
    calendar = calendar or _current_calendar()
    return calendar.local_date(due) == calendar.local_date(now)


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    due = ticket.resolution_due_at
    return due is not None and ticket.is_open and ticket.sla_paused_at is None and due < now


def _current_calendar() -> BusinessCalendar:
    from .store import get_calendar

    return get_calendar()
