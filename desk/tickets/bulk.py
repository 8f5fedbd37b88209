"""One action on many tickets from the queue, in one transaction.

Which actions work in bulk, how each applies to one ticket and how its summary reads
is declared on the action (``desk.tickets.actions.ACTIONS``, its ``bulk``). Tickets the
action cannot apply to are skipped with a reason, never a failure of the whole batch.
Every refusal is checked before a ticket is touched (permissions first, then the
services, which validate before they change anything), so a skipped ticket carries no
half-done change into the commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..auth.scope import ticket_scope
from ..extensions import db
from ..i18n import gettext as _
from ..models import Ticket, User
from .actions import ACTIONS, Bulk, BulkRequest
from .permissions import refusal
from .services import TicketError
from .workflow import TransitionError

__all__ = ["BulkRequest", "BulkResult", "apply_bulk", "summary"]


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _bulk_of(request: BulkRequest) -> Bulk:
    bulk = ACTIONS[request.action].bulk if request.action in ACTIONS else None
    if bulk is None:  # the form limits the choices; never silently ignore a new one
        raise ValueError(f"unknown bulk action {request.action}")
    return bulk


def apply_bulk(request: BulkRequest, user: User) -> BulkResult:
    """Apply ``request.action`` to each ticket ``user`` may see; flush only."""
    bulk = _bulk_of(request)
    if bulk.check is not None:
        bulk.check(request)
    ids = sorted(set(request.ticket_ids))
    tickets = {
        t.id: t
        for t in db.session.scalars(
            db.select(Ticket).where(Ticket.id.in_(ids), ticket_scope(user)).order_by(Ticket.id).with_for_update()
        )
    }
    result = BulkResult()
    for ticket_id in ids:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            result.skipped.append(_("#%(id)s not found", id=ticket_id))
            continue
        reason = refusal(user, request.action, ticket)
        if reason is None:
            try:
                bulk.apply(ticket, request, user)
            except (TicketError, TransitionError) as exc:
                reason = str(exc)
        if reason is None:
            result.done.append(ticket_id)
        else:
            result.skipped.append(reason)
    db.session.flush()
    return result


def summary(request: BulkRequest, result: BulkResult) -> str:
    """"3 routed, 1 skipped: #12 is resolved"."""
    target = request.target.id if request.target is not None else None
    text = _bulk_of(request).done(len(result.done), target)
    if result.skipped:
        text += ", " + _("%(num)s skipped: %(reasons)s", num=len(result.skipped), reasons="; ".join(result.skipped))
    return text
