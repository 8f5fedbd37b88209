"""Writing, approving and fanning out public replies (flush only; the caller queues
the ids :func:`to_enqueue` returns with ``enqueue_deliveries_after_commit``, then commits)."""
from __future__ import annotations

import secrets

from flask import g, has_app_context
from sqlalchemy import ScalarSelect

from .. import labels
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..jobs import MAIL_RETRY, RESIDENT_ANSWERED, enqueue_after_commit
from ..models import DIRECT_PLATFORMS, Message, Role, Ticket, TicketStatus, User, utcnow
from ..models.replies import DeliveryState, Reply, ReplyDelivery, ReplyState
from ..networks import SPECS
from ..refusals import DeskError
from ..tickets.workflow import record_event
from . import text as texts
from .notices import tell_author
from .outbox import mark_posted

S = TicketStatus
R = ReplyState
APPROVERS = (Role.OPERATOR, Role.ADMIN)
WRITERS = (Role.OPERATOR, Role.ADMIN, Role.DEPARTMENT_HEAD)


class ReplyError(DeskError):
    """A reply that cannot be written or changed now, with a message for the user."""


def can_write(user: User, ticket: Ticket) -> bool:
    return user.has_role(*WRITERS) and TicketStatus(ticket.status).replyable


def is_approver(user: User) -> bool:
    return user.has_role(*APPROVERS)


def needs_approval(ticket: Ticket, user: User) -> bool:
    """Department heads' answers wait for an operator where the department says so."""
    department = ticket.department
    return bool(department and department.answers_need_approval) and not is_approver(user)


def threads(root: Ticket) -> list[Ticket]:
    """Every resident thread of the incident: the ticket and those merged into it."""
    merged = db.session.scalars(
        db.select(Ticket).where(Ticket.merged_into_id == root.id).order_by(Ticket.id)).all()
    return [root, *merged]


def target_message(ticket: Ticket) -> Message | None:
    """The resident's latest message still on the network: the one the reply answers."""
    return db.session.scalars(
        db.select(Message).where(Message.ticket_id == ticket.id, Message.direction == "inbound",
                                 Message.is_deleted.is_(False))
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)).first()


def check_text(root: Ticket, text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReplyError(_l("the answer is empty"), field="text")
    for ticket in threads(root):
        rendered = texts.render(text, texts.values_for(ticket, root))
        if texts.too_long(rendered, ticket.platform):
            raise ReplyError(_l("the answer is longer than %(network)s allows (%(length)s > %(limit)s)",
                                network=ticket.platform, length=len(rendered),
                                limit=texts.limit_for(ticket.platform)), field="text")
    return text


def compose(ticket: Ticket, user: User, text: str) -> Reply:
    """A new answer on the incident: approved at once, or waiting for an operator."""
    if not can_write(user, ticket):
        raise ReplyError(_l("no public answer can be written on this ticket now"), code="conflict", status=409)
    reply = Reply(ticket=ticket, author_id=user.id, text=check_text(ticket, text), state=R.DRAFT.value)
    db.session.add(reply)
    db.session.flush()
    record_event(ticket, user, "reply_written", new=f"#{reply.id}", reason=None)
    if needs_approval(ticket, user):
        reply.state = R.PENDING_APPROVAL.value
        record_event(ticket, user, "reply_submitted", new=f"#{reply.id}")
    else:
        approve(reply, user)
    db.session.flush()
    return reply


def approve(reply: Reply, user: User, text: str | None = None) -> None:
    """Approve (possibly edited) and put one outbox row per resident thread."""
    if reply.state not in (R.DRAFT.value, R.PENDING_APPROVAL.value):
        raise ReplyError(_l("this answer is not waiting for approval"), code="conflict", status=409)
    if text is not None and text.strip() and text.strip() != reply.text:
        reply.text = check_text(reply.ticket, text)
        record_event(reply.ticket, user, "reply_edited", new=f"#{reply.id}")
    reply.state = R.APPROVED.value
    reply.reviewed_by_id = user.id
    reply.approved_at = utcnow()
    record_event(reply.ticket, user, "reply_approved", new=f"#{reply.id}")
    fan_out(reply)


def send_back(reply: Reply, user: User, comment: str) -> None:
    comment = (comment or "").strip()
    if not comment:
        raise ReplyError(_l("say what to change"), field="comment")
    if reply.state != R.PENDING_APPROVAL.value:
        raise ReplyError(_l("this answer is not waiting for approval"), code="conflict", status=409)
    reply.state = R.RETURNED.value
    reply.review_comment = comment
    reply.reviewed_by_id = user.id
    record_event(reply.ticket, user, "reply_returned", new=f"#{reply.id}", reason=comment)
    tell_author(reply, "reply_returned", reply.id, lambda: _(
        "Your answer on ticket #%(id)s was sent back: %(comment)s", id=reply.ticket_id, comment=comment))
    db.session.flush()


def revise(reply: Reply, user: User, text: str) -> None:
    """The author fixes a sent-back answer; it waits for approval again."""
    if reply.state != R.RETURNED.value:
        raise ReplyError(_l("only a sent-back answer can be revised"), code="conflict", status=409)
    reply.text = check_text(reply.ticket, text)
    reply.state = R.PENDING_APPROVAL.value
    record_event(reply.ticket, user, "reply_submitted", new=f"#{reply.id}")
    db.session.flush()


def fan_out(reply: Reply) -> list[ReplyDelivery]:
    """One outbox row per resident thread. A thread filed straight with the desk (web
    form, Open311) has no network: its answer is published at once (the status page shows
    it) and e-mailed to the resident after the commit."""
    root = reply.ticket
    rows = []
    for ticket in threads(root):
        direct = ticket.platform in DIRECT_PLATFORMS
        # The spec says whether the outbox posts it or a person does (OK: no public method).
        mode = SPECS[ticket.platform].replies if ticket.platform in SPECS else None
        if ticket.account_id is None or (mode is None and not direct):
            continue
        target = target_message(ticket)
        state = DeliveryState.MANUAL if mode == "manual" else DeliveryState.QUEUED
        if direct:
            state = DeliveryState.SENDING  # published below, in this transaction
        row = ReplyDelivery(
            reply=reply, ticket=ticket, account_id=ticket.account_id, platform=ticket.platform,
            thread_ref=ticket.thread_ref, target_external_id=target.external_id if target else None,
            outbox_key=f"desk-{reply.id}-{ticket.id}-{secrets.token_hex(6)}",
            text=texts.render(reply.text, texts.values_for(ticket, root)), state=state.value)
        db.session.add(row)
        db.session.flush()
        if direct:
            mark_posted(row, row.outbox_key)
            enqueue_after_commit(RESIDENT_ANSWERED, row.id, best_effort=True, retry=MAIL_RETRY)
        else:
            record_event(root, None, f"reply_{state.value}", field="delivery", new=f"#{row.id} {row.platform} "
                         f"→ #{ticket.id}")
        rows.append(row)
    if not rows:
        raise ReplyError(_l("no resident thread on a network to answer"), field="text")
    return rows


def to_enqueue(reply: Reply) -> list[int]:
    """Ids of the rows a job should post now (queued to be sent after the commit)."""
    return [d.id for d in reply.deliveries if d.state == DeliveryState.QUEUED.value]


def replies_of(ticket: Ticket) -> list[Reply]:
    return list(db.session.scalars(db.select(Reply).where(Reply.ticket_id == ticket.id).order_by(Reply.id)))


def outcome(reply: Reply) -> str:
    """What happened to an approved answer, truthfully: published at once (web form,
    Open311), queued for the networks (the result comes later), or waiting for a person."""
    by_state: dict[str, list[str]] = {}
    for row in reply.deliveries:
        name = labels.label("platform", row.platform)
        names = by_state.setdefault(row.state, [])
        if name not in names:
            names.append(name)
    parts = []
    if by_state.get(DeliveryState.SENT.value):
        parts.append(_("published on the status page and e-mailed to the residents who gave an address"))
    if by_state.get(DeliveryState.QUEUED.value):
        parts.append(_("queued for posting to %(networks)s: the card shows when it is on the network, and you "
                       "are notified if posting fails", networks=", ".join(by_state[DeliveryState.QUEUED.value])))
    if by_state.get(DeliveryState.MANUAL.value):
        parts.append(_("to be posted by hand on %(networks)s (the network has no method for it): see the outbox",
                       networks=", ".join(by_state[DeliveryState.MANUAL.value])))
    return _("The answer is approved: %(what)s.", what="; ".join(parts)) if parts else \
        _("The answer is approved.")


def preview(reply: Reply) -> str:
    """The answer as the resident of the incident's own thread will read it (placeholders
    filled in), for whoever approves it."""
    return texts.render(reply.text, texts.values_for(reply.ticket))


PRELOADED_PENDING = "desk_pending_approvals"  # the count, loaded with the signed-in user


def pending_approvals_column() -> ScalarSelect[int]:
    """Answers waiting for approval, as a scalar subquery (loaded with the user: the top
    bar shows the count on every page without a query of its own)."""
    count: ScalarSelect[int] = (db.select(db.func.count(Reply.id))
                                .where(Reply.state == R.PENDING_APPROVAL.value).scalar_subquery())
    return count


def pending_approvals() -> int:
    if has_app_context() and g.get(PRELOADED_PENDING) is not None:
        return int(g.get(PRELOADED_PENDING))
    return db.session.scalar(db.select(pending_approvals_column())) or 0


def summary_state(reply: Reply) -> str:
    """One word for a reply: its approval state, or the worst of its deliveries."""
    if reply.state != R.APPROVED.value:
        return reply.state
    order = ["unknown", "failed", "manual", "sending", "queued", "sent", "cancelled"]
    states = {d.state for d in reply.deliveries}
    for state in order:
        if state in states:
            return state
    return reply.state
