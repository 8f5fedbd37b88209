"""Telegram collector: ``getUpdates`` polling, webhook parsing, and the normalisation rules.

Account credentials: ``bot_token``, ``webhook_secret``. Settings: ``channel_id``,
``discussion_chat_id``, ``username`` (the channel's public name; ``channel_username``
is accepted too), ``bot_id`` (defaults to the number before ``:`` in the token).

Message ids are unique per chat only, so a message's ``external_id`` is
``"<chat id>:<message id>"``; a comment's ``thread_ref``/``post_ref`` is the id of the
automatic forward that roots its thread in the discussion group; a direct message's
thread is ``dm:<chat id>``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from desk.channels.events import ChannelEvent, InboundMessage, PostSeen, Skipped
from desk.channels.telegram import ALLOWED_UPDATES, TelegramClient
from desk.models import Account

from .base import PollBatch

SERVICE_USER_ID = 777000
MESSAGE_KINDS = ("message", "edited_message")
POST_KINDS = ("channel_post", "edited_channel_post")
MEDIA_KINDS = ("photo", "video", "animation", "document", "audio", "voice", "video_note", "sticker",
               "location", "venue", "contact", "poll", "dice")
PAGE = 100

_clients: dict[tuple[str, str], TelegramClient] = {}


def client_for(account: Account, config: Mapping) -> TelegramClient:
    """A cached client per (API base, token): one connection pool per bot."""
    token = account.get_credentials().get("bot_token") or ""
    key = (config["TELEGRAM_API_BASE"], token)
    client = _clients.get(key)
    if client is None:
        client = TelegramClient(token, config["TELEGRAM_API_BASE"],
                                timeout=float(config.get("TELEGRAM_HTTP_TIMEOUT", 30)))
        _clients[key] = client
    return client


def fetch(account: Account, cursor: str | None, config: Mapping) -> PollBatch:
    """One ``getUpdates``; the cursor is the next offset (last update_id + 1), so the
    updates are confirmed to Telegram only by the call after their batch committed."""
    offset = int(cursor) if cursor else None
    updates = client_for(account, config).get_updates(
        offset, limit=PAGE, timeout=int(config.get("TELEGRAM_LONG_POLL_SECONDS", 0)),
        allowed_updates=ALLOWED_UPDATES)
    if not isinstance(updates, list):
        raise ValueError("getUpdates result is not a list")
    ids = [u["update_id"] for u in updates if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
    next_cursor = str(max(ids) + 1) if ids else cursor
    return PollBatch(updates=updates, cursor=next_cursor, more=len(updates) >= PAGE)


def parse_delivery(account: Account, payload: Any) -> list[dict]:
    """A webhook body is exactly one Update."""
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        raise ValueError("not a Telegram update (no integer update_id)")
    return [payload]


def normalize(account: Account, update: dict) -> list[ChannelEvent]:
    if not isinstance(update, dict) or "update_id" not in update:
        raise ValueError("not a Telegram update (no update_id)")
    for kind in MESSAGE_KINDS:
        if kind in update:
            return [_message(account, _object(update[kind]), is_edit=kind == "edited_message")]
    for kind in POST_KINDS:
        if kind in update:
            return [_channel_post(account, _object(update[kind]))]
    kinds = [k for k in update if k != "update_id"]
    return [Skipped(f"update type {kinds[0] if kinds else 'empty'}", str(update["update_id"]))]


# --- rules ----------------------------------------------------------------------------


def _object(value) -> dict:
    if not isinstance(value, dict) or "chat" not in value or "message_id" not in value:
        raise ValueError("message without chat or message_id")
    return value


def _setting(account: Account, *names: str):
    for name in names:
        value = (account.settings or {}).get(name)
        if value not in (None, ""):
            return value
    return None


def _same_id(a, b) -> bool:
    return a is not None and b is not None and str(a) == str(b)


# Token-derived bot ids by the account's stored ciphertext: decrypting the credentials for
# every message costs more than the rest of its normalisation; a changed token is new ciphertext.
_bot_ids: dict[str | None, str | None] = {}


def _bot_id(account: Account) -> str | None:
    configured = _setting(account, "bot_id")
    if configured is not None:
        return str(configured)
    key = account.credentials_encrypted
    if key not in _bot_ids:
        if len(_bot_ids) > 1000:
            _bot_ids.clear()
        token = account.get_credentials().get("bot_token") or ""
        _bot_ids[key] = token.split(":", 1)[0] or None
    return _bot_ids[key]


def _when(timestamp) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), timezone.utc) if timestamp else None


def _text(message: dict) -> str | None:
    text = message.get("text") or message.get("caption")
    if text:
        return text
    media = [kind for kind in MEDIA_KINDS if kind in message]
    return f"[{media[0]}]" if media else None


def _post_link(account: Account, post_id) -> str:
    username = _setting(account, "username", "channel_username")
    return f"https://t.me/{str(username).lstrip('@')}/{post_id}" if username and post_id else ""


def _channel_post(account: Account, post: dict) -> ChannelEvent:
    channel_id = _setting(account, "channel_id")
    if channel_id is not None and not _same_id(post["chat"].get("id"), channel_id):
        return Skipped("post of another channel", str(post["message_id"]))
    return PostSeen(account_id=account.id, external_id=str(post["message_id"]), text=_text(post) or "",
                    posted_at=_when(post.get("date")), link=_post_link(account, post["message_id"]))


def _auto_forward(account: Account, message: dict) -> ChannelEvent:
    origin = message.get("forward_origin") or {}
    post_id = origin.get("message_id") or message.get("forward_from_message_id")
    if not post_id:
        raise ValueError("automatic forward without the channel post id")
    return PostSeen(account_id=account.id, external_id=str(post_id), text=_text(message) or "",
                    posted_at=_when(origin.get("date") or message.get("date")),
                    link=_post_link(account, post_id), thread_ref=str(message["message_id"]))


def _author(account: Account, message: dict) -> tuple[str, str] | Skipped:
    """(author id, display name), or why the message is not a resident's."""
    chat = message["chat"]
    sender_chat = message.get("sender_chat")
    if sender_chat:  # anonymous: sent on behalf of a channel or of the group itself
        own = {str(v) for v in (_setting(account, "channel_id"), _setting(account, "discussion_chat_id"),
                                chat.get("id")) if v is not None}
        if str(sender_chat.get("id")) in own:
            return Skipped("the city's own channel or group", None)
        name = sender_chat.get("title") or sender_chat.get("username") or str(sender_chat.get("id"))
        return str(sender_chat["id"]), name
    sender = message.get("from") or {}
    if _same_id(sender.get("id"), _bot_id(account)):
        return Skipped("the desk's own bot", None)
    if sender.get("is_bot"):
        return Skipped("a bot", None)
    if sender.get("id") == SERVICE_USER_ID:
        return Skipped("Telegram service message", None)
    name = " ".join(p for p in (sender.get("first_name"), sender.get("last_name")) if p)
    if not name and sender.get("username"):
        name = "@" + sender["username"]
    return (str(sender["id"]) if sender.get("id") is not None else ""), name


def _message(account: Account, message: dict, *, is_edit: bool) -> ChannelEvent:
    chat = message["chat"]
    chat_id = chat.get("id")
    external_id = f"{chat_id}:{message['message_id']}"
    if message.get("is_automatic_forward"):
        return _auto_forward(account, message)
    author = _author(account, message)
    if isinstance(author, Skipped):
        return Skipped(author.reason, external_id)
    text = _text(message)
    if text is None:
        return Skipped("service message", external_id)
    author_id, author_name = author
    reply = message.get("reply_to_message") or {}
    thread_ref = post_ref = reply_to = None
    permalink = ""
    if chat.get("type") == "private":
        thread_ref = f"dm:{chat_id}"
    else:
        discussion = _setting(account, "discussion_chat_id")
        if discussion is not None and not _same_id(chat_id, discussion):
            return Skipped("a chat other than the discussion group", external_id)
        root = message.get("message_thread_id")
        if root is None and reply.get("is_automatic_forward"):
            root = reply.get("message_id")
        if root is not None:
            thread_ref = post_ref = str(root)
        else:
            thread_ref = f"chat:{chat_id}"
        if reply and not (reply.get("is_automatic_forward") or _same_id(reply.get("message_id"), root)):
            reply_to = f"{chat_id}:{reply['message_id']}"
        origin = reply.get("forward_origin") or {}
        if reply.get("is_automatic_forward") and origin.get("message_id"):
            link = _post_link(account, origin["message_id"])
            permalink = f"{link}?comment={message['message_id']}" if link else ""
    return InboundMessage(
        account_id=account.id, external_id=external_id, text=text, sent_at=_when(message.get("date")),
        author_id=author_id or None, author_name=author_name, thread_ref=thread_ref, post_ref=post_ref,
        reply_to_external_id=reply_to, permalink=permalink, is_edit=is_edit,
        edited_at=_when(message.get("edit_date")) if is_edit else None)
