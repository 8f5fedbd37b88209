"""The city's own reply coming back through a collector.

Collectors skip the city's own messages (``Skipped``: VK ``wall_reply_new``,
``photo_comment_new``, ``video_comment_new``, ``market_comment_new``, ``board_post_new`` from
``-group_id``, the bot's own message in Telegram, the bot's comment in MAX), so they
never become tickets. :func:`match_own_reply` is called for such updates with the raw
update: it finds the outbox row the message came from (by its network id, else by the
message it answers and its text) and settles it as posted; a reply the city wrote on
the network by hand is attached to the resident's ticket as the city's message.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from ..channels.vk import PLACES as VK_PLACES
from ..extensions import db
from ..models import Account, Message, MessageDirection, utcnow
from ..models.replies import DeliveryState, ReplyDelivery
from ..networks import SPECS, credential
from . import outbox

log = logging.getLogger(__name__)
D = DeliveryState


@dataclass(frozen=True)
class OwnMessage:
    external_id: str
    target_external_id: str | None
    thread_ref: str | None
    text: str
    sent_at: datetime
    # No sender on the update (MAX may omit it): ours only if an outbox row matches it.
    anonymous: bool = False
    # Replies to nothing (a VK board has no replies): a row still posting is found by its
    # thread and text, when it is the only one that could be it.
    by_thread: bool = False


def own_telegram(account: Account, update: dict) -> OwnMessage | None:
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict):
        return None
    sender = message.get("from") or {}
    bot_id = (account.settings or {}).get("bot_id") or credential(account, "bot_token").split(":", 1)[0]
    if not sender.get("is_bot") or str(sender.get("id")) != str(bot_id):
        return None
    chat = message["chat"]["id"]
    reply = message.get("reply_to_message") or {}
    return OwnMessage(f"{chat}:{message['message_id']}",
                      f"{chat}:{reply['message_id']}" if reply.get("message_id") else None,
                      str(message["message_thread_id"]) if message.get("message_thread_id") else None,
                      message.get("text") or "", _seconds(message.get("date")))


def own_vk(account: Account, update: dict) -> OwnMessage | None:
    """The community's new comment on the wall, a photo, a video, a good or a board topic
    (``wall_reply_new``, ``photo_comment_new`` …), with the refs the collector gives."""
    family, _, action = str(update.get("type")).rpartition("_")
    place = VK_PLACES.get(family)
    if place is None or action != "new":
        return None
    obj = update.get("object") or {}
    group_id = abs(int((account.settings or {}).get("group_id") or 0))
    if not group_id or int(obj.get("from_id") or 0) != -group_id:
        return None
    owner = place.owner(obj, group_id)
    reply_to = obj.get("reply_to_comment")
    return OwnMessage(place.ref(owner, int(obj["id"])), place.ref(owner, int(reply_to)) if reply_to else None,
                      place.ref(owner, int(obj[place.object_field])), obj.get("text") or "",
                      _seconds(obj.get("date")), by_thread=not reply_to)


def own_max(account: Account, update: dict) -> OwnMessage | None:
    if update.get("update_type") not in ("comment_created", "message_created"):
        return None
    message = update.get("message") or {}
    sender = message.get("sender") or {}
    bot_user_id = (account.settings or {}).get("bot_user_id")
    if sender and not (sender.get("is_bot") and (bot_user_id is None
                                                 or str(sender.get("user_id")) == str(bot_user_id))):
        return None
    body = message.get("body") or {}
    link = message.get("link") or {}
    recipient = message.get("recipient") or {}
    target = (link.get("message") or {}).get("mid") if link.get("type") == "reply" else None
    thread = recipient.get("post_id") or (f"chat:{recipient['chat_id']}" if recipient.get("chat_id") else None)
    ms = message.get("timestamp")
    sent_at = datetime.fromtimestamp(int(ms) / 1000, UTC) if ms else utcnow()
    return OwnMessage(str(body.get("mid")), target, thread, body.get("text") or "", sent_at, anonymous=not sender)


def _seconds(value) -> datetime:
    return datetime.fromtimestamp(int(value), UTC) if value else utcnow()


def parse(account: Account, update: dict) -> OwnMessage | None:
    """The city's own message in ``update`` by the network spec's ``echo`` parser, or None."""
    spec = SPECS.get(account.platform)
    parser = spec.load("echo") if spec is not None else None
    if parser is None or not isinstance(update, dict):
        return None
    try:
        return parser(account, update)
    except Exception:  # noqa: BLE001 — best effort: an odd shape is simply not our echo
        return None


def _find_delivery(account: Account, own: OwnMessage) -> ReplyDelivery | None:
    row = db.session.scalars(db.select(ReplyDelivery).where(
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


def match_own_reply(account: Account, update: dict) -> str | None:
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
