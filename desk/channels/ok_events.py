"""OK payloads into desk events: the normaliser (no database, no Redis).

Two kinds of update: what the collector polls, wrapped as ``{"kind": "topic", "group_id",
"topic"}`` / ``{"kind": "comment", "group_id", "topic_id", "comment"}``, and a Bot API
webhook body (``MESSAGE_CREATED``: a resident wrote to the group's chat). A comment's id
is scoped by its topic. An author is named as OK sent it, else left unnamed here: the
collector fills in the name it resolved for the batch
(:mod:`workers.collectors.ok_names`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import Account
from ..text import clean_text
from .events import ChannelEvent, InboundMessage, PostSeen, Skipped
from .media import compose
from .ok import from_ms, parse_date
from .payload import as_object, optional_object, text_id

#: OK attachment / media type (comments, topics, Bot API messages; any case) → canonical
#: media kind of desk.channels.media. The Bot API's AUDIO is a voice message (MUSIC is music).
MEDIA_KINDS = {"photo": "photo", "image": "photo", "movie": "video", "video": "video", "audio": "voice",
               "music": "audio", "file": "file", "doc": "file", "sticker": "sticker", "share": "link",
               "link": "link", "poll": "poll", "place": "location", "location": "location",
               "contact": "contact", "present": "gift", "mediatopic": "repost", "topic": "repost",
               "reshare": "repost"}
#: parts of a message that are not an attachment a person sent
NOT_MEDIA = {"text", "inline_keyboard"}



def given_name(name: Any) -> str:
    """The name OK sent with a comment or a sender, cleaned; "" if none."""
    return clean_text(name).strip() if isinstance(name, str) else ""


def bot_user(sender: Mapping[str, Any]) -> str | None:
    """The user id of a Bot API ``sender`` (``"user:577…"`` or a bare number)."""
    user_id = text_id(sender.get("user_id"))
    return user_id.removeprefix("user:") or None if user_id else None


def topic_link(group_id: str, topic_id: str) -> str:
    return f"https://ok.ru/group/{group_id}/topic/{topic_id}"


def _media(items: Any) -> tuple[list[str], list[str]]:
    """The words and the attachment kinds of an OK ``media``/``attachments`` list."""
    texts, kinds = [], []
    for item in items if isinstance(items, list) else []:
        kind = item.get("type") if isinstance(item, dict) else None
        if not isinstance(kind, str) or not kind:
            continue
        kind = kind.lower()
        if kind == "text":
            texts.append(clean_text(item.get("text")).strip())
        elif kind not in NOT_MEDIA:
            kinds.append(MEDIA_KINDS.get(kind, "other"))
    return [t for t in texts if t], kinds


def _text(words: Any, *attachment_lists: Any) -> str:
    texts, kinds = [clean_text(words).strip()], []
    for items in attachment_lists:
        more_texts, more_kinds = _media(items)
        texts += more_texts
        kinds += more_kinds
    return compose("\n\n".join(t for t in texts if t), kinds)


def _comment_id(topic_id: str, comment_id: str) -> str:
    # OK does not promise comment ids unique across discussions: scope them by topic.
    return f"{topic_id}/{comment_id}"


def _comment(account: Account, update: Mapping[str, Any]) -> list[ChannelEvent]:
    comment = as_object(update.get("comment"), "OK comment")
    topic_id, group_id = text_id(update.get("topic_id")), text_id(update.get("group_id"))
    comment_id = text_id(comment.get("id"))
    if not comment_id or not topic_id:
        raise ValueError("OK comment without id")
    external_id = _comment_id(topic_id, comment_id)
    author_id = text_id(comment.get("author_id"))
    if (author_id is not None and author_id == group_id) or comment.get("author_type") == "GROUP" \
            or comment.get("author_ref") == f"group:{group_id}":
        return [Skipped("own comment", external_id)]
    text = _text(comment.get("text"), comment.get("attachments"), comment.get("media"))
    if not text:
        raise ValueError(f"OK comment {external_id} has neither text nor attachments")
    reply_to = text_id(comment.get("reply_to_comment_id"))
    return [InboundMessage(
        account_id=account.id, external_id=external_id, text=text, sent_at=parse_date(comment),
        author_id=author_id, author_name=given_name(comment.get("author_name")),
        thread_ref=topic_id, post_ref=topic_id,
        reply_to_external_id=_comment_id(topic_id, reply_to) if reply_to else None,
        permalink=topic_link(group_id or "", topic_id),
    )]


def _topic(account: Account, update: Mapping[str, Any]) -> list[ChannelEvent]:
    topic = as_object(update.get("topic"), "OK topic")
    topic_id = text_id(topic.get("id"))
    if not topic_id:
        raise ValueError("OK topic without id")
    return [PostSeen(account_id=account.id, external_id=topic_id, text=_text(None, topic.get("media")),
                     posted_at=from_ms(topic.get("created_ms")),
                     link=topic_link(text_id(update.get("group_id")) or "", topic_id))]


def _bot_message(account: Account, payload: Mapping[str, Any]) -> list[ChannelEvent]:
    """A Bot API MESSAGE_CREATED: a resident wrote to the group's chat."""
    kind = payload.get("webhookType", "MESSAGE_CREATED")
    if not isinstance(kind, str):
        raise ValueError("Bot API webhookType is not a string")
    if kind != "MESSAGE_CREATED":
        return [Skipped(f"bot webhook {kind}"[:200])]
    message = as_object(payload.get("message"), "MESSAGE_CREATED message")
    sender = optional_object(payload.get("sender"))
    mid, chat_id = text_id(message.get("mid")), text_id(optional_object(payload.get("recipient")).get("chat_id"))
    if not mid or not chat_id:
        raise ValueError("MESSAGE_CREATED without message.mid or recipient.chat_id")
    user_id = bot_user(sender)
    bot_user_id = text_id((account.settings or {}).get("bot_user_id"))
    if user_id and bot_user_id and user_id == bot_user_id.removeprefix("user:"):
        return [Skipped("own message", mid)]
    # The Bot API sends a list ``attachments``; a single ``attachment`` is accepted too.
    text = _text(message.get("text"), message.get("attachments"), [message.get("attachment")])
    if not text:
        raise ValueError(f"MESSAGE_CREATED {mid} has neither text nor attachments")
    return [InboundMessage(
        account_id=account.id, external_id=mid, text=text, sent_at=from_ms(payload.get("timestamp")),
        author_id=user_id, author_name=given_name(sender.get("name")),
        thread_ref=chat_id if chat_id.startswith("chat:") else f"chat:{chat_id}",
    )]


def normalize(account: Account, update: Any) -> list[ChannelEvent]:
    """A polled topic or comment, or a Bot API webhook body, into desk events."""
    update = as_object(update, "an OK update")
    kind = update.get("kind")
    if kind == "comment":
        return _comment(account, update)
    if kind == "topic":
        return _topic(account, update)
    if kind is None and ("message" in update or "webhookType" in update):
        return _bot_message(account, update)
    raise ValueError(f"unknown OK update {kind!r}"[:200])
