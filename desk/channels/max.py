"""A thin synchronous client of the MAX Bot API (``platform-api2.max.ru``).

Auth is the bare token in the ``Authorization`` header: MAX rejects a ``Bearer``
prefix and no longer accepts ``access_token`` in the query. Errors come as the HTTP
status plus ``{"code", "message"}``: 429 and 5xx are retryable, other 4xx
permanent. The token never leaves the header (not in URLs, messages or logs).
"""
from __future__ import annotations

from typing import Any

from .errors import MalformedResponse, PermanentError, RetryableError
from .http import DEFAULT_TIMEOUT, HttpTransport
from .payload import from_ms, optional_object, text_id

__all__ = ["MaxClient", "UPDATE_TYPES", "from_ms", "update_key"]

#: the id the collector gives a message that is only a forward (``body: null``, no mid of
#: its own); nothing on MAX answers to it, so a reply goes to the thread instead
FORWARD_ONLY_PREFIX = "fwd:"
#: the update types the desk reads (comments under posts, group chats, dialogs)
UPDATE_TYPES = ("message_created", "message_edited", "message_removed",
                "comment_created", "comment_edited", "comment_removed")


class MaxClient:
    def __init__(self, base_url: str, token: str, *, timeout: Any = DEFAULT_TIMEOUT):
        if not token:
            raise PermanentError("the MAX account has no bot token")
        self.transport = HttpTransport(base_url, timeout=timeout, headers={"Authorization": token})

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> MaxClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, *, idempotent: bool = True, **kwargs) -> Any:
        status, body = self.transport.call(method, path, idempotent=idempotent, **kwargs)
        if status == 429:
            raise RetryableError(_describe(body, "too many requests"), code=429,
                                 retry_after=_retry_after(body))
        if status >= 400:
            raise PermanentError(_describe(body, f"HTTP {status}"),
                                 code=(body or {}).get("code", status) if isinstance(body, dict) else status)
        if not isinstance(body, dict):
            raise MalformedResponse(f"unexpected MAX answer to {method} {path}", payload=str(body)[:2000])
        return body

    def get_updates(self, marker: int | None, *, limit: int = 100, timeout: int = 0,
                    types: tuple[str, ...] = UPDATE_TYPES) -> dict:
        """One long-poll call; passing ``marker`` commits every earlier update."""
        params: dict[str, Any] = {"limit": limit, "timeout": timeout, "types": ",".join(types)}
        if marker is not None:
            params["marker"] = marker
        body = self.request("GET", "/updates", params=params)
        if not isinstance(body.get("updates"), list):
            raise MalformedResponse("MAX /updates without an updates list", payload=str(body)[:2000])
        return body

    def get_chat(self, chat_id: int | str) -> dict:
        return self.request("GET", f"/chats/{int(chat_id)}")

    def subscribe(self, url: str, secret: str, update_types: tuple[str, ...] = UPDATE_TYPES) -> dict:
        return self.request("POST", "/subscriptions",
                            json={"url": url, "secret": secret, "update_types": list(update_types)})

    def subscriptions(self) -> list[dict]:
        return self.request("GET", "/subscriptions").get("subscriptions", [])

    def unsubscribe(self, url: str) -> dict:
        return self.request("DELETE", "/subscriptions", params={"url": url})

    # Replies (added by the replies feature): writes, never repeated on a timeout.

    def send_comment(self, post_mid: str, text: str, *, reply_to: str | None = None) -> dict:
        """Comment under a channel post, as a reply to the comment ``reply_to``."""
        body: dict[str, Any] = {"text": text}
        if reply_to:
            body["link"] = {"type": "reply", "mid": reply_to}
        return self.request("POST", f"/messages/{post_mid}/comments", idempotent=False, json=body)

    def send_message(self, chat_id: int | str, text: str, *, reply_to: str | None = None) -> dict:
        """A message in a chat or dialog, as a reply to the message ``reply_to``."""
        body: dict[str, Any] = {"text": text, "notify": True}
        if reply_to:
            body["link"] = {"type": "reply", "mid": reply_to}
        return self.request("POST", "/messages", idempotent=False, params={"chat_id": int(chat_id)}, json=body)


def _describe(body: Any, default: str) -> str:
    if isinstance(body, dict):
        code, message = body.get("code") or body.get("error"), body.get("message")
        if code or message:
            return f"{code}: {message}" if code and message else str(code or message)
    return default


def _retry_after(body: Any) -> float | None:
    # MAX documents no retry hint for 429; honour one if it ever appears.
    if isinstance(body, dict) and isinstance(body.get("retry_after"), (int, float)):
        return float(body["retry_after"])
    return None


def update_key(update: Any) -> str | None:
    """What identifies one webhook delivery (MAX re-sends the same update until a
    200): the update type, its timestamp and the message id. Never raises, whatever
    JSON value arrives (a string, a list, ``body`` given as a string); ``None`` when
    nothing identifies the update.

    A message whose ``body`` is ``null`` (only a forward) has no id of its own: the
    chat, the sender and the forwarded message's id stand in for it.
    """
    if not isinstance(update, dict):
        return None
    message = optional_object(update.get("message"))
    mid = text_id(optional_object(message.get("body")).get("mid")) or text_id(update.get("message_id"))
    if mid is None:
        recipient = optional_object(message.get("recipient"))
        parts = [text_id(recipient.get("chat_id")) or text_id(update.get("chat_id")),
                 text_id(optional_object(message.get("sender")).get("user_id"))
                 or text_id(optional_object(update.get("user")).get("user_id")) or text_id(update.get("user_id")),
                 text_id(optional_object(optional_object(message.get("link")).get("message")).get("mid"))]
        mid = "/".join(part or "" for part in parts).strip("/") or None
    timestamp = text_id(update.get("timestamp"))
    if timestamp is None and mid is None:
        return None
    return f"{text_id(update.get('update_type'))}:{timestamp}:{mid or ''}"
