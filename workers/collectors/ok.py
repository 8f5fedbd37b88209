"""OK collector: residents' comments under the group's recent topics, pulled with
signed ``discussions.getComments`` calls (OK has no webhook for them), and direct
messages to the group from the Bot API webhook ``/hooks/ok/<account_id>/<token>``.

The cursor is JSON: ``{"topics": {topic id: anchor or null}, "topics_at": ms}`` —
the paging anchor of every tracked topic and when the topics list was last read.
Account credentials: ``application_secret``, ``access_token``, ``webhook_token``;
settings: ``group_id`` and ``application_key`` (public; also read from credentials),
``bot_user_id`` (the group bot's own user, to skip its messages).

Authors' names: a comment's own ``author_name`` when OK sends it, else the name
:mod:`workers.collectors.ok_names` resolved for the batch with one ``users.getInfo``.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from desk.channels.errors import ChannelError, PermanentError
from desk.channels.events import ChannelEvent, InboundMessage, PostSeen, Skipped
from desk.channels.media import compose
from desk.channels.ok import OkClient, from_ms, parse_date
from desk.channels.payload import as_object, optional_object, text_id
from desk.models import Account
from desk.networks import credential
from desk.text import clean_text

from . import ok_names
from .base import PollBatch

TRACKED_TOPICS = 60  # older topics stay watched for late comments until pushed out

#: OK attachment / media type (comments, topics, Bot API messages; any case) → canonical
#: media kind of desk.channels.media. The Bot API's AUDIO is a voice message (MUSIC is music).
MEDIA_KINDS = {"photo": "photo", "image": "photo", "movie": "video", "video": "video", "audio": "voice",
               "music": "audio", "file": "file", "doc": "file", "sticker": "sticker", "share": "link",
               "link": "link", "poll": "poll", "place": "location", "location": "location",
               "contact": "contact", "present": "gift", "mediatopic": "repost", "topic": "repost",
               "reshare": "repost"}
#: parts of a message that are not an attachment a person sent
NOT_MEDIA = {"text", "inline_keyboard"}


def client_for(account: Account, config: Mapping[str, Any]) -> OkClient:
    creds, settings = account.get_credentials(), account.settings or {}
    kwargs = {"timeout": config["OK_HTTP_TIMEOUT"]} if config.get("OK_HTTP_TIMEOUT") else {}
    # The application key is a public setting; a hand-made account may hold it among the secrets.
    return OkClient(config["OK_API_BASE"],
                    application_key=settings.get("application_key") or creds.get("application_key", ""),
                    application_secret=credential(account, "application_secret", creds),
                    access_token=credential(account, "access_token", creds), **kwargs)


def _load_cursor(cursor: str | None) -> dict:
    state = json.loads(cursor) if cursor else {}
    return {"topics": dict(state.get("topics") or {}), "topics_at": state.get("topics_at")}


def _group_id(account: Account) -> str:
    group_id = (account.settings or {}).get("group_id")
    if not group_id:
        raise PermanentError("the OK account has no group_id setting")
    return str(group_id)


def fetch(account: Account, cursor: str | None, config: Mapping[str, Any]) -> PollBatch:
    """One round: refresh the topics list when it is stale, then one page of new
    comments per tracked topic. A fault after some progress returns that progress
    (and ``more``) instead of failing the round, so faults never stall collection;
    the anchors saved are exactly those of the pages returned."""
    group_id = _group_id(account)
    state = _load_cursor(cursor)
    updates: list[dict] = []
    more = False
    now = int(time.time() * 1000)
    refresh_ms = int(config["OK_TOPICS_REFRESH_SECONDS"]) * 1000
    with client_for(account, config) as client:
        try:
            if state["topics_at"] is None or now - int(state["topics_at"]) >= refresh_ms:
                topics = client.get_topics(group_id, count=int(config["OK_RECENT_TOPICS"]))
                updates += [{"kind": "topic", "group_id": group_id, "topic": t} for t in topics]
                recent = [str(t["id"]) for t in topics]
                older = [tid for tid in state["topics"] if tid not in recent]
                state["topics"] = {tid: state["topics"].get(tid) for tid in (recent + older)[:TRACKED_TOPICS]}
                state["topics_at"] = now
            for topic_id, anchor in list(state["topics"].items()):
                page = client.get_comments(topic_id, anchor, count=int(config["OK_PAGE_SIZE"]))
                updates += [{"kind": "comment", "group_id": group_id, "topic_id": topic_id, "comment": c}
                            for c in page.get("comments") or []]
                state["topics"][topic_id] = page.get("anchor") or anchor
                more = more or bool(page.get("has_more"))
        except ChannelError:
            if not updates:
                raise
            more = True
    return PollBatch(updates=updates, cursor=json.dumps(state, sort_keys=True), more=more)


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
        author_id=author_id, author_name=ok_names.name_of(author_id, comment.get("author_name")),
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
    user_id = ok_names.bot_user(sender)
    bot_user_id = text_id((account.settings or {}).get("bot_user_id"))
    if user_id and bot_user_id and user_id == bot_user_id.removeprefix("user:"):
        return [Skipped("own message", mid)]
    # The Bot API sends a list ``attachments``; a single ``attachment`` is accepted too.
    text = _text(message.get("text"), message.get("attachments"), [message.get("attachment")])
    if not text:
        raise ValueError(f"MESSAGE_CREATED {mid} has neither text nor attachments")
    return [InboundMessage(
        account_id=account.id, external_id=mid, text=text, sent_at=from_ms(payload.get("timestamp")),
        author_id=user_id, author_name=ok_names.name_of(user_id, sender.get("name")),
        thread_ref=chat_id if chat_id.startswith("chat:") else f"chat:{chat_id}",
    )]


def prepare(account: Account, updates: list) -> None:
    """Resolve the batch's unnamed authors with one ``users.getInfo`` (never raises)."""
    ok_names.resolve(account, updates, lambda: client_for(account, ok_names.config()))


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
