"""The ticket life cycle: the one function that changes status, and audited field changes.

Every status change goes through :func:`change_status`, which checks the transition table
(declared on :class:`~desk.models.TicketStatus`, each status's ``next``), sets the
life-cycle timestamps, writes the audit event and then calls, explicitly and in this
order, the merged threads' department rule and the SLA (:func:`desk.sla.services.
on_status_changed`). The ``status_changed`` and ``ticket_changed`` signals are sent
afterwards for optional listeners only; nothing the desk needs hangs on them. Everything
here only flushes: the caller owns the transaction.
"""
from __future__ import annotations

from typing import Any

from blinker import Namespace

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Ticket, TicketEvent, TicketStatus, User, utcnow
from ..refusals import DeskError
from ..sla import services as sla

S = TicketStatus

#: status -> the statuses it may move to (derived from the enum's ``next`` traits)
ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {s: s.next_statuses for s in TicketStatus}

# Transitions that must say why.
REASON_REQUIRED: frozenset[tuple[TicketStatus, TicketStatus]] = frozenset(
    {(S.TRIAGED, S.NEW), (S.IN_PROGRESS, S.NEW)}
)

signals = Namespace()
#: sent as ``status_changed.send(ticket, old=..., new=..., actor=...)`` after the change
#: (optional listeners only: the SLA is called explicitly)
status_changed = signals.signal("ticket-status-changed")
#: sent as ``ticket_changed.send(ticket, field=..., old=..., new=...)`` (optional listeners only)
ticket_changed = signals.signal("ticket-changed")


class TransitionError(DeskError):
    """A status change the transition table does not allow."""

    code = "transition_not_allowed"
    status = 409


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


def set_field(ticket: Ticket, actor: User | None, field: str, value: Any,
              shown_old: object = None, shown_new: object = None) -> bool:
    """Change one column with an audit event; the SLA recomputes when a policy field moved."""
    old = getattr(ticket, field)
    if old == value:
        return False
    setattr(ticket, field, value)
    record_event(ticket, actor, "field", field=field,
                 old=shown_old if shown_old is not None else old,
                 new=shown_new if shown_new is not None else value)
    sla.on_field_changed(ticket, field)
    ticket_changed.send(ticket, field=field, old=old, new=value)
    return True


def follow_root_department(root: Ticket, actor: User | None) -> None:
    """Tickets merged into ``root`` stay in its department.

    The merge rule: an incident lives in one department. Whoever works it sees every
    resident thread merged into it (and their outbox rows); a department it left sees
    none of them any more.
    """
    for child in db.session.scalars(db.select(Ticket).where(Ticket.merged_into_id == root.id)):
        join_department(child, root, actor)


def join_department(ticket: Ticket, root: Ticket, actor: User | None) -> None:
    if ticket.department_id != root.department_id:
        set_field(ticket, actor, "department_id", root.department_id,
                  shown_old=ticket.department.name if ticket.department else None,
                  shown_new=root.department.name if root.department else None)
        ticket.department = root.department


def change_status(
    ticket: Ticket,
    new: TicketStatus | str,
    actor: User | None,
    reason: str | None = None,
) -> TicketEvent:
    """Move ``ticket`` to status ``new`` if the table allows it, log it, and let the
    merged threads and the SLA follow."""
    old = TicketStatus(ticket.status)
    new = TicketStatus(new)
    if new not in ALLOWED_TRANSITIONS[old]:
        raise TransitionError(_l("cannot change status from %(old)s to %(new)s",
                                 old=_l(old.label), new=_l(new.label)))
    reason = (reason or "").strip() or None
    returned = (old, new) in REASON_REQUIRED
    if returned and not reason:
        raise TransitionError(_l("a reason is required to return a ticket to triage"))

    now = utcnow()
    ticket.status = new.value
    if new is S.TRIAGED:
        ticket.triaged_at = ticket.triaged_at or now
    elif new is S.RESOLVED:
        ticket.resolved_at = now
    elif new.closes:
        ticket.closed_at = now
    elif new is S.NEW:
        ticket.closed_at = None
        if returned:
            # Returned to triage: the department lets go of it.
            ticket.return_reason = reason
            ticket.department_id = None
            ticket.assignee_id = None
    if old is S.RESOLVED and new is S.IN_PROGRESS:
        ticket.resolved_at = None
    event = record_event(ticket, actor, "status", field="status", old=old.value, new=new.value, reason=reason)
    db.session.flush()
    if returned:
        # The department let go of it: the threads merged into it go too.
        follow_root_department(ticket, actor)
    sla.on_status_changed(ticket, old, new)
    status_changed.send(ticket, old=old, new=new, actor=actor)
    return event
