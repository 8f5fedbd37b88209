"""OK collector: residents' comments under the group's recent topics, pulled with
signed ``discussions.getComments`` calls (OK has no webhook for them), and direct
messages to the group from the Bot API webhook ``/hooks/ok/<account_id>/<token>``.

The cursor is JSON: ``{"topics": {topic id: anchor or null}, "topics_at": ms}`` —
the paging anchor of every tracked topic and when the topics list was last read.
Account credentials: ``application_secret``, ``access_token``, ``webhook_token``;
settings: ``group_id`` and ``application_key`` (public; also read from credentials).
"""
from __future__ import annotations

import json
import time
from typing import Any, Mapping

from desk.channels.errors import ChannelError, PermanentError
from desk.channels.events import ChannelEvent, InboundMessage, PostSeen, Skipped
from desk.channels.ok import OkClient, from_ms, parse_date
from desk.models import Account

from .base import PollBatch

RECENT_TOPICS = 20  # topics listed on each refresh
TRACKED_TOPICS = 60  # older topics stay watched for late comments until pushed out
TOPICS_REFRESH_SECONDS = 300
PAGE_SIZE = 100


def client_for(account: Account, config: Mapping[str, Any]) -> OkClient:
    creds, settings = account.get_credentials(), account.settings or {}
    kwargs = {"timeout": config["OK_HTTP_TIMEOUT"]} if config.get("OK_HTTP_TIMEOUT") else {}
    # The import files the public application key under settings; the admin form
    # names the secret ``application_secret_key``: accept either place and name.
    return OkClient(config["OK_API_BASE"],
                    application_key=creds.get("application_key") or settings.get("application_key", ""),
                    application_secret=creds.get("application_secret") or creds.get("application_secret_key", ""),
                    access_token=creds.get("access_token", ""), **kwargs)


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
    refresh_ms = int(config.get("OK_TOPICS_REFRESH_SECONDS", TOPICS_REFRESH_SECONDS)) * 1000
    with client_for(account, config) as client:
        try:
            if state["topics_at"] is None or now - int(state["topics_at"]) >= refresh_ms:
                topics = client.get_topics(group_id, count=int(config.get("OK_RECENT_TOPICS", RECENT_TOPICS)))
                updates += [{"kind": "topic", "group_id": group_id, "topic": t} for t in topics]
                recent = [str(t["id"]) for t in topics]
                older = [tid for tid in state["topics"] if tid not in recent]
                state["topics"] = {tid: state["topics"].get(tid) for tid in (recent + older)[:TRACKED_TOPICS]}
                state["topics_at"] = now
            for topic_id, anchor in list(state["topics"].items()):
                page = client.get_comments(topic_id, anchor, count=int(config.get("OK_PAGE_SIZE", PAGE_SIZE)))
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


def _topic_text(topic: Mapping[str, Any]) -> str:
    texts = [m.get("text") for m in topic.get("media") or [] if m.get("type") == "text" and m.get("text")]
    return "\n\n".join(texts)


def _comment_id(topic_id: str, comment_id: Any) -> str:
    # OK does not promise comment ids unique across discussions: scope them by topic.
    return f"{topic_id}/{comment_id}"


def _comment(account: Account, update: Mapping[str, Any]) -> list[ChannelEvent]:
    comment, topic_id, group_id = update["comment"], str(update["topic_id"]), str(update["group_id"])
    if not comment.get("id"):
        raise ValueError("OK comment without id")
    external_id = _comment_id(topic_id, comment["id"])
    author_id = str(comment.get("author_id") or "")
    if author_id == group_id or comment.get("author_type") == "GROUP":
        return [Skipped("own comment", external_id)]
    reply_to = comment.get("reply_to_comment_id")
    return [InboundMessage(
        account_id=account.id, external_id=external_id, text=comment.get("text") or "",
        sent_at=parse_date(comment), author_id=author_id or None, author_name=comment.get("author_name") or "",
        thread_ref=topic_id, post_ref=topic_id,
        reply_to_external_id=_comment_id(topic_id, reply_to) if reply_to else None,
        permalink=topic_link(group_id, topic_id),
    )]


def _topic(account: Account, update: Mapping[str, Any]) -> list[ChannelEvent]:
    topic = update["topic"]
    topic_id = str(topic["id"])
    return [PostSeen(account_id=account.id, external_id=topic_id, text=_topic_text(topic),
                     posted_at=from_ms(topic.get("created_ms")), link=topic_link(str(update["group_id"]), topic_id))]


def _bot_message(account: Account, payload: Mapping[str, Any]) -> list[ChannelEvent]:
    """A Bot API MESSAGE_CREATED: a resident wrote to the group's chat."""
    kind = payload.get("webhookType", "MESSAGE_CREATED")
    if kind != "MESSAGE_CREATED":
        return [Skipped(f"bot webhook {kind}")]
    message, sender = payload.get("message") or {}, payload.get("sender") or {}
    mid, chat_id = message.get("mid"), (payload.get("recipient") or {}).get("chat_id")
    if not mid or not chat_id:
        raise ValueError("MESSAGE_CREATED without message.mid or recipient.chat_id")
    user_id = str(sender.get("user_id") or "").removeprefix("user:")
    bot_user_id = (account.settings or {}).get("bot_user_id")
    if bot_user_id and user_id == str(bot_user_id).removeprefix("user:"):
        return [Skipped("own message", str(mid))]
    chat_id = str(chat_id)
    return [InboundMessage(
        account_id=account.id, external_id=str(mid), text=message.get("text") or "",
        sent_at=from_ms(payload.get("timestamp")), author_id=user_id or None, author_name=sender.get("name") or "",
        thread_ref=chat_id if chat_id.startswith("chat:") else f"chat:{chat_id}",
    )]


def normalize(account: Account, update: Mapping[str, Any]) -> list[ChannelEvent]:
    """A polled topic or comment, or a Bot API webhook body, into desk events."""
    kind = update.get("kind")
    if kind == "comment":
        return _comment(account, update)
    if kind == "topic":
        return _topic(account, update)
    if kind is None and ("message" in update or "webhookType" in update):
        return _bot_message(account, update)
    raise ValueError(f"unknown OK update {kind!r}")
