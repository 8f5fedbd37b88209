"""A thin synchronous client of the Telegram Bot API.

Calls ``<TELEGRAM_API_BASE>/bot<token>/<method>`` with a JSON body and maps Telegram's
answers to :mod:`desk.channels.errors`: 429 → :class:`RetryableError` with
``retry_after``; 5xx, timeouts and truncated bodies → retryable; 400/401/403/404/409 →
:class:`PermanentError` with Telegram's description. The token sits in the URL path, so
it is masked in every error message and in httpx's request log.

:func:`message_text` says what a Message carries in the desk's one form: attachment
labels (:mod:`desk.channels.media`) then the text or caption; ``None`` for a service
message (members joined, a topic created, a video chat started …).
"""
from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from ..text import clean_text
from .errors import ChannelError, MalformedResponse, PermanentError, RetryableError
from .http import HttpTransport
from .media import compose, label

log = logging.getLogger(__name__)

#: Update types the desk asks for (reactions must be listed explicitly to arrive).
ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post", "my_chat_member"]
_TOKEN_IN_TEXT = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


def mask_token(text: str, token: str | None = None) -> str:
    """``text`` with any bot token replaced by ``bot<hidden>``."""
    if token:
        text = text.replace(token, "<hidden>")
    return _TOKEN_IN_TEXT.sub("bot<hidden>", text)


class _MaskTokens(logging.Filter):
    """httpx logs every request URL at INFO; the URL carries the bot token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "bot" in message:
            record.msg, record.args = mask_token(message), None
        return True


for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _MaskTokens) for f in _logger.filters):
        _logger.addFilter(_MaskTokens())


class TelegramClient:
    """One bot's client. ``poll_timeout`` is added to the read timeout of getUpdates."""

    def __init__(self, token: str, base_url: str, *, timeout: float = 30.0):
        if not token:
            raise PermanentError("the account has no bot token")
        self.token = token
        self.timeout = timeout
        self.transport = HttpTransport(base_url, timeout=httpx.Timeout(timeout, connect=5.0))

    def close(self) -> None:
        self.transport.close()

    def call(self, method: str, params: dict | None = None, *, idempotent: bool = True,
             read_timeout: float | None = None) -> Any:
        """Call one Bot API method and return its ``result``."""
        kwargs: dict = {"json": params or {}}
        if read_timeout is not None:
            kwargs["timeout"] = httpx.Timeout(read_timeout, connect=5.0)
        try:
            status, body = self.transport.call("POST", f"/bot{self.token}/{method}", idempotent=idempotent,
                                               **kwargs)
        except ChannelError as exc:
            exc.description = mask_token(exc.description, self.token)
            exc.args = (exc.description,)
            exc.__cause__ = exc.__context__ = None  # httpx errors carry the URL
            raise
        if not isinstance(body, dict) or "ok" not in body:
            raise MalformedResponse(f"{method}: not a Bot API answer (HTTP {status})")
        if body["ok"]:
            return body.get("result")
        code = body.get("error_code", status)
        description = mask_token(str(body.get("description") or f"HTTP {status}"), self.token)
        parameters = body.get("parameters") or {}
        if code == 429 or status == 429:
            raise RetryableError(description, code=429, retry_after=_seconds(parameters.get("retry_after")))
        if isinstance(code, int) and code >= 500:
            raise RetryableError(description, code=code)
        raise PermanentError(description, code=code)

    # --- methods the desk uses ---------------------------------------------------------

    def get_updates(self, offset: int | None, *, limit: int = 100, timeout: int = 0,
                    allowed_updates: list[str] | None = None) -> list[dict]:
        params: dict = {"limit": limit, "timeout": timeout}
        if offset is not None:
            params["offset"] = offset
        if allowed_updates is not None:
            params["allowed_updates"] = allowed_updates
        return self.call("getUpdates", params, read_timeout=self.timeout + timeout)

    def send_message(self, chat_id: int | str, text: str, *, reply_to: int | None = None) -> dict:
        params: dict = {"chat_id": chat_id, "text": text}
        if reply_to is not None:
            params["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        return self.call("sendMessage", params, idempotent=False)

    def set_webhook(self, url: str, secret_token: str, *, allowed_updates: list[str] | None = None) -> bool:
        return self.call("setWebhook", {"url": url, "secret_token": secret_token,
                                        "allowed_updates": allowed_updates or ALLOWED_UPDATES})

    def delete_webhook(self, *, drop_pending_updates: bool = False) -> bool:
        return self.call("deleteWebhook", {"drop_pending_updates": drop_pending_updates})

    def get_webhook_info(self) -> dict:
        return self.call("getWebhookInfo")

    def get_chat_member_count(self, chat_id: int | str) -> int:
        return int(self.call("getChatMemberCount", {"chat_id": chat_id}))


def _seconds(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --- what a message says ------------------------------------------------------------------

#: Message fields that carry an attachment → canonical kind of :mod:`desk.channels.media`,
#: in the order the labels are written.
ATTACHMENT_FIELDS = {
    "animation": "animation", "photo": "photo", "live_photo": "photo", "paid_media": "photo",
    "video": "video", "video_note": "video_note", "voice": "voice", "audio": "audio",
    "document": "file", "sticker": "sticker", "story": "story", "venue": "location",
    "location": "location", "contact": "contact", "poll": "poll", "dice": "dice", "game": "game",
    "checklist": "other", "invoice": "other", "giveaway": "other", "rich_message": "other",
}
#: For backward compatibility Telegram also sets the older field: not a second attachment.
_ALSO_SET = {"animation": "document", "live_photo": "photo", "venue": "location"}
#: Fields of service messages (members joined, title changed, topic created, video chat …):
#: nothing a resident wrote. Taken from the Bot API's Message type.
SERVICE_FIELDS = frozenset({
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo", "delete_chat_photo",
    "group_chat_created", "supergroup_chat_created", "channel_chat_created", "message_auto_delete_timer_changed",
    "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message", "successful_payment", "refunded_payment",
    "users_shared", "chat_shared", "gift", "unique_gift", "gift_upgrade_sent", "connected_website",
    "write_access_allowed", "passport_data", "proximity_alert_triggered", "boost_added", "chat_background_set",
    "checklist_tasks_done", "checklist_tasks_added", "direct_message_price_changed", "forum_topic_created",
    "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened", "general_forum_topic_hidden",
    "general_forum_topic_unhidden", "giveaway_created", "giveaway_completed", "giveaway_winners",
    "managed_bot_created", "paid_message_price_changed", "poll_option_added", "poll_option_deleted",
    "suggested_post_approved", "suggested_post_approval_failed", "suggested_post_declined",
    "suggested_post_paid", "suggested_post_refunded", "video_chat_scheduled", "video_chat_started",
    "video_chat_ended", "video_chat_participants_invited", "web_app_data", "chat_owner_left",
    "chat_owner_changed",
})
_FORWARD_FIELDS = ("forward_origin", "forward_from", "forward_from_chat", "forward_sender_name")


def attachment_kinds(message: dict) -> list[str]:
    """Canonical kinds of what is attached to ``message`` (a forward counts as one)."""
    present = {name for name in ATTACHMENT_FIELDS if message.get(name)}
    present -= {_ALSO_SET[name] for name in present if name in _ALSO_SET}
    kinds = [ATTACHMENT_FIELDS[name] for name in ATTACHMENT_FIELDS if name in present]
    if not message.get("is_automatic_forward") and any(message.get(f) for f in _FORWARD_FIELDS):
        kinds.insert(0, "forward")
    return kinds


def _words(message: dict) -> object:
    """The text, the caption, or what names a captionless poll, venue or checklist."""
    for field in ("text", "caption"):
        if isinstance(message.get(field), (str, int, float)) and not isinstance(message.get(field), bool):
            return clean_text(message[field])
    for field, key in (("poll", "question"), ("venue", "title"), ("checklist", "title")):
        if isinstance(message.get(field), dict):
            return clean_text(message[field].get(key))
    return None


def message_text(message: dict) -> str | None:
    """What the desk stores for ``message``: attachment labels then the words
    (``"[фото] Яма у дома 5"``); ``None`` for a service message. Content the desk does
    not know yet still reads as an attachment, never as an empty text."""
    text = compose(_words(message), attachment_kinds(message))
    if text:
        return text
    if SERVICE_FIELDS.intersection(message):
        return None
    return label("other")
