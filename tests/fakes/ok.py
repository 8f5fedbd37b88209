"""A strict fake of the OK REST API (``/fb.do``) and of the group Bot API, over real HTTP.

``/fb.do`` checks ``application_key`` and the request signature exactly as OK does
(``secret_key = md5(access_token + application_secret)``; ``sig = md5(sorted "k=v"
of every parameter but ``access_token`` and ``sig`` + secret_key)``, UTF-8) and
answers errors with HTTP 200 ``{"error_code", "error_msg", "error_data"}``. It
serves ``mediatopic.getTopics`` (newest first), ``discussions.getComments`` with
``anchor``/``direction``/``count`` paging and ``has_more``, ``users.getInfo`` and
``group.getInfo``. Comments come as real ones do: without ``author_name`` (the name
is in ``users.getInfo``), with attachments when given; :meth:`FakeOk.raw_comment`
serves any payload verbatim.
:meth:`FakeOk.push_message` delivers a Bot API MESSAGE_CREATED webhook.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import re
import time

import httpx
from werkzeug.wrappers import Request, Response

from .server import FakeServer, json_response

ERROR_NAMES = {1: "UNKNOWN", 2: "SERVICE", 8: "FLOOD_BLOCKED", 100: "PARAM", 101: "PARAM_API_KEY",
               102: "PARAM_SESSION_EXPIRED", 104: "PARAM_SIGNATURE", 300: "NOT_FOUND"}
OK_FAULT_KINDS = ("flood", "unknown", "service", "500", "503", "truncated")


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def expected_sig(params: dict[str, str], access_token: str, application_secret: str) -> str:
    pairs = sorted(f"{k}={v}" for k, v in params.items() if k not in ("access_token", "sig"))
    return md5_hex("".join(pairs) + md5_hex(access_token + application_secret))


def ok_error(code: int, detail: str, **kw) -> Response:
    return json_response({"error_code": code, "error_msg": f"{ERROR_NAMES.get(code, 'ERROR')} : {detail}",
                          "error_data": None}, **kw)


def now_ms() -> int:
    return int(time.time() * 1000)


def encode_anchor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"c{seq}".encode()).decode().rstrip("=")


def decode_anchor(anchor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(anchor + "=" * (-len(anchor) % 4)).decode()
        return int(raw[1:]) if raw.startswith("c") else None
    except (ValueError, UnicodeDecodeError):
        return None


class FakeOk(FakeServer):
    def __init__(self, *, application_key: str = "CBAPUBLICKEY", application_secret: str = "APPSECRET0123",
                 access_token: str = "tkn-ok-access", group_id: str = "55348644610059", seed: int = 0,
                 bot_token: str = "tkn-ok-bot"):
        super().__init__(seed)
        self.application_key = application_key
        self.application_secret = application_secret
        self.access_token = access_token
        self.bot_token = bot_token
        self.group_id = group_id
        self.members_count = 10234
        self.topics: list[dict] = []  # oldest first
        self.comments: dict[str, list[dict]] = {}  # topic id -> comments, oldest first
        self.users: dict[str, dict] = {}  # uid -> profile, for users.getInfo
        self.method_errors: dict[str, int] = {}  # method -> OK error code it answers with
        self.sent_messages: list[dict] = []
        self._ids = itertools.count(1)

    # -- content --------------------------------------------------------------
    def topic(self, text: str = "Открыт новый каток в парке") -> dict:
        topic_id = str(155432100000 + next(self._ids))
        topic = {"id": topic_id, "created_ms": now_ms(), "author_ref": f"group:{self.group_id}",
                 "owner_ref": f"group:{self.group_id}", "media": [{"type": "text", "text": text}]}
        with self.lock:
            self.topics.append(topic)
            self.comments[topic_id] = []
        return topic

    def comment(self, topic: dict, text: str, author_id: str = "571234567890", author_name: str = "Иван Петров",
                *, reply_to: dict | None = None, name_in_comment: bool = False,
                attachments: list[dict] | None = None) -> dict:
        """A resident's comment. Like real OK it carries no ``author_name`` unless
        ``name_in_comment``: the name is known to ``users.getInfo``."""
        seq = next(self._ids)
        comment = {"id": base64.b64encode(f"{topic['id']}:{seq}".encode()).decode(),
                   "author_id": author_id, "text": text, "date_ms": now_ms(),
                   "type": "ACTIVE_MESSAGE", "reply_to_id": reply_to["author_id"] if reply_to else None,
                   "reply_to_comment_id": reply_to["id"] if reply_to else None}
        if name_in_comment:
            comment["author_name"] = author_name
        if attachments:
            comment["attachments"] = attachments
        self.add_user(author_id, author_name)
        return self.raw_comment(topic, comment)

    def raw_comment(self, topic: dict, comment: dict) -> dict:
        """Put ``comment`` under ``topic`` exactly as given: discussions.getComments
        returns it verbatim (real payloads, poison included)."""
        with self.lock:
            self.comments[str(topic["id"])].append({**comment, "_seq": next(self._ids)})
        return comment

    def raw_topic(self, topic: dict) -> dict:
        """A topic exactly as given, newest in mediatopic.getTopics."""
        with self.lock:
            self.topics.append(topic)
            self.comments.setdefault(str(topic["id"]), [])
        return topic

    def add_user(self, uid: str, name: str, *, first_name: str | None = None, last_name: str | None = None) -> None:
        """A profile users.getInfo knows (``name`` split into first and last by default)."""
        first, _, last = name.partition(" ")
        self.users[str(uid)] = {"uid": str(uid), "first_name": first if first_name is None else first_name,
                                "last_name": last if last_name is None else last_name, "name": name}

    def attachment(self, kind: str) -> dict:
        """A comment or Bot API attachment (PHOTO, MOVIE, STICKER; IMAGE, VIDEO, AUDIO, FILE, SHARE …)."""
        n = next(self._ids)
        return {"type": kind, "payload": {"id": str(900000 + n), "url": f"https://i.mycdn.me/i?r=fake{n}"}}

    # -- Bot API webhook pusher -----------------------------------------------
    def message_created(self, chat_id: str, text: str | None, user_id: str = "user:577777777777",
                        name: str | None = "Мария Иванова", *, attachments: list[dict] | None = None) -> dict:
        """A Bot API MESSAGE_CREATED body; ``name=None`` leaves the sender's name out."""
        n = next(self._ids)
        sender = {"user_id": user_id} if name is None else {"user_id": user_id, "name": name}
        message: dict = {"seq": 98211023614189660 + n, "mid": f"mid:{chat_id[5:]}.{n:015x}"}
        if text is not None:
            message["text"] = text
        if attachments:
            message["attachments"] = attachments
        return {"webhookType": "MESSAGE_CREATED", "sender": sender, "recipient": {"chat_id": chat_id},
                "message": message, "timestamp": now_ms()}

    def push_message(self, url: str, payload: dict, *, timeout: float = 10.0) -> httpx.Response:
        """Deliver a Bot API webhook as OK does: a JSON POST, expecting 200 within 5 s."""
        return httpx.post(url, json=payload, timeout=timeout)

    # -- HTTP -----------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        match = re.fullmatch(r"/graph/me/messages/(chat:[A-Za-z0-9]+)", request.path)
        if match and request.method == "POST":
            return self._bot_send(match.group(1), request)
        if request.path != "/fb.do":
            return Response("not found", status=404)
        params = {**request.args.to_dict(), **request.form.to_dict()}
        fault = self.draw_fault()
        if fault == "hang":
            self.hang()
        elif fault in ("500", "503"):
            return Response("<html>Service Unavailable</html>", status=int(fault), mimetype="text/html")
        elif fault == "flood":
            return ok_error(8, "Flood blocked")
        elif fault == "unknown":
            return ok_error(1, "Unknown error")
        elif fault == "service":
            return ok_error(2, "Service temporarily unavailable")
        truncated = fault == "truncated"
        if params.get("application_key") != self.application_key:
            return ok_error(101, "Application key is invalid")
        if params.get("access_token") != self.access_token:
            return ok_error(102, "Session expired")
        if params.get("sig") != expected_sig(params, self.access_token, self.application_secret):
            return ok_error(104, "Invalid signature")
        method = params.get("method")
        if method in self.method_errors:
            return ok_error(self.method_errors[method], f"{method} refused")
        if method == "mediatopic.getTopics":
            return self._get_topics(params, truncated)
        if method == "discussions.getComments":
            return self._get_comments(params, truncated)
        if method == "users.getInfo":
            return self._users_info(params, truncated)
        if method == "group.getInfo":
            if params.get("uids") != self.group_id:
                return json_response([], truncated=truncated)
            return json_response([{"uid": self.group_id, "name": "Спорт Белогорска",
                                   "members_count": self.members_count}], truncated=truncated)
        return ok_error(3, f"Method {method} not found") if method else ok_error(100, "method is missing")

    def _get_topics(self, params: dict[str, str], truncated: bool) -> Response:
        if params.get("gid") != self.group_id:
            return ok_error(300, "Group not found")
        count = int(params.get("count", 20))
        newest = list(reversed(self.topics))[:count]
        return json_response({"media_topics": newest, "has_more": len(self.topics) > count}, truncated=truncated)

    def _get_comments(self, params: dict[str, str], truncated: bool) -> Response:
        if params.get("discussionType") != "GROUP_TOPIC":
            return ok_error(100, "discussionType")
        comments = self.comments.get(params.get("discussionId", ""))
        if comments is None:
            return ok_error(300, "Discussion not found")
        try:
            count = int(params.get("count", 20))
        except ValueError:
            return ok_error(100, "count")
        if not 1 <= count <= 100:
            return ok_error(100, "count must be 1..100")
        anchor = params.get("anchor")
        position = decode_anchor(anchor) if anchor else None
        if anchor and position is None:
            return ok_error(100, "anchor")
        direction = params.get("direction", "FORWARD")
        if direction == "FORWARD":
            after = [c for c in comments if position is None or c["_seq"] > position]
            page, has_more = after[:count], len(after) > count
            new_anchor = encode_anchor(page[-1]["_seq"]) if page else (anchor or encode_anchor(0))
        elif direction == "BACKWARD":
            before = [c for c in comments if position is None or c["_seq"] < position]
            page, has_more = before[-count:], len(before) > count
            new_anchor = encode_anchor(page[0]["_seq"]) if page else (anchor or encode_anchor(0))
        else:
            return ok_error(100, "direction")
        public = [{k: v for k, v in c.items() if not k.startswith("_")} for c in page]
        return json_response({"discussionId": params["discussionId"], "discussionType": "GROUP_TOPIC",
                              "anchor": new_anchor, "has_more": has_more, "comments": public},
                             truncated=truncated)

    def _users_info(self, params: dict[str, str], truncated: bool) -> Response:
        uids = [u for u in params.get("uids", "").split(",") if u]
        if not uids or not params.get("fields"):
            return ok_error(100, "uids and fields are required")
        if len(uids) > 100:
            return ok_error(100, "uids: at most 100")
        fields = set(params["fields"].lower().split(",")) | {"uid"}
        users = [{k: v for k, v in self.users[uid].items() if k in fields} for uid in uids if uid in self.users]
        return json_response(users, truncated=truncated)

    def _bot_send(self, chat_id: str, request: Request) -> Response:
        if request.args.get("access_token") != self.bot_token:
            return json_response({"error_code": 102, "error_msg": "PARAM_SESSION_EXPIRED : Session expired",
                                  "error_data": None})
        body = request.get_json(silent=True) or {}
        text = (body.get("message") or {}).get("text")
        if not text:
            return ok_error(100, "message.text")
        self.sent_messages.append({"chat_id": chat_id, **body})
        return json_response({"chat_id": chat_id, "message_id": f"mid:{chat_id[5:]}.{next(self._ids):015x}"})
