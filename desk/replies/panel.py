"""What the ticket card's reply panel shows: canned texts, counters, replies and their rows."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..extensions import db
from ..models import Ticket, User
from ..models.replies import CannedReply, Reply
from . import services, text as texts


@dataclass
class Panel:
    can_write: bool
    is_approver: bool
    needs_approval: bool
    canned: list[CannedReply] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)


def canned_for(ticket: Ticket) -> list[CannedReply]:
    return list(db.session.scalars(db.select(CannedReply).where(
        CannedReply.is_active.is_(True),
        db.or_(CannedReply.department_id.is_(None), CannedReply.department_id == ticket.department_id),
        db.or_(CannedReply.category_id.is_(None), CannedReply.category_id == ticket.category_id),
    ).order_by(CannedReply.title)))


def load_panel(ticket: Ticket, user: User) -> Panel:
    can_write = services.can_write(user, ticket)
    platforms = {t.platform for t in services.threads(ticket)} if can_write else {ticket.platform}
    return Panel(
        can_write=can_write,
        is_approver=services.is_approver(user),
        needs_approval=services.needs_approval(ticket, user),
        canned=canned_for(ticket) if can_write else [],
        limits={p: texts.limit_for(p) for p in sorted(platforms) if texts.limit_for(p)},
        values=texts.values_for(ticket) if can_write else {},
        replies=services.replies_of(ticket),
    )
