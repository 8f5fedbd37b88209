"""The outbox rows' state machine and what each final state leaves on the ticket.

Every change of a delivery's state goes through :func:`move`, which checks
:data:`DELIVERY_TRANSITIONS` and writes the ticket's event. These functions only
flush; the job or the view commits. :data:`REPLIES` is the replies as a kind of
delivery for :mod:`desk.outbox.engine`, which posts them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..labels import label
from ..links import http_url
from ..models import Message, MessageDirection, User, utcnow
from ..models.replies import DELIVERY_TRANSITIONS, DeliveryState, Reply, ReplyDelivery
from ..outbox.engine import Posted
from ..refusals import DeskError
from ..sla.services import record_first_public_reply
from ..tickets.workflow import record_event
from . import senders
from .jobs import JOBS
from .notices import tell_author
from .ratelimit import Window

D = DeliveryState


class DeliveryError(DeskError):
    """A change the delivery's state does not allow, with a message for the user."""

    code = "conflict"
    status = 409


def describe(delivery: ReplyDelivery) -> str:
    return f"#{delivery.id} {delivery.platform} → #{delivery.ticket_id}"


def move(delivery: ReplyDelivery, new: DeliveryState, actor: User | None = None, *,
         reason: str | None = None, kind: str | None = None) -> None:
    """Change the state if the table allows it and log it on the reply's ticket."""
    old = DeliveryState(delivery.state)
    if new not in DELIVERY_TRANSITIONS[old]:
        raise DeliveryError(_l("a reply in state %(old)s cannot become %(new)s", old=_l(old.label), new=_l(new.label)))
    delivery.state = new.value
    record_event(delivery.reply.ticket, actor, kind or f"reply_{new.value}", field="delivery",
                 old=old.value, new=describe(delivery), reason=reason, is_public=new is D.SENT)
    db.session.flush()


def record_outbound(delivery: ReplyDelivery, external_id: str, sent_at: datetime, permalink: str = "") -> Message:
    """The city's message on the resident's ticket (idempotent on the network id); added to
    the session, written by the caller's next flush."""
    external_id = external_id[:160]
    message = db.session.scalars(db.select(Message).where(
        Message.account_id == delivery.account_id, Message.external_id == external_id)).first()
    if message is None:
        account = delivery.account
        message = Message(
            ticket_id=delivery.ticket_id, direction=MessageDirection.OUTBOUND.value, platform=delivery.platform,
            account_id=delivery.account_id, external_id=external_id, thread_ref=delivery.thread_ref,
            reply_to_external_id=delivery.target_external_id, author_name=account.name if account else "",
            text=delivery.text, sent_at=sent_at, permalink=permalink[:500],
            post_id=delivery.ticket.post_id)
        db.session.add(message)
    return message


def mark_posted(delivery: ReplyDelivery, external_id: str, *, actor: User | None = None,
                permalink: str = "", at: datetime | None = None, kind: str | None = None,
                reason: str | None = None) -> None:
    """The reply is on the network: final state, the city's message, the SLA reaction."""
    at = at or utcnow()
    delivery.external_id = external_id[:160]
    # Network answers and people give the link: only an http(s) one is kept.
    delivery.permalink = http_url(permalink) or http_url(delivery.permalink) or ""
    delivery.sent_at = at
    delivery.last_error = None
    delivery.message = record_outbound(delivery, external_id, at, delivery.permalink)
    move(delivery, D.SENT, actor, kind=kind, reason=reason)
    record_first_public_reply(delivery.ticket, at)
    root = delivery.reply.ticket
    if root.id != delivery.ticket_id:
        record_first_public_reply(root, at)


def mark_failed(delivery: ReplyDelivery, reason: str, code: str | int | None = None) -> None:
    delivery.last_error = reason[:4000]
    delivery.error_code = None if code is None else str(code)[:40]
    move(delivery, D.FAILED, reason=reason[:500])
    tell_author(delivery.reply, "reply_failed", delivery.id, lambda: _(
        "Your answer on ticket #%(id)s could not be posted to %(network)s; the card says why and offers to "
        "send it again.", id=delivery.reply.ticket_id, network=label("platform", delivery.platform)))


def mark_unknown(delivery: ReplyDelivery, reason: str) -> None:
    delivery.last_error = reason[:4000]
    move(delivery, D.UNKNOWN, reason=reason[:500])


def requeue(delivery: ReplyDelivery, *, at: datetime | None, reason: str | None = None,
            actor: User | None = None, kind: str | None = None) -> None:
    """Back to the queue, to be tried at ``at`` (None: now)."""
    delivery.next_attempt_at = at
    if reason:
        delivery.last_error = reason[:4000]
    move(delivery, D.QUEUED, actor, reason=reason[:500] if reason else None, kind=kind or "reply_retry")


def resend(delivery: ReplyDelivery, actor: User, text: str | None = None) -> None:
    """A person resends a failed or unknown reply, possibly with a fixed text."""
    if delivery.state not in (D.FAILED.value, D.UNKNOWN.value):
        raise DeliveryError(_l("only a failed or unknown reply can be resent"))
    if text is not None and text.strip():
        from .text import too_long

        text = text.strip()
        if too_long(text, delivery.platform):
            raise DeliveryError(_l("the text is longer than the network allows"), field="text",
                                code="validation_failed", status=422)
        delivery.text = text
    delivery.last_error = None
    delivery.error_code = None
    requeue(delivery, at=None, actor=actor, kind="reply_resent")


def confirm_by_hand(delivery: ReplyDelivery, actor: User, permalink: str) -> None:
    """A person checked the thread (unknown) or posted it (OK): it is there."""
    if delivery.state not in (D.UNKNOWN.value, D.MANUAL.value):
        raise DeliveryError(_l("only an unknown or hand-posted reply can be confirmed"))
    permalink = (permalink or "").strip()
    if delivery.state == D.MANUAL.value and not http_url(permalink):
        raise DeliveryError(_l("give the link of the posted comment"), field="permalink", code="validation_failed", status=422)
    external_id = delivery.external_id or f"confirmed:{delivery.outbox_key}"
    mark_posted(delivery, external_id, actor=actor, permalink=permalink, kind="reply_marked_sent")


def cancel(delivery: ReplyDelivery, actor: User) -> None:
    move(delivery, D.CANCELLED, actor)


class ReplyOutbox:
    """Public replies as a kind of delivery for :mod:`desk.outbox.engine`."""

    model = ReplyDelivery
    # its account, its ticket, the reply and the incident's ticket
    load_options = (joinedload(ReplyDelivery.account), joinedload(ReplyDelivery.ticket),
                    joinedload(ReplyDelivery.reply).joinedload(Reply.ticket))
    lease_key = "desk:reply-lease:{}"
    settings_prefix = "REPLY"
    jobs = JOBS
    stopped = "the worker stopped while posting: check the thread, then mark it posted or resend it"

    def prepare(self, row: ReplyDelivery, config: Mapping[str, Any]) -> tuple[list[Window], Callable[[], Posted]]:
        return senders.windows(row, config), lambda: senders.send(row, config)

    def claimed(self, row: ReplyDelivery) -> None:
        record_event(row.reply.ticket, None, "reply_sending", field="delivery", old=D.QUEUED.value,
                     new=describe(row), reason=f"attempt {row.attempts}")

    def mark_sent(self, row: ReplyDelivery, posted: Posted) -> None:
        mark_posted(row, posted.external_id, permalink=posted.permalink)

    def requeue(self, row: ReplyDelivery, at: datetime, reason: str) -> None:
        requeue(row, at=at, reason=reason)

    def mark_failed(self, row: ReplyDelivery, reason: str, code: str | int | None = None) -> None:
        mark_failed(row, reason, code)

    def mark_unknown(self, row: ReplyDelivery, reason: str) -> None:
        mark_unknown(row, reason)


REPLIES = ReplyOutbox()
