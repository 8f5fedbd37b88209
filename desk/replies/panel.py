"""What the ticket card's reply panel shows: canned texts, counters, replies and their rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import Ticket, User
from ..models.replies import CannedReply, Reply, ReplyDelivery
from ..tickets import lookups
from . import services
from . import text as texts


class Canned(NamedTuple):
    """A canned reply as the panel offers it (cached; see ``tickets.lookups``)."""
    id: int
    title: str
    body: str
    department_id: int | None
    category_id: int | None


@dataclass
class Panel:
    can_write: bool
    is_approver: bool
    needs_approval: bool
    canned: list[Canned] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)


def _active_canned() -> list[Canned]:
    def compute() -> list[list[Any]]:
        return [list(row) for row in db.session.execute(
            db.select(CannedReply.id, CannedReply.title, CannedReply.body, CannedReply.department_id,
                      CannedReply.category_id)
            .where(CannedReply.is_active.is_(True)).order_by(CannedReply.title))]

    return [Canned(*row) for row in lookups.cached("canned", compute)]


def canned_for(ticket: Ticket) -> list[Canned]:
    """Active canned replies for the ticket's department and category (empty = everywhere)."""
    return [c for c in _active_canned()
            if c.department_id in (None, ticket.department_id) and c.category_id in (None, ticket.category_id)]


def replies_of(ticket: Ticket) -> list[Reply]:
    """The ticket's replies with their authors and outbox rows (no query per reply)."""
    return list(db.session.scalars(
        db.select(Reply).where(Reply.ticket_id == ticket.id).order_by(Reply.id)
        .options(joinedload(Reply.author),
                 selectinload(Reply.deliveries).joinedload(ReplyDelivery.ticket))))


def load_panel(ticket: Ticket, user: User, threads: list[Ticket] | None = None) -> Panel:
    """``threads``: the incident's resident threads when the caller has them already
    (the card loads them with the merged-in tickets); otherwise they are queried."""
    can_write = services.can_write(user, ticket)
    if can_write:
        platforms = {t.platform for t in (threads if threads is not None else services.threads(ticket))}
    else:
        platforms = {ticket.platform}
    return Panel(
        can_write=can_write,
        is_approver=services.is_approver(user),
        needs_approval=services.needs_approval(ticket, user),
        canned=canned_for(ticket) if can_write else [],
        limits={p: limit for p in sorted(platforms) if (limit := texts.limit_for(p))},
        values=texts.values_for(ticket) if can_write else {},
        replies=replies_of(ticket),
    )
