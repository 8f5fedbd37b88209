"""MAX collector: long polling of ``/updates`` (the marker is the cursor) and the
normalisation shared with the webhook ``/hooks/max/<account_id>``.

Account credentials: ``bot_token``, ``webhook_secret``; settings: ``chat_id`` (the
city's channel) and ``bot_user_id`` (to recognise the bot's own messages).
"""
from __future__ import annotations

from typing import Any, Mapping

from desk.channels.events import ChannelEvent, CommentDeleted, InboundMessage, PostSeen, Skipped
from desk.channels.max import MaxClient, from_ms
from desk.models import Account

from .base import PollBatch

POLL_LIMIT = 100


def client_for(account: Account, config: Mapping[str, Any]) -> MaxClient:
    kwargs = {"timeout": config["MAX_HTTP_TIMEOUT"]} if config.get("MAX_HTTP_TIMEOUT") else {}
    creds = account.get_credentials()
    # ``access_token`` is what the admin form calls the bot token.
    return MaxClient(config["MAX_API_BASE"], creds.get("bot_token") or creds.get("access_token", ""), **kwargs)


def fetch(account: Account, cursor: str | None, config: Mapping[str, Any]) -> PollBatch:
    """Read updates after ``cursor``. Passing the stored marker commits, on MAX's
    side, only what our database already holds; the new marker is stored with the
    batch, so a crash before the commit re-reads the same updates."""
    limit = int(config.get("MAX_POLL_LIMIT", POLL_LIMIT))
    with client_for(account, config) as client:
        body = client.get_updates(int(cursor) if cursor else None, limit=limit,
                                  timeout=int(config.get("MAX_POLL_TIMEOUT", 0)))
    updates = body["updates"]
    marker = body.get("marker")
    return PollBatch(updates=updates, cursor=str(marker) if marker is not None else cursor,
                     more=len(updates) >= limit)


def _author_name(user: Mapping[str, Any]) -> str:
    return " ".join(filter(None, [user.get("first_name"), user.get("last_name")])).strip() \
        or (user.get("username") or "")


def _is_ours(account: Account, sender: Mapping[str, Any] | None) -> bool:
    """The channel itself (no sender), our bot, or any other bot: not a resident."""
    if not sender:
        return True
    bot_user_id = (account.settings or {}).get("bot_user_id")
    return bool(sender.get("is_bot")) or (bot_user_id is not None and str(sender.get("user_id")) == str(bot_user_id))


def _reply_to(message: Mapping[str, Any]) -> str | None:
    link = message.get("link") or {}
    if link.get("type") == "reply":
        return (link.get("message") or {}).get("mid")
    return None


def _message_parts(update: Mapping[str, Any]) -> tuple[dict, dict, dict, str]:
    message = update.get("message")
    if not isinstance(message, dict):
        raise ValueError(f"{update.get('update_type')} without a message")
    body = message.get("body") or {}
    mid = body.get("mid")
    if not mid:
        raise ValueError(f"{update.get('update_type')} without body.mid")
    return message, body, message.get("recipient") or {}, str(mid)


def _comment(account: Account, update: Mapping[str, Any], *, edit: bool) -> list[ChannelEvent]:
    message, body, recipient, mid = _message_parts(update)
    post_id = recipient.get("post_id")
    if not post_id:
        raise ValueError("comment without recipient.post_id")
    sender = message.get("sender")
    if _is_ours(account, sender):
        return [Skipped("own comment", mid)]
    return [InboundMessage(
        account_id=account.id, external_id=mid, text=body.get("text") or "",
        sent_at=from_ms(message.get("timestamp") or update.get("timestamp")),
        author_id=str(sender["user_id"]), author_name=_author_name(sender),
        thread_ref=str(post_id), post_ref=str(post_id), reply_to_external_id=_reply_to(message),
        is_edit=edit, edited_at=from_ms(update.get("timestamp")) if edit else None,
    )]


def _message(account: Account, update: Mapping[str, Any], *, edit: bool) -> list[ChannelEvent]:
    message, body, recipient, mid = _message_parts(update)
    chat_type = recipient.get("chat_type")
    chat_id = recipient.get("chat_id")
    if chat_type == "channel":
        channel_id = (account.settings or {}).get("chat_id")
        if channel_id is not None and str(chat_id) != str(channel_id):
            return [Skipped("another channel", mid)]
        return [PostSeen(account_id=account.id, external_id=mid, text=body.get("text") or "",
                         posted_at=from_ms(message.get("timestamp")), link=message.get("url") or "")]
    if chat_type not in ("chat", "dialog"):
        return [Skipped(f"chat type {chat_type}", mid)]
    sender = message.get("sender")
    if _is_ours(account, sender):
        return [Skipped("own message", mid)]
    if chat_id is None:
        raise ValueError("chat message without recipient.chat_id")
    return [InboundMessage(
        account_id=account.id, external_id=mid, text=body.get("text") or "",
        sent_at=from_ms(message.get("timestamp") or update.get("timestamp")),
        author_id=str(sender["user_id"]), author_name=_author_name(sender),
        thread_ref=f"chat:{chat_id}", reply_to_external_id=_reply_to(message),
        permalink=message.get("url") or "",
        is_edit=edit, edited_at=from_ms(update.get("timestamp")) if edit else None,
    )]


def _removed(account: Account, update: Mapping[str, Any]) -> list[ChannelEvent]:
    message_id = update.get("message_id")
    if not message_id:
        raise ValueError(f"{update.get('update_type')} without message_id")
    return [CommentDeleted(account.id, str(message_id), from_ms(update.get("timestamp")))]


def normalize(account: Account, update: Mapping[str, Any]) -> list[ChannelEvent]:
    """One MAX update into desk events (raises on a shape it cannot read)."""
    kind = update.get("update_type")
    if kind == "comment_created":
        return _comment(account, update, edit=False)
    if kind == "comment_edited":
        return _comment(account, update, edit=True)
    if kind == "message_created":
        return _message(account, update, edit=False)
    if kind == "message_edited":
        return _message(account, update, edit=True)
    if kind in ("comment_removed", "message_removed"):
        return _removed(account, update)
    if not kind:
        raise ValueError("update without update_type")
    return [Skipped(str(kind))]

