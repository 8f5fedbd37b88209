"""SLA operations on a ticket: set, pause, resume and stop its deadlines.

The ticket workflow calls them explicitly (``desk.tickets.workflow``: a status change, a
field change), inside the caller's transaction; they only change the ticket's columns (the
caller flushes and commits). Which statuses pause or resume the clock is a trait of the
status (``TicketStatus.pauses_sla``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..models import Ticket, TicketStatus
from ..models.tickets import next_due
from . import clock
from .deadlines import compute_reaction_due, compute_resolution_due, shift_for_pause
from .policies import PolicyTerms, find_policy, terms_for
from .store import get_calendar

S = TicketStatus
# Fields whose change may pick another policy or priority factor.
POLICY_FIELDS = frozenset({"category_id", "department_id", "priority"})


def compute_deadlines(ticket: Ticket) -> None:
    """(Re)compute both deadlines from the creation time, the policy, the priority and the
    working time already paused."""
    calendar = get_calendar()
    terms = terms_for(ticket)
    created = ticket.created_at or clock.now()
    ticket.reaction_due_at = compute_reaction_due(created, terms, ticket.priority or "normal", calendar)
    ticket.resolution_due_at = compute_resolution_due(
        created, terms, ticket.priority or "normal", calendar, timedelta(seconds=ticket.sla_paused_seconds or 0))


def set_opening_deadlines(rows: list[dict[str, Any]]) -> None:
    """Fill in the deadlines of tickets about to be inserted (column values as dicts), so
    the INSERT carries them and no UPDATE follows. One policy lookup per distinct
    (category, department) in the batch: a policy edited meanwhile applies to the next batch."""
    calendar = get_calendar()
    terms: dict[tuple[int | None, int | None], PolicyTerms] = {}
    for row in rows:
        key = (row.get("category_id"), row.get("department_id"))
        if key not in terms:
            terms[key] = PolicyTerms.of(find_policy(*key))
        created = row.get("created_at") or clock.now()
        priority = row.get("priority") or "normal"
        row["reaction_due_at"] = compute_reaction_due(created, terms[key], priority, calendar)
        row["resolution_due_at"] = compute_resolution_due(
            created, terms[key], priority, calendar, timedelta(seconds=row.get("sla_paused_seconds") or 0))
        row["next_due_at"] = next_due(row["reaction_due_at"], row.get("reacted_at"), row["resolution_due_at"],
                                      row.get("sla_paused_at"))


def pause(ticket: Ticket, at: datetime) -> None:
    if ticket.sla_paused_at is None:
        ticket.sla_paused_at = at


def resume(ticket: Ticket, at: datetime) -> None:
    """Move the resolution deadline by the working time the ticket was paused."""
    if ticket.sla_paused_at is None:
        return
    if ticket.resolution_due_at is not None:
        ticket.resolution_due_at, paused = shift_for_pause(
            ticket.resolution_due_at, ticket.sla_paused_at, at, get_calendar())
        ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + int(paused.total_seconds())
    ticket.sla_paused_at = None


def record_reaction(ticket: Ticket, at: datetime) -> None:
    """Stop the reaction clock once; a late reaction breaches the SLA."""
    if ticket.reacted_at is not None:
        return
    ticket.reacted_at = at
    if ticket.reaction_due_at is not None and at > ticket.reaction_due_at:
        ticket.sla_breached = True


def record_first_public_reply(ticket: Ticket, at: datetime) -> None:
    """Called by the replies feature when the city's first public reply is posted."""
    if ticket.first_reply_at is None:
        ticket.first_reply_at = at
    if ticket.reacted_at is None and terms_for(ticket).reaction_stops_at == "first_reply":
        record_reaction(ticket, ticket.first_reply_at)


def on_status_changed(ticket: Ticket, old: TicketStatus, new: TicketStatus) -> None:
    now = clock.now()
    if ticket.resolution_due_at is None and ticket.created_at is not None:
        compute_deadlines(ticket)
    if new is S.TRIAGED and ticket.triaged_at is not None and terms_for(ticket).reaction_stops_at == "routing":
        record_reaction(ticket, ticket.triaged_at)
    if new is S.RESOLVED:
        resolved = ticket.resolved_at or now
        stopped = ticket.sla_paused_at or resolved  # a waiting ticket's clock stopped earlier
        if ticket.resolution_due_at is not None and stopped > ticket.resolution_due_at:
            ticket.sla_breached = True
        pause(ticket, resolved)
    elif new.pauses_sla:
        pause(ticket, now)
    elif new.resumes_sla:
        resume(ticket, now)
    # Neither (closed, merged): the clock stays stopped where it is.


def on_field_changed(ticket: Ticket, field: str) -> None:
    """A changed category, department or priority may pick another policy or factor."""
    if field in POLICY_FIELDS and ticket.is_open:
        compute_deadlines(ticket)


def recompute_open_tickets(batch: int = 500) -> int:
    """Recompute deadlines of all open tickets (a policy or the calendar changed); flushes."""
    from ..extensions import db

    count, last_id = 0, 0
    while True:
        tickets = db.session.scalars(db.select(Ticket).where(Ticket.status.in_(S.open_values()),
                                                             Ticket.id > last_id)
                                     .order_by(Ticket.id).limit(batch)).all()
        if not tickets:
            return count
        for ticket in tickets:
            compute_deadlines(ticket)
        count += len(tickets)
        last_id = tickets[-1].id
        db.session.flush()
