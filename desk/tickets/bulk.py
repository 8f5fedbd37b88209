"""One action on many tickets from the queue, in one transaction.

Tickets the action cannot apply to are skipped with a reason, never a failure of the
whole batch. Every refusal is checked before a ticket is touched (permissions first,
then the services, which validate before they change anything), so a skipped ticket
carries no half-done change into the commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..auth.scope import ticket_scope
from ..extensions import db
from ..models import Category, Department, Ticket, TicketStatus, User
from . import actions
from .permissions import refusal
from .services import TicketError
from .workflow import TransitionError, change_status


@dataclass
class BulkRequest:
    action: str
    ticket_ids: list[int]
    department: Department | None = None
    category: Category | None = None
    priority: str | None = None
    target: Ticket | None = None


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _apply_one(ticket: Ticket, request: BulkRequest, user: User) -> None:
    if request.action == "route":
        actions.appeal(ticket, user, request.department, request.category, request.priority)
    elif request.action == "not_appeal":
        change_status(ticket, TicketStatus.NOT_APPEAL, user)
    elif request.action == "spam":
        change_status(ticket, TicketStatus.SPAM, user)
    elif request.action == "merge":
        if ticket.id == request.target.id:
            raise TicketError(_("#%(id)s is the target", id=ticket.id))
        actions.merge_into(ticket, user, request.target)
    else:  # the form limits the choices; never silently ignore a new one
        raise ValueError(f"unknown bulk action {request.action}")


def apply_bulk(request: BulkRequest, user: User) -> BulkResult:
    """Apply ``request.action`` to each ticket ``user`` may see; flush only."""
    if request.action == "route":
        actions.check_routable(request.department, request.category)
    if request.action == "merge" and request.target is None:
        raise TicketError(_("Give the number of the ticket to merge into."))
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
                _apply_one(ticket, request, user)
            except (TicketError, TransitionError) as exc:
                reason = str(exc)
        if reason is None:
            result.done.append(ticket_id)
        else:
            result.skipped.append(reason)
    db.session.flush()
    return result


DONE_MESSAGES = {
    "route": lambda n, target: _("%(num)s routed", num=n),
    "not_appeal": lambda n, target: _("%(num)s marked as not an appeal", num=n),
    "spam": lambda n, target: _("%(num)s marked as spam", num=n),
    "merge": lambda n, target: _("%(num)s merged into #%(target)s", num=n, target=target),
}


def summary(request: BulkRequest, result: BulkResult) -> str:
    """"3 routed, 1 skipped: #12 is resolved"."""
    target = request.target.id if request.target is not None else None
    text = DONE_MESSAGES[request.action](len(result.done), target)
    if result.skipped:
        text += ", " + _("%(num)s skipped: %(reasons)s", num=len(result.skipped), reasons="; ".join(result.skipped))
    return text
