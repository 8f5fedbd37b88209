"""Escalation: warn at 75% of the allowed time, mark and report a breach.

Safe to run any number of times: a notice is unique per (user, ticket, kind, level),
and the ticket's ``sla_breached``/``escalation_level`` only ever go up. Paused and
closed tickets are skipped (their clocks stand still).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _

from ..extensions import db
from ..models import Role, Ticket, TicketStatus, User
from ..models.notifications import Notification
from ..notify.services import NoticeKey, known_notices, notify
from ..tickets.workflow import record_event
from .calendar import ZERO, BusinessCalendar
from .policies import PolicyTerms, find_policy
from .store import get_calendar

WARN_SHARE = 0.75
WARNED, BREACHED = 1, 2
BATCH = 500


@dataclass
class EscalationResult:
    warned: int = 0
    breached: int = 0
    notification_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ClockState:
    clock: str  # "reaction" | "resolution"
    used: float  # share of the allowed time used
    overdue: bool


def clock_states(ticket: Ticket, terms: PolicyTerms, now: datetime, calendar: BusinessCalendar) -> list[ClockState]:
    """Where the ticket's running clocks stand at ``now`` (pure)."""
    states = []
    created = ticket.created_at
    if ticket.reacted_at is None and ticket.reaction_due_at is not None:
        due = ticket.reaction_due_at
        if now > due:  # overdue: no need for the share (the common case of a backlog)
            states.append(ClockState("reaction", 1.0, True))
        elif terms.reaction_in_working_hours:
            allowed, used = calendar.working_time_between(created, due), calendar.working_time_between(created, now)
            states.append(ClockState("reaction", _share(used, allowed), False))
        else:
            states.append(ClockState("reaction", _share(now - created, due - created), False))
    if ticket.resolution_due_at is not None and ticket.sla_paused_at is None:
        due = ticket.resolution_due_at
        if now > due:
            states.append(ClockState("resolution", 1.0, True))
        else:
            allowed = calendar.working_time_between(created, due) - timedelta(seconds=ticket.sla_paused_seconds or 0)
            left = calendar.working_time_between(now, due)
            states.append(ClockState("resolution", _share(allowed - left, allowed), False))
    return states


def _share(used: timedelta, allowed: timedelta) -> float:
    if allowed <= ZERO:
        return 1.0
    return used / allowed


class _People:
    """Recipients, loaded once per run."""

    def __init__(self) -> None:
        self._by_role: dict[str, list[User]] = {}
        self._heads: dict[int, list[User]] = {}

    def role(self, role: Role) -> list[User]:
        if role.value not in self._by_role:
            self._by_role[role.value] = list(db.session.scalars(
                db.select(User).where(User.role == role.value, User.is_active_user.is_(True)).order_by(User.id)))
        return self._by_role[role.value]

    def heads(self, department_id: int | None) -> list[User]:
        if department_id is None:
            return []
        if department_id not in self._heads:
            self._heads[department_id] = [u for u in self.role(Role.DEPARTMENT_HEAD)
                                          if u.department_id == department_id]
        return self._heads[department_id]

    def for_warning(self, ticket: Ticket) -> list[User]:
        people = list(self.heads(ticket.department_id))
        if ticket.assignee is not None and ticket.assignee.is_active_user:
            people.insert(0, ticket.assignee)
        # Not routed yet: the reaction is the operators' to make.
        return _unique(people or self.role(Role.OPERATOR))

    def for_breach(self, ticket: Ticket) -> list[User]:
        people = list(self.heads(ticket.department_id)) or list(self.role(Role.OPERATOR))
        return _unique(people + self.role(Role.MANAGER))


def _unique(users: list[User]) -> list[User]:
    seen: set[int] = set()
    unique = []
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            unique.append(user)
    return unique


def notice_text(ticket: Ticket, clock: str, level: int) -> str:
    """The notice in the current locale."""
    due = ticket.reaction_due_at if clock == "reaction" else ticket.resolution_due_at
    if level >= BREACHED:
        what = _("reaction deadline missed") if clock == "reaction" else _("resolution deadline missed")
    else:
        what = _("reaction deadline is near") if clock == "reaction" else _("resolution deadline is near")
    notice: str = _("Ticket #%(id)s «%(subject)s»: %(what)s (due %(due)s).", id=ticket.id,
                    subject=ticket.subject[:80], what=what, due=format_datetime(due, "dd.MM.yyyy HH:mm"))
    return notice


def _notify_all(ticket: Ticket, users: list[User], clock: str, level: int, known: set[NoticeKey],
                new: list[Notification]) -> None:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    kind = f"{clock}_{'breach' if level >= BREACHED else 'warning'}"
    for user in users:
        if (user.id, ticket.id, kind, level) in known:
            continue  # render the text only for notices not sent yet
        with force_locale(user.locale or default):
            text = notice_text(ticket, clock, level)
        note = notify(user, ticket, kind, level, text, known)
        if note is not None:
            new.append(note)


def escalate_ticket(ticket: Ticket, terms: PolicyTerms, now: datetime, calendar: BusinessCalendar,
                    people: _People, result: EscalationResult, known: set[NoticeKey],
                    new: list[Notification]) -> None:
    for state in clock_states(ticket, terms, now, calendar):
        if state.overdue:
            # Assign only on change: an untouched ticket costs nothing at flush.
            if not ticket.sla_breached or (ticket.escalation_level or 0) < BREACHED:
                record_event(ticket, None, "sla_breach", field=state.clock)
                result.breached += 1
                ticket.sla_breached = True
                ticket.escalation_level = BREACHED
            _notify_all(ticket, people.for_breach(ticket), state.clock, BREACHED, known, new)
        elif state.used >= WARN_SHARE:
            if (ticket.escalation_level or 0) < WARNED:
                record_event(ticket, None, "sla_warning", field=state.clock)
                result.warned += 1
                ticket.escalation_level = WARNED
            _notify_all(ticket, people.for_warning(ticket), state.clock, WARNED, known, new)


def escalate_open_tickets(now: datetime, batch: int = BATCH) -> EscalationResult:
    """Walk the open, running tickets in id order (keyset batches) and escalate; flushes only."""
    calendar = get_calendar()
    people = _People()
    terms_cache: dict[tuple[int | None, int | None], PolicyTerms] = {}
    result = EscalationResult()
    last_id = 0
    while True:
        tickets = db.session.scalars(
            db.select(Ticket).where(Ticket.status.in_(TicketStatus.open_values()), Ticket.sla_paused_at.is_(None),
                                    Ticket.id > last_id, Ticket.resolution_due_at.is_not(None))
            .order_by(Ticket.id).limit(batch)).all()
        if not tickets:
            break
        known = known_notices([t.id for t in tickets])
        new: list[Notification] = []
        with db.session.no_autoflush:
            for ticket in tickets:
                key = (ticket.category_id, ticket.department_id)
                if key not in terms_cache:
                    terms_cache[key] = PolicyTerms.of(find_policy(*key))
                escalate_ticket(ticket, terms_cache[key], now, calendar, people, result, known, new)
        last_id = tickets[-1].id
        db.session.flush()
        result.notification_ids.extend(n.id for n in new)
    return result


def email_subject(note: Notification) -> str:
    return note.text.split("\n", 1)[0][:150]
