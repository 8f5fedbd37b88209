"""A strict fake of the Telegram Bot API over real HTTP on 127.0.0.1.

``FakeTelegram`` serves ``/bot<TOKEN>/<method>`` (GET query, JSON or form bodies) with
the ``{"ok": ...}`` envelope and Telegram's error texts; it keeps real ``getUpdates``
offset semantics (an update is forgotten once a call's offset is above its id; a
negative offset keeps the last ``-offset``), long polling, 409 while a webhook is set or
when a second ``getUpdates`` takes over, webhook settings with ``secret_token``
validation, ``sendMessage`` and ``getChatMemberCount``. Every request is recorded.
Faults (429 with ``retry_after``, 5xx, hangs, truncated JSON) are injected with a
seeded RNG. ``FakeBot`` builds updates shaped like the real ones (see PLATFORM_APIS.md), in
their variety: comments under a post, reply chains that are no post, forum topics,
attachments with and without captions, service messages, anonymous admins, other update
kinds; :meth:`FakeBot.push_raw` queues any payload verbatim (the real-payload corpus).
"""
from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx

from desk.text import is_clean

SERVICE_USER_ID = 777000  # "Telegram", the sender of automatic forwards
CHANNEL_BOT_ID = 136817688  # the fake user in ``from`` of messages sent on behalf of a channel
DEFAULT_ALLOWED = {"message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
                   "my_chat_member", "inline_query", "poll", "poll_answer"}
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_PATH_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class Faults:
    """Shares (0..1) of requests answered with a fault instead of the real answer."""

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_hang: float = 0.0
    rate_truncated: float = 0.0
    retry_after: int = 1
    hang_seconds: float = 2.0
    methods: frozenset = frozenset({"getUpdates"})


@dataclass
class RecordedRequest:
    token: str
    method: str
    params: dict
    http_method: str
    headers: dict
    fault: str | None = None


@dataclass
class FakeBot:
    """One bot with its channel, linked discussion group and pending updates."""

    server: FakeTelegram
    token: str
    bot_id: int
    username: str
    channel_id: int = -1001111111111
    channel_username: str = "city_official"
    channel_title: str = "Администрация города"
    discussion_chat_id: int = -1002222222222
    forum_chat_id: int = -1003444444444
    updates: deque = field(default_factory=deque)
    next_update_id: int = 900000001
    allowed_updates: set = field(default_factory=lambda: set(DEFAULT_ALLOWED))
    webhook: dict | None = None
    member_counts: dict = field(default_factory=dict)
    chat_messages: dict = field(default_factory=dict)  # chat id -> {message id: message}
    poll_generation: int = 0
    _ids: dict = field(default_factory=dict)

    # --- ids and chats ----------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._ids.setdefault(chat_id, itertools.count(500 if chat_id == self.discussion_chat_id else 40))
        return next(counter)

    @property
    def channel_chat(self) -> dict:
        return {"id": self.channel_id, "type": "channel", "title": self.channel_title,
                "username": self.channel_username}

    @property
    def group_chat(self) -> dict:
        return {"id": self.discussion_chat_id, "type": "supergroup", "title": f"{self.channel_title} — обсуждение"}

    def me(self) -> dict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "City desk", "username": self.username}

    def _message(self, chat: dict, sender: dict | None, text: str | None, **extra) -> dict:
        message = {"message_id": self._next_message_id(chat["id"])}
        if sender is not None:
            message["from"] = sender
        message.update({"chat": chat, "date": int(time.time())})
        message.update({k: v for k, v in extra.items() if v is not None})
        if text is not None:
            message["text"] = text
        self.chat_messages.setdefault(chat["id"], {})[message["message_id"]] = message
        return message

    def push(self, kind: str, payload: dict) -> dict:
        """Queue one update of ``kind`` (dropped, like Telegram does, if not allowed)."""
        with self.server.cond:
            update = {"update_id": self.next_update_id, kind: payload}
            self.next_update_id += 1
            if kind in self.allowed_updates:
                self.updates.append(update)
                self.server.cond.notify_all()
            return update

    # --- builders of real-looking updates ---------------------------------------------

    def publish(self, text: str, *, channel_post_update: bool = True) -> tuple[dict, dict]:
        """The channel publishes: a ``channel_post`` (if the bot is in the channel) and its
        automatic forward into the discussion group, the root of the comment thread."""
        post = self._message(self.channel_chat, None, text, sender_chat=self.channel_chat)
        if channel_post_update:
            self.push("channel_post", post)
        forward = self._message(
            self.group_chat, {"id": SERVICE_USER_ID, "is_bot": False, "first_name": "Telegram"}, text,
            sender_chat=self.channel_chat, is_automatic_forward=True,
            forward_origin={"type": "channel", "chat": self.channel_chat, "message_id": post["message_id"],
                            "date": post["date"]},
        )
        self.push("message", forward)
        return post, forward

    @staticmethod
    def user(user_id: int, first_name: str = "Иван", last_name: str | None = "Петров",
             username: str | None = None, language_code: str | None = "ru") -> dict:
        """A User; the optional fields left out are absent, as Telegram sends them."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def _reply_stub(self, target: dict) -> dict:
        return {k: v for k, v in target.items() if k != "reply_to_message"}

    def comment(self, root: dict, text: str, *, user: dict | None = None, reply_to: dict | None = None,
                sender_chat: dict | None = None, **extra) -> dict:
        """A comment under the post whose automatic forward is ``root``; ``reply_to`` makes
        it a reply to another comment (the thread stays ``root``)."""
        sender = user or self.user(123456789, username="ivanp")
        if sender_chat is not None:  # sent on behalf of a channel: ``from`` is a placeholder
            sender = {"id": CHANNEL_BOT_ID, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
        message = self._message(self.group_chat, sender, text, message_thread_id=root["message_id"],
                                reply_to_message=self._reply_stub(reply_to or root),
                                sender_chat=sender_chat, **extra)
        self.push("message", message)
        return message

    def edit(self, message: dict, text: str) -> dict:
        edited = dict(message, text=text, edit_date=int(time.time()))
        self.chat_messages.setdefault(message["chat"]["id"], {})[message["message_id"]] = edited
        kind = "edited_channel_post" if message["chat"]["type"] == "channel" else "edited_message"
        self.push(kind, edited)
        return edited

    def bot_message(self, root: dict, text: str, *, own: bool = False) -> dict:
        """A message in the thread sent by a bot (this bot itself when ``own``)."""
        sender = self.me() if own else {"id": 5550001, "is_bot": True, "first_name": "Spam", "username": "spam_bot"}
        message = self._message(self.group_chat, sender, text, message_thread_id=root["message_id"],
                                reply_to_message=self._reply_stub(root))
        self.push("message", message)
        return message

    def direct_message(self, text: str, *, user: dict | None = None) -> dict:
        sender = user or self.user(987654321, "Мария", "Иванова", "maria")
        chat = {"id": sender["id"], "type": "private", "first_name": sender["first_name"]}
        message = self._message(chat, sender, text)
        self.push("message", message)
        return message

    def reaction(self, message: dict) -> dict:
        return self.push("message_reaction", {
            "chat": message["chat"], "message_id": message["message_id"], "user": self.user(1),
            "date": int(time.time()), "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]})

    # --- the rest of the real variety ---------------------------------------------------

    def push_raw(self, update: dict) -> dict:
        """Queue ``update`` exactly as given (a captured or hostile payload): getUpdates
        returns it verbatim, whatever ``allowed_updates`` says. Later updates get higher ids."""
        with self.server.cond:
            self.updates.append(json.loads(json.dumps(update)))
            if isinstance(update.get("update_id"), int):
                self.next_update_id = max(self.next_update_id, update["update_id"] + 1)
            self.server.cond.notify_all()
        return update

    def group_message(self, text: str | None, *, user: dict | None = None, reply_to: dict | None = None,
                      chat: dict | None = None, **extra) -> dict:
        """A plain message in a group. A reply carries ``message_thread_id`` = the root of
        its reply chain even without topics, as Telegram does: a thread that is no post."""
        chat = chat or self.group_chat
        if reply_to is not None:
            extra.setdefault("message_thread_id", reply_to.get("message_thread_id") or reply_to["message_id"])
            extra["reply_to_message"] = self._reply_stub(reply_to)
        message = self._message(chat, user or self.user(123456789, username="ivanp"), text, **extra)
        self.push("message", message)
        return message

    def media_comment(self, root: dict, kind: str, caption: str | None = None, *, user: dict | None = None) -> dict:
        """A comment that is an attachment (``photo``, ``voice``, ``sticker`` …) with an optional caption."""
        extra = dict(MEDIA[kind])
        if caption is not None:
            extra["caption"] = caption
        return self.comment(root, None, user=user, **json.loads(json.dumps(extra)))

    def service_message(self, field_name: str, value, *, chat: dict | None = None, user: dict | None = None) -> dict:
        """A service message (``new_chat_members``, ``pinned_message``, ``video_chat_started`` …)."""
        message = self._message(chat or self.group_chat, user or self.user(55501, "Админ", None), None,
                                **{field_name: value})
        self.push("message", message)
        return message

    def anonymous_admin(self, text: str, root: dict | None = None) -> dict:
        """An administrator writing as the group itself: ``sender_chat`` is the group."""
        extra = {"message_thread_id": root["message_id"], "reply_to_message": self._reply_stub(root)} if root else {}
        message = self._message(self.group_chat, dict(ANONYMOUS_ADMIN), text, sender_chat=self.group_chat, **extra)
        self.push("message", message)
        return message

    @property
    def forum_chat(self) -> dict:
        return {"id": self.forum_chat_id, "type": "supergroup", "title": "Белогорск: вопросы и ответы",
                "is_forum": True}

    def create_topic(self, name: str) -> dict:
        """A forum topic: its ``forum_topic_created`` service message roots the topic."""
        chat = self.forum_chat
        message_id = self._next_message_id(chat["id"])
        message = {"message_id": message_id, "message_thread_id": message_id, "from": self.user(55501, "Админ", None),
                   "chat": chat, "date": int(time.time()), "is_topic_message": True,
                   "forum_topic_created": {"name": name, "icon_color": 7322096}}
        self.chat_messages.setdefault(chat["id"], {})[message_id] = message
        self.push("message", message)
        return message

    def topic_message(self, topic: dict, text: str, *, user: dict | None = None) -> dict:
        message = self._message(self.forum_chat, user or self.user(123456789, username="ivanp"), text,
                                message_thread_id=topic["message_id"], is_topic_message=True,
                                reply_to_message=self._reply_stub(topic))
        self.push("message", message)
        return message


ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
_PHOTO = [{"file_id": "AgACAgIAAxkBAAIBQ2aa", "file_unique_id": "AQADa1", "file_size": 1432, "width": 90, "height": 67},
          {"file_id": "AgACAgIAAxkBAAIBQ2bb", "file_unique_id": "AQADa2", "file_size": 51873, "width": 800,
           "height": 600}]
_DOCUMENT = {"file_name": "akt.pdf", "mime_type": "application/pdf", "file_id": "BQACAgIAAxkBAAIBRGcc",
             "file_unique_id": "AgADc1", "file_size": 83211}
#: What each kind of attachment looks like in a Message (Bot API field shapes).
MEDIA = {
    "photo": {"photo": _PHOTO},
    "video": {"video": {"duration": 12, "width": 720, "height": 1280, "mime_type": "video/mp4",
                        "file_id": "BAACAgIAAxkBAAIBRWdd", "file_unique_id": "AgADd1", "file_size": 2204811}},
    "voice": {"voice": {"duration": 7, "mime_type": "audio/ogg", "file_id": "AwACAgIAAxkBAAIBRmee",
                        "file_unique_id": "AgADe1", "file_size": 23552}},
    "video_note": {"video_note": {"duration": 9, "length": 384, "file_id": "DQACAgIAAxkBAAIBR2ff",
                                  "file_unique_id": "AgADf1", "file_size": 512330}},
    "sticker": {"sticker": {"width": 512, "height": 512, "emoji": "😡", "set_name": "Angry", "is_animated": False,
                            "is_video": False, "type": "regular", "file_id": "CAACAgIAAxkBAAIBSGgg",
                            "file_unique_id": "AgADg1", "file_size": 28214}},
    "document": {"document": _DOCUMENT},
    "animation": {"animation": {"file_name": "yama.mp4", "mime_type": "video/mp4", "duration": 3, "width": 320,
                                "height": 240, "file_id": "CgACAgIAAxkBAAIBSWhh", "file_unique_id": "AgADh1"},
                  "document": {"file_name": "yama.mp4", "mime_type": "video/mp4", "file_id": "CgACAgIAAxkBAAIBSWhh",
                               "file_unique_id": "AgADh1"}},
    "location": {"location": {"latitude": 50.9213, "longitude": 128.4739}},
    "venue": {"location": {"latitude": 50.9213, "longitude": 128.4739},
              "venue": {"location": {"latitude": 50.9213, "longitude": 128.4739}, "title": "Школа № 3",
                        "address": "ул. Ленина, 5"}},
    "poll": {"poll": {"id": "5337215012345678901", "question": "Где нужен светофор?", "options": [
        {"text": "Ленина", "voter_count": 0}, {"text": "Кирова", "voter_count": 0}], "total_voter_count": 0,
        "is_closed": False, "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}},
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
    "contact": {"contact": {"phone_number": "+79990000000", "first_name": "Управляющая компания"}},
}


class FakeTelegram:
    """The server. ``start()`` binds a random port; ``url`` is the API base."""

    def __init__(self, *, seed: int = 0, max_long_poll: float = 2.0):
        self.bots: dict[str, FakeBot] = {}
        self.requests: list[RecordedRequest] = []
        self.faults = Faults()
        self.rng = random.Random(seed)
        self.cond = threading.Condition()
        self.max_long_poll = max_long_poll
        self.slow_seconds = 0.0  # delay before every getUpdates answer (to kill a collector mid-batch)
        self._server: ThreadingHTTPServer | None = None
        self._bot_ids = itertools.count(7000000001)

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def add_bot(self, token: str | None = None, username: str = "city_desk_bot", **kw) -> FakeBot:
        bot_id = next(self._bot_ids)
        token = token or f"{bot_id}:AAH{random.Random(bot_id).getrandbits(120):030x}"
        bot = FakeBot(self, token, bot_id, username, **kw)
        self.bots[token] = bot
        return bot

    def calls(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method]

    def pending(self, bot: FakeBot) -> int:
        with self.cond:
            return len(bot.updates)

    # --- webhook delivery (the real Telegram pushing to the desk) ------------------------

    def deliver_webhook(self, bot: FakeBot, *, secret: str | None = "__set__") -> list[int]:
        """POST every pending update to the bot's webhook; those answered 2xx are dropped.
        Returns the HTTP statuses. ``secret`` overrides the header (None: leave it out)."""
        assert bot.webhook, "no webhook set"
        statuses = []
        header = bot.webhook.get("secret_token") if secret == "__set__" else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": header} if header is not None else {}
        for update in list(bot.updates):
            response = httpx.post(bot.webhook["url"], json=update, headers=headers, timeout=10)
            statuses.append(response.status_code)
            if 200 <= response.status_code < 300:
                with self.cond:
                    bot.updates.remove(update)
        return statuses

    # --- the API ------------------------------------------------------------------------

    def handle(self, bot: FakeBot, method: str, params: dict):
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(bot, params)

    def api_getMe(self, bot: FakeBot, params: dict):
        return bot.me()

    def api_getUpdates(self, bot: FakeBot, params: dict):
        offset = _int(params.get("offset", 0), "offset")
        limit = _int(params.get("limit", 100), "limit")
        timeout = _int(params.get("timeout", 0), "timeout")
        if not 1 <= limit <= 100:
            raise ApiError(400, "Bad Request: limit must be between 1 and 100")
        with self.cond:
            if bot.webhook:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            if "allowed_updates" in params:
                allowed = params["allowed_updates"] or []
                if not isinstance(allowed, list):
                    raise ApiError(400, "Bad Request: can't parse allowed updates")
                bot.allowed_updates = set(allowed) if allowed else set(DEFAULT_ALLOWED)
            if offset < 0:
                bot.updates = deque(list(bot.updates)[offset:])
            while offset > 0 and bot.updates and bot.updates[0]["update_id"] < offset:
                bot.updates.popleft()
            bot.poll_generation += 1
            generation = bot.poll_generation
            deadline = time.monotonic() + min(timeout, self.max_long_poll)
            while not bot.updates and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
                if bot.poll_generation != generation:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                        "make sure that only one bot instance is running")
            return [json.loads(json.dumps(u)) for u in itertools.islice(bot.updates, limit)]

    def api_setWebhook(self, bot: FakeBot, params: dict):
        url = str(params.get("url", ""))
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = _int(params.get("max_connections", 40), "max_connections")
        if not 1 <= max_connections <= 100:
            raise ApiError(400, "Bad Request: bad max_connections specified")
        with self.cond:
            if params.get("drop_pending_updates") in (True, "true", "True", "1"):
                bot.updates.clear()
            if not url:
                bot.webhook = None
                return True
            if not url.startswith(("https://", "http://127.0.0.1")):
                raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
            bot.webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
            if params.get("allowed_updates") is not None:
                bot.allowed_updates = set(params["allowed_updates"]) or set(DEFAULT_ALLOWED)
            bot.poll_generation += 1
            self.cond.notify_all()
        return True

    def api_deleteWebhook(self, bot: FakeBot, params: dict):
        with self.cond:
            if params.get("drop_pending_updates") in (True, "true", "True", "1"):
                bot.updates.clear()
            bot.webhook = None
        return True

    def api_getWebhookInfo(self, bot: FakeBot, params: dict):
        with self.cond:
            info = {"url": bot.webhook["url"] if bot.webhook else "", "has_custom_certificate": False,
                    "pending_update_count": len(bot.updates)}
            if bot.webhook:
                info["max_connections"] = bot.webhook["max_connections"]
                info["allowed_updates"] = sorted(bot.allowed_updates)
            return info

    def _known_chat(self, bot: FakeBot, chat_id) -> dict:
        chats = {bot.channel_id: bot.channel_chat, bot.discussion_chat_id: bot.group_chat,
                 f"@{bot.channel_username}": bot.channel_chat}
        for messages in bot.chat_messages.values():
            for message in messages.values():
                chats.setdefault(message["chat"]["id"], message["chat"])
        key = chat_id if isinstance(chat_id, str) and chat_id.startswith("@") else _int(chat_id, "chat_id")
        if key not in chats:
            raise ApiError(400, "Bad Request: chat not found")
        return chats[key]

    def api_sendMessage(self, bot: FakeBot, params: dict):
        chat = self._known_chat(bot, params.get("chat_id"))
        text = params.get("text")
        if not text or not str(text).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(str(text)) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        reply = params.get("reply_parameters") or {}
        extra = {}
        if reply:
            target = bot.chat_messages.get(chat["id"], {}).get(_int(reply.get("message_id"), "message_id"))
            if target is None and not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            if target is not None:
                extra["reply_to_message"] = bot._reply_stub(target)
                if target.get("message_thread_id"):
                    extra["message_thread_id"] = target["message_thread_id"]
        with self.cond:
            return bot._message(chat, bot.me(), str(text), **extra)

    def api_getChatMemberCount(self, bot: FakeBot, params: dict):
        chat = self._known_chat(bot, params.get("chat_id"))
        return bot.member_counts.get(chat["id"], 0)

    # --- faults -------------------------------------------------------------------------

    def pick_fault(self, method: str) -> str | None:
        f = self.faults
        if method not in f.methods:
            return None
        with self.cond:
            roll = self.rng.random()
        for name, rate in (("429", f.rate_429), ("5xx", f.rate_5xx), ("hang", f.rate_hang),
                           ("truncated", f.rate_truncated)):
            if roll < rate:
                return name
            roll -= rate
        return None


def _int(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _decode_field(value: str):
    """Form and query values of arrays/objects arrive JSON-serialised."""
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeTelegram
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _params(self) -> dict:
        split = urlsplit(self.path)
        params = {k: _decode_field(v) for k, v in parse_qsl(split.query)}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if body and ctype == "application/json":
            try:
                params.update(json.loads(body))
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON body") from None
        elif body:
            params.update({k: _decode_field(v) for k, v in parse_qsl(body.decode())})
        return params

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        fake = self.server_fake
        match = _PATH_RE.match(urlsplit(self.path).path)
        try:
            params = self._params()
        except ApiError as exc:
            params, match = {}, None
            self._send(400, json.dumps({"ok": False, "error_code": 400, "description": exc.description}).encode())
            return
        if match is None:
            self._send(404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode())
            return
        token, method = match["token"], match["method"]
        bot = fake.bots.get(token)
        fault = fake.pick_fault(method) if bot else None
        fake.requests.append(RecordedRequest(token, method, params, self.command, dict(self.headers), fault))
        if bot is None:
            self._send(401, json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"}).encode())
            return
        if fault == "429":
            ra = fake.faults.retry_after
            self._send(429, json.dumps({"ok": False, "error_code": 429, "description": f"Too Many Requests: retry "
                                        f"after {ra}", "parameters": {"retry_after": ra}}).encode())
            return
        if fault == "5xx":
            if fake.rng.random() < 0.5:
                self._send(502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
            else:
                self._send(500, b'{"ok":false,"error_code":500,"description":"Internal Server Error"}')
            return
        if fault == "hang":  # past the client's timeout; the client has gone, nothing is done
            time.sleep(fake.faults.hang_seconds)
            self.close_connection = True
            return
        if method == "getUpdates" and fake.slow_seconds:
            time.sleep(fake.slow_seconds)
        try:
            result = fake.handle(bot, method, params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.code, {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
        text = json.dumps(body, ensure_ascii=False)
        # A lone surrogate cannot be UTF-8: Telegram then sends it as a \\uXXXX escape.
        data = text.encode() if is_clean(text) else json.dumps(body).encode()
        if fault == "truncated":
            data = data[: max(1, len(data) // 2)]
        try:
            self._send(status, data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (hang fault)
            pass
