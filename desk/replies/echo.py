"""The city's own reply coming back through a collector.

Collectors skip the city's own messages (``Skipped``: VK ``wall_reply_new``,
``photo_comment_new``, ``video_comment_new``, ``market_comment_new``, ``board_post_new`` from
``-group_id``, the bot's own message in Telegram, the bot's comment in MAX), so they
never become tickets. :func:`match_own_reply` is called for such updates with the raw
update: it finds the outbox row the message came from (by its network id, else by the
message it answers and its text) and settles it as posted; a reply the city wrote on
the network by hand is attached to the resident's ticket as the city's message. Reading
the update is the network's (its spec's ``echo`` parser, next to its normaliser in
``desk.channels.<net>_events``); matching it to the outbox is here.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..channels.events import OwnMessage
from ..extensions import db
from ..models import Account, Message, MessageDirection
from ..models.replies import DeliveryState, ReplyDelivery
from ..networks import SPECS
from . import outbox

log = logging.getLogger(__name__)
D = DeliveryState


def parse(account: Account, update: Any) -> OwnMessage | None:
    """The city's own message in ``update`` by the network spec's ``echo`` parser, or None."""
    spec = SPECS.get(account.platform)
    parser: Callable[[Account, dict[str, Any]], OwnMessage | None] | None = \
        spec.load("echo") if spec is not None else None
    if parser is None or not isinstance(update, dict):
        return None
    try:
        return parser(account, update)
    except Exception:  # noqa: BLE001 — best effort: an odd shape is simply not our echo
        return None


def _find_delivery(account: Account, own: OwnMessage) -> ReplyDelivery | None:
    row: ReplyDelivery | None = db.session.scalars(db.select(ReplyDelivery).where(
        ReplyDelivery.account_id == account.id, ReplyDelivery.external_id == own.external_id)).first()
    if row is not None:
        return row
    if own.target_external_id:
        where = ReplyDelivery.target_external_id == own.target_external_id
    elif own.by_thread and own.thread_ref:
        where = ReplyDelivery.thread_ref == own.thread_ref
    else:
        return None
    candidates = db.session.scalars(db.select(ReplyDelivery).where(
        ReplyDelivery.account_id == account.id, where,
        ReplyDelivery.state.in_([D.SENDING.value, D.UNKNOWN.value]))
        .order_by(ReplyDelivery.id)).all()
    same = [row for row in candidates if row.text.strip() == own.text.strip()]
    if own.target_external_id:
        return same[0] if same else None
    return same[0] if len(same) == 1 else None  # two alike in one thread: a person decides


def match_own_reply(account: Account, update: Any) -> str | None:
    """Settle the outbox row of the city's own message in ``update`` (flush only).

    Returns ``"matched"``, ``"attached"`` (a reply written on the network by hand),
    ``"known"`` or None when the update is not the city's message.
    """
    own = parse(account, update)
    if own is None:
        return None
    delivery = _find_delivery(account, own)
    if delivery is not None:
        if delivery.state not in (D.SENDING.value, D.UNKNOWN.value):
            return "known"
        # Seen on the network: posted. A job still waiting for its answer then leaves it alone.
        outbox.mark_posted(delivery, own.external_id, at=own.sent_at, kind="reply_echo",
                           reason="seen on the network")
        return "matched"
    if own.anonymous:
        return None  # nothing says it is the city's: it is not attached as the city's message
    exists = db.session.scalars(db.select(Message.id).where(
        Message.account_id == account.id, Message.external_id == own.external_id)).first()
    if exists is not None or not own.target_external_id:
        return "known" if exists is not None else None
    target = db.session.scalars(db.select(Message).where(
        Message.account_id == account.id, Message.external_id == own.target_external_id)).first()
    if target is None or target.ticket_id is None:
        return None
    db.session.add(Message(ticket_id=target.ticket_id, direction=MessageDirection.OUTBOUND.value,
                           platform=account.platform, account_id=account.id, external_id=own.external_id[:160],
                           thread_ref=target.thread_ref, reply_to_external_id=target.external_id,
                           author_name=account.name, text=own.text, sent_at=own.sent_at, post_id=target.post_id))
    db.session.flush()
    return "attached"
