"""MAX updates into desk events: the normaliser and the echo parser (no database).

One update of long polling or of the webhook ``/hooks/max/<account_id>`` becomes
:mod:`desk.channels.events`. What is "ours" is decided only from what MAX guarantees:
the bot's user id, a bot sender, the channel in ``recipient``. A message without
``sender`` is a resident's with an unknown author (MAX leaves the field out on
residents' comments) unless the desk posted it, which only the outbox knows: the
collector checks that (``workers.collectors.max.complete``). Storing a comment an
operator then marks "not an appeal" costs seconds, losing one costs the city's word.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..models import Account, utcnow
from ..text import clean_text
from .events import ChannelEvent, CommentDeleted, InboundMessage, OwnMessage, PostSeen, Skipped
from .max import FORWARD_ONLY_PREFIX
from .media import compose, label
from .payload import as_object, first_moment, from_ms, optional_object, text_id

#: MAX attachment type → canonical media kind (desk.channels.media); ``audio`` is what
#: MAX calls a voice message (it carries a ``transcription``)
MEDIA_KINDS = {"image": "photo", "video": "video", "audio": "voice", "file": "file", "sticker": "sticker",
               "contact": "contact", "share": "link", "location": "location"}
#: attachments that are not something a person sent (a bot's buttons)
NOT_MEDIA = {"inline_keyboard"}


# --- reading a message --------------------------------------------------------------------


def _kinds(body: Mapping[str, Any]) -> list[str]:
    attachments = body.get("attachments")
    if not isinstance(attachments, list):
        return []
    kinds = []
    for attachment in attachments:
        kind = attachment.get("type") if isinstance(attachment, dict) else None
        if not isinstance(kind, str):
            kind = "unknown" if isinstance(attachment, dict) else None  # an attachment of no known type
        if kind is None or kind in NOT_MEDIA:
            continue
        kinds.append(MEDIA_KINDS.get(kind, "other"))
    return kinds


def _content(body: Mapping[str, Any]) -> str:
    return compose(clean_text(body.get("text")), _kinds(body))


def _text(message: Mapping[str, Any], body: Mapping[str, Any]) -> str:
    """The resident's words and attachment labels, then a forwarded message's."""
    parts = [_content(body)]
    link = optional_object(message.get("link"))
    if link.get("type") == "forward":
        parts.append(f"{label('forward')} {_content(optional_object(link.get('message')))}".strip())
    return "\n".join(part for part in parts if part)


def _forward_id(message: Mapping[str, Any], recipient: Mapping[str, Any], update: Mapping[str, Any]) -> str | None:
    """A message that is only a forward comes with ``body: null`` and no id of its own:
    the chat, sender, time and forwarded message id name it (the same on every delivery)."""
    link = optional_object(message.get("link"))
    forwarded = text_id(optional_object(link.get("message")).get("mid"))
    if link.get("type") != "forward" or forwarded is None:
        return None
    where = text_id(recipient.get("post_id")) or text_id(recipient.get("chat_id")) or ""
    who = text_id(optional_object(message.get("sender")).get("user_id")) or ""
    when = text_id(message.get("timestamp")) or text_id(update.get("timestamp")) or ""
    return f"{FORWARD_ONLY_PREFIX}{where}:{who}:{when}:{forwarded}"


def _parts(update: Mapping[str, Any]) -> tuple[dict, dict, dict, str]:
    kind = update.get("update_type")
    message = as_object(update.get("message"), f"{kind} message")
    body = message.get("body")
    if body is None:
        body = {}  # allowed by the schema when the message is only a forward
    body = as_object(body, f"{kind} message.body")
    recipient = optional_object(message.get("recipient"))
    mid = text_id(body.get("mid")) or _forward_id(message, recipient, update)
    if not mid:
        raise ValueError(f"{kind} without body.mid")
    return message, body, recipient, mid


def _author(sender: Any) -> tuple[str | None, str]:
    if not isinstance(sender, dict):
        return None, ""
    names = [n.strip() for n in (sender.get("first_name"), sender.get("last_name")) if isinstance(n, str)]
    name = " ".join(n for n in names if n)
    for fallback in (sender.get("username"), sender.get("name")):
        if not name and isinstance(fallback, str):
            name = fallback.strip()
    return text_id(sender.get("user_id")), name


def _reply_to(message: Mapping[str, Any]) -> str | None:
    link = optional_object(message.get("link"))
    if link.get("type") == "reply":
        return text_id(optional_object(link.get("message")).get("mid"))
    return None


def _other_channel(account: Account, recipient: Mapping[str, Any]) -> bool:
    channel_id = text_id((account.settings or {}).get("chat_id"))
    chat_id = text_id(recipient.get("chat_id"))
    return channel_id is not None and chat_id is not None and chat_id != channel_id


# --- whose message ------------------------------------------------------------------------


def _is_ours(account: Account, message: Mapping[str, Any]) -> bool:
    """The desk's bot or any other bot. A message without a sender is a resident's here;
    the collector's ``complete`` checks it against the replies the desk posted."""
    sender = message.get("sender")
    if isinstance(sender, dict):
        bot_user_id = text_id((account.settings or {}).get("bot_user_id"))
        return sender.get("is_bot") is True or (bot_user_id is not None and text_id(sender.get("user_id")) == bot_user_id)
    return False


# --- update types -------------------------------------------------------------------------


def _inbound(account: Account, update: Mapping[str, Any], message: Mapping[str, Any], mid: str, text: str,
             thread_ref: str, *, post_ref: str | None, edit: bool) -> InboundMessage:
    if not text.strip():
        raise ValueError(f"{update.get('update_type')} {mid} has neither text nor attachments")
    author_id, author_name = _author(message.get("sender"))
    url = message.get("url")
    return InboundMessage(
        account_id=account.id, external_id=mid, text=text,
        sent_at=first_moment(message.get("timestamp"), update.get("timestamp")),
        author_id=author_id, author_name=author_name, thread_ref=thread_ref, post_ref=post_ref,
        reply_to_external_id=_reply_to(message), permalink=url if isinstance(url, str) else "",
        is_edit=edit, edited_at=first_moment(update.get("timestamp")) if edit else None,
    )


def _comment(account: Account, update: Mapping[str, Any], *, edit: bool) -> list[ChannelEvent]:
    message, body, recipient, mid = _parts(update)
    post_id = text_id(recipient.get("post_id"))
    if not post_id:
        raise ValueError("comment without recipient.post_id")
    if _other_channel(account, recipient):
        return [Skipped("another channel", mid)]
    text = _text(message, body)
    if _is_ours(account, message):
        return [Skipped("own comment", mid)]
    return [_inbound(account, update, message, mid, text, post_id, post_ref=post_id, edit=edit)]


def _message(account: Account, update: Mapping[str, Any], *, edit: bool) -> list[ChannelEvent]:
    message, body, recipient, mid = _parts(update)
    chat_type, chat_id = recipient.get("chat_type"), text_id(recipient.get("chat_id"))
    if chat_type == "channel":
        if _other_channel(account, recipient):
            return [Skipped("another channel", mid)]
        url = message.get("url")
        return [PostSeen(account_id=account.id, external_id=mid, text=_text(message, body),
                         posted_at=first_moment(message.get("timestamp")), link=url if isinstance(url, str) else "")]
    if chat_type not in ("chat", "dialog"):
        # An unknown kind of chat may still hold a resident's words: keep it visible.
        raise ValueError(f"message in a chat of type {chat_type!r}"[:200])
    if chat_id is None:
        raise ValueError("chat message without recipient.chat_id")
    thread_ref = f"chat:{chat_id}"
    text = _text(message, body)
    if _is_ours(account, message):
        return [Skipped("own message", mid)]
    return [_inbound(account, update, message, mid, text, thread_ref, post_ref=None, edit=edit)]


def _removed(account: Account, update: Mapping[str, Any]) -> list[ChannelEvent]:
    message_id = text_id(update.get("message_id"))
    if not message_id:
        raise ValueError(f"{update.get('update_type')} without message_id")
    return [CommentDeleted(account.id, message_id, from_ms(update.get("timestamp")))]


HANDLERS = {
    "comment_created": lambda account, update: _comment(account, update, edit=False),
    "comment_edited": lambda account, update: _comment(account, update, edit=True),
    "message_created": lambda account, update: _message(account, update, edit=False),
    "message_edited": lambda account, update: _message(account, update, edit=True),
    "comment_removed": _removed,
    "message_removed": _removed,
}


def normalize(account: Account, update: Any) -> list[ChannelEvent]:
    """One MAX update into desk events. Service updates (``bot_added``,
    ``message_callback``, ``dialog_*`` …) and types unknown today are skipped with
    their type as the reason; a shape that cannot be read raises ``ValueError``."""
    update = as_object(update, "a MAX update")
    kind = update.get("update_type")
    if not isinstance(kind, str) or not kind:
        raise ValueError("update without update_type")
    handler = HANDLERS.get(kind)
    if handler is None:
        return [Skipped(f"update type {kind}"[:200])]
    return handler(account, update)


# --- the city's own message coming back (desk.replies.echo) ---------------------------


def own_message(account: Account, update: dict) -> OwnMessage | None:
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
