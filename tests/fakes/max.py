"""A strict fake of the MAX Bot API (schema v0.0.33), over real HTTP.

Strict where the real one is: ``Authorization: <token>`` only (a ``Bearer`` prefix
or an ``access_token`` query parameter is a 401 ``verify.token``), errors as
``{"code", "message"}`` with the HTTP status, millisecond timestamps, and the
``/updates`` marker: passing a marker commits every earlier update, omitting it
returns everything since the last commit. Helpers build residents' comments, chat
messages, channel posts, attachments, forwards (``body: null``), anonymous comments
(no ``sender``), service updates and button callbacks; :meth:`FakeMax.push` delivers
an update to a webhook with ``X-Max-Bot-Api-Secret`` as MAX does.
"""
from __future__ import annotations

import itertools
import re
import threading
import time
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from .server import FakeServer, json_response

SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{5,256}$")
BOT_USER_ID = 9000001


def now_ms() -> int:
    return int(time.time() * 1000)


def error(status: int, code: str, message: str, **kw) -> Response:
    return json_response({"code": code, "message": message}, status, **kw)


class FakeMax(FakeServer):
    def __init__(self, token: str = "max-bot-token", *, seed: int = 0, channel_id: int = -71234567890,
                 bot_user_id: int = BOT_USER_ID):
        super().__init__(seed)
        self.token = token
        self.tokens = {token}  # more bots on the same server: add_token (benches)
        self.channel_id = channel_id
        self.bot_user_id = bot_user_id
        self.updates: list[dict] = []  # update i has sequence number i
        self.committed = 0  # updates before this index are committed
        self.subscriptions: list[dict] = []
        self.chats: dict[int, dict] = {channel_id: {"chat_id": channel_id, "type": "channel", "status": "active",
                                                    "title": "Администрация города", "participants_count": 15234,
                                                    "is_public": True, "link": "https://max.ru/city",
                                                    "last_event_time": now_ms(), "messages_count": 0}}
        self.sent_comments: list[dict] = []
        self.sent_messages: list[dict] = []
        self.sent_message_url: str | None = None  # the ``url`` POST /messages answers with, if any
        self._new_update = threading.Condition(self.lock)
        self._ids = itertools.count(1)

    def add_token(self, token: str) -> None:
        """Another bot token this server accepts (its own rate window in strict_max)."""
        self.tokens.add(token)

    # -- building updates -----------------------------------------------------
    # The shapes follow the official stubs (max-bot-api-client-go ``stabs/``) and the
    # OpenAPI schema: optional fields are left out rather than sent as null, ``sender``
    # is missing on channel posts and may be missing on residents' comments.
    def _mid(self) -> str:
        return f"mid.{0x19b2f1c0000 + next(self._ids):016x}"

    @staticmethod
    def user(user_id: int, first_name: str = "Иван", last_name: str | None = "Петров", *,
             is_bot: bool = False) -> dict:
        return {"user_id": user_id, "first_name": first_name, "last_name": last_name, "username": None,
                "is_bot": is_bot, "last_activity_time": now_ms(),
                "name": " ".join(filter(None, [first_name, last_name]))}

    def attachment(self, kind: str, **extra) -> dict:
        """An attachment of ``kind`` (image, video, audio, file, sticker, contact, share,
        location, inline_keyboard) shaped as the schema describes it."""
        n = next(self._ids)
        media = {"url": f"https://i.oneme.ru/i?r=fake{n}", "token": f"tok{n:08d}"}
        shapes = {
            "image": {"payload": {"photo_id": 7000 + n, **media}},
            "video": {"payload": media, "thumbnail": {"url": media["url"]}, "width": 720, "height": 1280,
                      "duration": 12},
            "audio": {"payload": media, "transcription": None},
            "file": {"payload": media, "filename": "заявление.pdf", "size": 48213},
            "sticker": {"payload": {"url": media["url"], "code": f"st{n}"}, "width": 256, "height": 256},
            "contact": {"payload": {"vcf_info": "BEGIN:VCARD\nFN:Иван Петров\nEND:VCARD", "max_info": None}},
            "share": {"payload": {"url": "https://belogorck.ru/news/1", "token": None}, "title": "Новости города",
                      "description": None, "image_url": None},
            "location": {"latitude": 50.9213, "longitude": 128.4739},
            "inline_keyboard": {"payload": {"buttons": [[{"type": "callback", "text": "Да", "payload": "yes"}]]}},
        }
        return {"type": kind, **shapes.get(kind, {}), **extra}

    def add(self, update: dict) -> dict:
        with self._new_update:
            self.updates.append(update)
            self._new_update.notify_all()
        return update

    def _message(self, sender: dict | None, recipient: dict, text: str | None, *, link: dict | None = None,
                 url: str | None = None, ts: int | None = None, attachments: list[dict] | None = None,
                 anonymous: bool = False, body: bool = True) -> dict:
        ts = ts or now_ms()
        message: dict = {"recipient": recipient, "timestamp": ts}
        if not anonymous:
            message["sender"] = sender
        message["body"] = {"mid": self._mid(), "seq": next(self._ids), "text": text,
                           "attachments": attachments} if body else None
        if link is not None:
            message["link"] = link
        if url is not None:
            message["url"] = url
        return message

    def _update(self, kind: str, message: dict) -> dict:
        return self.add({"update_type": kind, "timestamp": message["timestamp"], "message": message})

    def channel_post(self, text: str = "Ремонт улицы Ленина начнётся 1 июня") -> dict:
        """The city publishes in its channel (no ``sender``: posted as the channel)."""
        message = self._message(None, {"chat_id": self.channel_id, "chat_type": "channel", "user_id": None},
                                text, url=f"https://max.ru/city/{next(self._ids)}", anonymous=True)
        return self._update("message_created", message)

    @staticmethod
    def _linked(kind: str, original: dict, chat_id: int | None) -> dict:
        link = {"type": kind, "message": dict(original["message"]["body"] or {}), "chat_id": chat_id}
        if "sender" in original["message"]:
            link["sender"] = original["message"]["sender"]
        return link

    def comment(self, post: dict, text: str | None, sender: dict | None = None, *, reply_to: dict | None = None,
                attachments: list[dict] | None = None, anonymous: bool = False) -> dict:
        """A resident comments under a channel post (``post`` is its update);
        ``anonymous`` leaves ``sender`` out, as MAX does on residents' comments."""
        post_mid = post["message"]["body"]["mid"]
        link = self._linked("reply", reply_to, self.channel_id) if reply_to is not None else None
        message = self._message(sender or self.user(5550001),
                                {"chat_id": self.channel_id, "chat_type": "channel", "user_id": None,
                                 "post_id": post_mid}, text, link=link, attachments=attachments, anonymous=anonymous)
        return self._update("comment_created", message)

    def edit_comment(self, comment: dict, text: str) -> dict:
        message = dict(comment["message"], body=dict(comment["message"]["body"], text=text))
        return self.add({"update_type": "comment_edited", "timestamp": now_ms(), "message": message})

    def remove_comment(self, comment: dict) -> dict:
        message = comment["message"]
        return self.add({"update_type": "comment_removed", "timestamp": now_ms(),
                         "message_id": message["body"]["mid"], "chat_id": self.channel_id,
                         "user_id": (message.get("sender") or {}).get("user_id"),
                         "post_id": message["recipient"]["post_id"]})

    def chat_message(self, chat_id: int, text: str | None, sender: dict | None = None, *, chat_type: str = "chat",
                     reply_to: dict | None = None, attachments: list[dict] | None = None,
                     anonymous: bool = False) -> dict:
        link = self._linked("reply", reply_to, chat_id) if reply_to is not None else None
        message = self._message(sender or self.user(5550002, "Мария", "Иванова"),
                                {"chat_id": chat_id, "chat_type": chat_type,
                                 "user_id": self.bot_user_id if chat_type == "dialog" else None},
                                text, link=link, attachments=attachments, anonymous=anonymous)
        return self._update("message_created", message)

    def forward(self, chat_id: int, original: dict, sender: dict | None = None, *, text: str | None = None,
                chat_type: str = "chat", from_chat: int = -695695695695) -> dict:
        """A resident forwards ``original`` (an update) into a chat; without ``text``
        the message's ``body`` is null, as the schema allows for a bare forward."""
        message = self._message(sender or self.user(5550002, "Мария", "Иванова"),
                                {"chat_id": chat_id, "chat_type": chat_type, "user_id": None}, text,
                                link=self._linked("forward", original, from_chat), body=text is not None)
        return self._update("message_created", message)

    def service(self, update_type: str, chat_id: int, user: dict | None = None, **fields) -> dict:
        """A service update (bot_added, bot_started, user_added, chat_title_changed,
        dialog_muted, …): no message, the chat and the user who caused it."""
        user = user or self.user(5550009, "Олег", None)
        return self.add({"update_type": update_type, "timestamp": now_ms(), "chat_id": chat_id, "user": user,
                         "user_id": user["user_id"], **fields})

    def bot_started(self, chat_id: int, user: dict) -> dict:
        return self.service("bot_started", chat_id, user, user_locale="ru")

    def callback(self, message_update: dict, user: dict | None = None, payload: str = "yes") -> dict:
        """A person pressed a button under the bot's message."""
        user = user or self.user(5550002, "Мария", "Иванова")
        return self.add({"update_type": "message_callback", "timestamp": now_ms(), "user_locale": "ru",
                         "callback": {"timestamp": now_ms(), "callback_id": f"cb{next(self._ids)}", "user": user,
                                      "payload": payload},
                         "message": message_update["message"]})

    # -- webhook pusher -------------------------------------------------------
    def push(self, url: str, update: dict, secret: str | None = None, *, timeout: float = 10.0) -> httpx.Response:
        """Deliver ``update`` to a webhook as MAX does (one update per POST); the
        secret defaults to the current subscription's."""
        if secret is None and self.subscriptions:
            secret = self.subscriptions[-1].get("secret")
        headers = {"X-Max-Bot-Api-Secret": secret} if secret else {}
        return httpx.post(url, json=update, headers=headers, timeout=timeout)

    # -- HTTP -----------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        auth = request.headers.get("Authorization")
        if "access_token" in request.args:
            return error(401, "verify.token", "access_token query parameter is no longer supported; "
                                              "use the Authorization header")
        if not auth or auth not in self.tokens:
            return error(401, "verify.token", "Invalid access_token")
        fault = self.draw_fault()
        if fault == "hang":
            self.hang()
        elif fault == "429":
            return error(429, "too.many.requests", "Too many requests")
        elif fault in ("500", "503"):
            return error(int(fault), "internal.error", "Internal error")
        truncated = fault == "truncated"
        path, method = request.path, request.method
        if path == "/updates" and method == "GET":
            return self._get_updates(request, truncated)
        if path == "/subscriptions":
            return self._subscriptions(request, truncated)
        match = re.fullmatch(r"/chats/(-?\d+)", path)
        if match and method == "GET":
            chat = self.chats.get(int(match.group(1)))
            if chat is None:
                return error(404, "not.found", "Chat not found")
            return json_response(chat, truncated=truncated)
        match = re.fullmatch(r"/messages/([A-Za-z0-9._-]+)/comments", path)
        if match and method == "POST":
            return self._send_comment(match.group(1), request, truncated)
        if path == "/messages" and method == "POST":
            return self._send_message(request, truncated)
        return error(404, "not.found", f"No method {method} {path}")

    def _get_updates(self, request: Request, truncated: bool) -> Response:
        if self.subscriptions:
            return error(405, "method.not.allowed", "Long polling is unavailable while a webhook is set")
        try:
            limit = int(request.args.get("limit", 100))
            timeout = int(request.args.get("timeout", 30))
            marker = request.args.get("marker")
            marker = int(marker) if marker not in (None, "", "null") else None
        except ValueError:
            return error(400, "proto.payload", "Invalid parameter")
        if not 1 <= limit <= 1000 or not 0 <= timeout <= 90:
            return error(400, "proto.payload", "limit must be 1..1000, timeout 0..90")
        types = set(filter(None, request.args.get("types", "").split(","))) or None
        deadline = time.monotonic() + timeout
        with self._new_update:
            if marker is not None:
                self.committed = max(self.committed, min(marker, len(self.updates)))
            start = marker if marker is not None else self.committed
            while start >= len(self.updates) and time.monotonic() < deadline:
                self._new_update.wait(deadline - time.monotonic())
            picked: list[dict] = []
            position = start
            while position < len(self.updates) and len(picked) < limit:
                update = self.updates[position]
                position += 1
                if types is None or (isinstance(update, dict) and update.get("update_type") in types):
                    picked.append(update)
        return json_response({"updates": picked, "marker": position}, truncated=truncated)

    def _subscriptions(self, request: Request, truncated: bool) -> Response:
        if request.method == "GET":
            return json_response({"subscriptions": [{k: v for k, v in s.items() if k != "secret"}
                                                    for s in self.subscriptions]}, truncated=truncated)
        if request.method == "DELETE":
            url = request.args.get("url")
            before = len(self.subscriptions)
            self.subscriptions = [s for s in self.subscriptions if s["url"] != url]
            return json_response({"success": len(self.subscriptions) < before}, truncated=truncated)
        if request.method == "POST":
            body = request.get_json(silent=True) or {}
            url, secret = body.get("url"), body.get("secret")
            if not isinstance(url, str) or not url.startswith("https://"):
                return error(400, "proto.payload", "url must start with https://")
            if secret is not None and not SECRET_RE.match(str(secret)):
                return error(400, "proto.payload", "secret must be 5-256 characters of A-Z, a-z, 0-9, _ and -")
            self.subscriptions = [s for s in self.subscriptions if s["url"] != url]
            self.subscriptions.append({"url": url, "time": now_ms(), "update_types": body.get("update_types"),
                                       "secret": secret})
            return json_response({"success": True}, truncated=truncated)
        return error(405, "method.not.allowed", "Method not allowed")

    def _send_comment(self, post_mid: str, request: Request, truncated: bool) -> Response:
        body: dict[str, Any] = request.get_json(silent=True) or {}
        if body.get("attachments"):
            return error(400, "proto.payload", "Attachments are not allowed in comments")
        text = body.get("text") or ""
        if not text or len(text) > 4000:
            return error(400, "proto.payload", "text must be 1..4000 characters")
        self.sent_comments.append({"post_mid": post_mid, **body})
        message = self._message(self.user(self.bot_user_id, "Бот", None, is_bot=True),
                                {"chat_id": self.channel_id, "chat_type": "channel", "post_id": post_mid}, text)
        message.pop("url", None)
        return json_response({"message": message}, truncated=truncated)

    def _send_message(self, request: Request, truncated: bool) -> Response:
        chat_id, user_id = request.args.get("chat_id"), request.args.get("user_id")
        if not chat_id and not user_id:
            return error(400, "proto.payload", "chat_id or user_id is required")
        body: dict[str, Any] = request.get_json(silent=True) or {}
        text = body.get("text") or ""
        if len(text) > 4000:
            return error(400, "proto.payload", "text is longer than 4000 characters")
        self.sent_messages.append({"chat_id": chat_id, "user_id": user_id, **body})
        recipient = {"chat_id": int(chat_id) if chat_id else None, "chat_type": "chat" if chat_id else "dialog",
                     "user_id": int(user_id) if user_id else None}
        message = self._message(self.user(self.bot_user_id, "Бот", None, is_bot=True), recipient, text,
                                url=self.sent_message_url)
        return json_response({"message": message}, truncated=truncated)
