"""The ticket life cycle: the transition table and the one function that changes status.

Every status change goes through :func:`change_status`, which checks the table, sets
the life-cycle timestamps, writes the audit event and sends the ``status_changed``
signal (the SLA module listens to recompute deadlines). It only flushes: the caller
owns the transaction.
"""
from __future__ import annotations

from blinker import Namespace

from ..extensions import db
from ..models import Ticket, TicketEvent, TicketStatus, User, utcnow

S = TicketStatus

ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.TRIAGED, S.NOT_APPEAL, S.SPAM, S.MERGED}),
    # A department may return a ticket to triage (-> new) with a reason.
    S.TRIAGED: frozenset({S.IN_PROGRESS, S.WAITING_RESIDENT, S.RESOLVED, S.NEW, S.MERGED}),
    S.IN_PROGRESS: frozenset({S.WAITING_RESIDENT, S.RESOLVED, S.NEW, S.MERGED}),
    S.WAITING_RESIDENT: frozenset({S.IN_PROGRESS, S.RESOLVED, S.MERGED}),
    # Reopened when the resident writes again in the same thread, or by staff.
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
    # An operator may undo a wrong "not an appeal" / "spam" decision.
    S.NOT_APPEAL: frozenset({S.NEW}),
    S.SPAM: frozenset({S.NEW}),
    S.MERGED: frozenset(),
}

# Transitions that must say why.
REASON_REQUIRED: frozenset[tuple[TicketStatus, TicketStatus]] = frozenset(
    {(S.TRIAGED, S.NEW), (S.IN_PROGRESS, S.NEW)}
)

signals = Namespace()
#: sent as ``status_changed.send(ticket, old=..., new=..., actor=...)`` after the change
status_changed = signals.signal("ticket-status-changed")


class TransitionError(ValueError):
    """A status change the transition table does not allow."""


def allowed_next(ticket: Ticket) -> list[TicketStatus]:
    return sorted(ALLOWED_TRANSITIONS[TicketStatus(ticket.status)], key=list(TicketStatus).index)


def can_transition(old: TicketStatus | str, new: TicketStatus | str) -> bool:
    return TicketStatus(new) in ALLOWED_TRANSITIONS[TicketStatus(old)]


def record_event(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    *,
    field: str | None = None,
    old: object = None,
    new: object = None,
    reason: str | None = None,
    is_public: bool = False,
) -> TicketEvent:
    """Append one event to the ticket's audit log."""
    event = TicketEvent(
        ticket=ticket,
        actor_id=actor.id if actor is not None else None,
        kind=kind,
        field=field,
        old_value=None if old is None else str(old),
        new_value=None if new is None else str(new),
        reason=reason,
        is_public=is_public,
    )
    db.session.add(event)
    return event


def change_status(
    ticket: Ticket,
    new: TicketStatus | str,
    actor: User | None,
    reason: str | None = None,
) -> TicketEvent:
    """Move ``ticket`` to status ``new`` if the table allows it, and log it."""
    old = TicketStatus(ticket.status)
    new = TicketStatus(new)
    if new not in ALLOWED_TRANSITIONS[old]:
        raise TransitionError(f"cannot change status from {old.value} to {new.value}")
    reason = (reason or "").strip() or None
    if (old, new) in REASON_REQUIRED and not reason:
        raise TransitionError("a reason is required to return a ticket to triage")

    now = utcnow()
    ticket.status = new.value
    if new is S.TRIAGED:
        ticket.triaged_at = ticket.triaged_at or now
    elif new is S.RESOLVED:
        ticket.resolved_at = now
    elif new in (S.CLOSED, S.MERGED, S.NOT_APPEAL, S.SPAM):
        ticket.closed_at = now
    elif new is S.NEW:
        ticket.closed_at = None
        if old in (S.TRIAGED, S.IN_PROGRESS):
            # Returned to triage: the department lets go of it.
            ticket.return_reason = reason
            ticket.department_id = None
            ticket.assignee_id = None
    if old is S.RESOLVED and new is S.IN_PROGRESS:
        ticket.resolved_at = None
    event = record_event(ticket, actor, "status", field="status", old=old.value, new=new.value, reason=reason)
    db.session.flush()
    status_changed.send(ticket, old=old, new=new, actor=actor)
    return event
