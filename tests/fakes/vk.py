"""A strict fake of the VK API over real HTTP on 127.0.0.1, and a Callback API sender.

:class:`FakeVK` serves ``/method/<name>`` (form data or query; ``access_token`` and
``v=5.199`` required) and a Bots Long Poll server at ``/lp/<group_id>``. Like VK it
answers errors with HTTP 200 and ``{"error": {error_code, error_msg, request_params}}``,
refuses a community token where VK does (error 27) and a service token where VK does
(error 28), limits requests per token per second (error 6), and injects faults (errors
6, 9, 10, HTTP 5xx, truncated JSON) from a seeded RNG or on demand (the shared
:class:`tests.fakes.server.FakeServer` plumbing). Every API call is recorded in
``calls`` (without the token) so tests can count them. Direct messages: residents write
with :meth:`FakeVK.add_direct_message`; ``messages.send`` answers in the dialog, drops a
repeat with the same ``random_id`` like VK, and records what it created in ``sent_messages``.
Photos, videos, goods and board topics (:meth:`FakeVK.add_place`) take residents'
comments (:meth:`FakeVK.place_comment`) and ``photos``/``video``/``market``/``board.createComment``
with a community admin's user token only, as the schema says; each new comment, the
community's too, goes to the long poll as ``<family>_new`` (VK's echo of the city's reply);
what the methods created is in ``created_place_comments``.

:class:`CallbackSender` plays VK's side of the Callback API: it confirms the server
first and only then delivers events with ``secret`` and ``event_id``, and can deliver
the same ``event_id`` again with ``X-Retry-Counter``.

Events come in the real variety: comments on the wall, photos, videos, goods and board
topics (:meth:`FakeVK.push_comment`), direct messages in the 5.103+ and the older shape
with attachments (:meth:`FakeVK.push_direct_message`), their edits, and anything else
verbatim (:meth:`FakeVK.push_raw`, the real-payload corpus).
"""
from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from .server import FakeServer, json_response

API_VERSION = "5.199"
FAULT_KINDS = ("error6", "error9", "error10", "500", "503", "truncated")
ERROR_TEXT = {
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    9: "Flood control",
    10: "Internal server error",
    15: "Access denied",
    27: "Group authorization failed: method is unavailable with group auth.",
    28: "Application authorization failed: method is unavailable with service token.",
    100: "One of the parameters specified was missing or invalid",
    213: "Access to status replies denied",
    801: "Comments for this video are closed",
    901: "Can't send messages for users without permission",
    1401: "Comments for this market are closed",
}
# Which token types each method accepts (VK's "access types").
ACCESS = {
    "users.get": {"user", "group", "service"},
    "groups.getById": {"user", "group", "service"},
    "groups.getLongPollServer": {"group"},
    "wall.get": {"user", "service"},
    "wall.getComments": {"user", "service"},
    "newsfeed.search": {"user", "service"},
    "wall.createComment": {"user", "group"},
    "wall.post": {"user"},  # a community token cannot publish on the wall
    "messages.send": {"user", "group"},
    # vk-api-schema 5.199 gives these four only a user token (a community admin's).
    "photos.createComment": {"user"},
    "video.createComment": {"user"},
    "market.createComment": {"user"},
    "board.createComment": {"user"},
}
#: Comments outside the wall: the Callback event family, the commented object's parameter,
#: and the field that names the object's owner in the event object.
PLACE_METHODS = {
    "photos.createComment": ("photo_comment", "photo_id"),
    "video.createComment": ("video_comment", "video_id"),
    "market.createComment": ("market_comment", "item_id"),
    "board.createComment": ("board_post", "topic_id"),
}
PLACE_OWNER_FIELD = {"photo_comment": "photo_owner_id", "video_comment": "video_owner_id",
                     "market_comment": "market_owner_id", "board_post": "topic_owner_id"}
#: The error VK gives when the object's comments are closed (the schema names these two).
PLACE_OBJECT_FIELD = {family: param for family, param in PLACE_METHODS.values()}
PLACE_CLOSED_ERROR = {"video_comment": 801, "market_comment": 1401}
#: from_id of a comment posted with a user token without ``from_group``.
ADMIN_USER_ID = 1


#: ``client_info`` of a ``message_new`` from the official app (API 5.103+).
CLIENT_INFO = {"button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback",
                                  "intent_subscribe", "intent_unsubscribe"],
               "keyboard": True, "inline_keyboard": True, "carousel": True, "lang_id": 0}
#: Attachments as VK sends them in comments and messages (callback object shapes).
ATTACHMENTS = {
    "photo": {"type": "photo", "photo": {"album_id": -5, "date": 1767225600, "id": 457239017, "owner_id": 1001,
                                         "access_key": "9f3c1e2d", "sizes": [
                                             {"height": 75, "type": "s", "width": 56, "url": "https://sun9-1.userapi.com/s.jpg"},
                                             {"height": 1280, "type": "w", "width": 960,
                                              "url": "https://sun9-1.userapi.com/w.jpg"}],
                                         "text": "", "has_tags": False}},
    "audio_message": {"type": "audio_message", "audio_message": {
        "id": 656172123, "owner_id": 1001, "duration": 6, "waveform": [0, 3, 7, 12, 7, 3, 0],
        "link_ogg": "https://psv4.userapi.com/a.ogg", "link_mp3": "https://psv4.userapi.com/a.mp3",
        "access_key": "c5f0a1b2"}},
    "sticker": {"type": "sticker", "sticker": {"product_id": 279, "sticker_id": 9046, "images": [
        {"url": "https://vk.com/sticker/1-9046-128", "width": 128, "height": 128}], "is_allowed": True}},
    "doc": {"type": "doc", "doc": {"id": 664372112, "owner_id": 1001, "title": "akt.pdf", "size": 83211,
                                   "ext": "pdf", "date": 1767225600, "type": 1, "url": "https://vk.com/doc1001_664372112"}},
    "link": {"type": "link", "link": {"url": "https://belogorck.ru/news/123", "title": "Новости города",
                                      "caption": "belogorck.ru", "description": ""}},
    "wall": {"type": "wall", "wall": {"id": 456, "owner_id": -12345678, "from_id": -12345678,
                                      "date": 1767225600, "text": "Ремонт улицы Ленина", "post_type": "post"}},
}


class VKError(Exception):
    def __init__(self, code: int, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.message = ERROR_TEXT.get(code, "Unknown error") + (f": {detail}" if detail else "")


@dataclass
class Token:
    kind: str  # group | user | service
    group_id: int | None = None


class FakeVK(FakeServer):
    """The fake API; ``with FakeVK() as vk: app.config["VK_API_BASE"] = vk.url``.

    Faults (:meth:`fail_next`, :meth:`fail_randomly`) are VK's ``error6``/``error9``/
    ``error10`` bodies, HTTP ``500``/``503`` and ``truncated`` JSON.
    """

    def __init__(self, *, seed: int = 1, rate_limits: dict[str, float] | None = None, lp_max_wait: float = 1.0):
        super().__init__(seed)
        self.rate_limits = {"group": 20, "user": 3, "service": 3, **(rate_limits or {})}
        self.lp_max_wait = lp_max_wait
        self.tokens: dict[str, Token] = {}
        self.groups: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.posts: dict[tuple[int, int], dict] = {}
        self.comments: dict[tuple[int, int], list[dict]] = defaultdict(list)  # top level, with "_replies"
        self.feed: list[dict] = []  # posts anywhere on VK, for newsfeed.search
        self.calls: list[tuple[str, dict]] = []
        self.created_comments: list[dict] = []
        self.wall_posts: list[dict] = []  # wall.post requests that created a post
        self._guids: dict[str, dict] = {}
        # Direct messages: the community's dialogs by peer_id, what messages.send created, and
        # the random_id of every send (VK drops a repeat with the same random_id).
        self.dialogs: dict[tuple[int, int], list[dict]] = defaultdict(list)
        self.sent_messages: list[dict] = []
        self.blocked_peers: set[int] = set()
        self._random_ids: dict[tuple[int, int, int], int] = {}
        self._next_message_id = 7000
        self._recent: dict[str, deque] = defaultdict(deque)
        self.refused = 0  # requests answered with error 6 (too many per second)
        self._next_comment_id = 1000
        # Photos, videos, goods and board topics by (event family, owner_id, id): their comments,
        # and what photos/video/market/board.createComment created (the request's parameters).
        self.places: dict[tuple[str, int, int], dict] = {}
        self.created_place_comments: list[dict] = []
        self._lp: dict[int, dict] = {}
        self._lp_changed = threading.Condition(self.lock)

    def stop(self) -> None:
        with self.lock:
            self._lp_changed.notify_all()
        super().stop()

    # --- world setup -----------------------------------------------------------------

    def add_token(self, token: str, kind: str, group_id: int | None = None) -> None:
        assert kind in ("group", "user", "service")
        self.tokens[token] = Token(kind, group_id)

    def add_group(self, group_id: int, name: str, screen_name: str = "", members_count: int = 0) -> None:
        self.groups[group_id] = {"id": group_id, "name": name, "screen_name": screen_name or f"club{group_id}",
                                 "is_closed": 0, "type": "page", "members_count": members_count}

    def add_user(self, user_id: int, first_name: str, last_name: str) -> None:
        self.users[user_id] = {"id": user_id, "first_name": first_name, "last_name": last_name,
                               "can_access_closed": True, "is_closed": False}

    def add_post(self, owner_id: int, post_id: int, text: str, date: int, *, from_id: int | None = None,
                 is_pinned: bool = False, comments_closed: bool = False) -> dict:
        post = {"id": post_id, "owner_id": owner_id, "from_id": from_id if from_id is not None else owner_id,
                "date": date, "text": text, "post_type": "post", "comments": {"count": 0},
                "is_pinned": 1 if is_pinned else 0, "_closed": comments_closed}
        with self.lock:
            self.posts[(owner_id, post_id)] = post
        return post

    def add_comment(self, owner_id: int, post_id: int, from_id: int, text: str, date: int, *,
                    reply_to: int | None = None, comment_id: int | None = None) -> dict:
        """A comment on a post; ``reply_to`` makes it a reply in that comment's thread."""
        with self.lock:
            if comment_id is None:
                self._next_comment_id += 1
                comment_id = self._next_comment_id
            comment = {"id": comment_id, "from_id": from_id, "date": date, "text": text, "post_id": post_id,
                       "owner_id": owner_id, "parents_stack": []}
            if reply_to is None:
                comment["_replies"] = []
                self.comments[(owner_id, post_id)].append(comment)
            else:
                parent = self._find_comment(owner_id, post_id, reply_to)
                comment["parents_stack"] = [parent["id"]]
                comment["reply_to_comment"] = reply_to
                parent["_replies"].append(comment)
            self.posts[(owner_id, post_id)]["comments"]["count"] += 1
        return _public(comment)

    def add_place(self, family: str, owner_id: int, object_id: int, *, comments_closed: bool = False) -> dict:
        """A photo, video, good or board topic (``family``: photo_comment, video_comment,
        market_comment, board_post) that residents can comment on."""
        assert family in PLACE_OWNER_FIELD
        with self.lock:
            return self.places.setdefault((family, owner_id, object_id),
                                          {"comments": [], "closed": comments_closed})

    def place_comment(self, group_id: int, family: str, object_id: int, from_id: int, text: str, *,
                      reply_to: int | None = None) -> dict:
        """A resident comments on the community's photo, video, good or board topic: the
        comment is stored and ``<family>_new`` goes to the long poll; returns the event object."""
        owner_id = -group_id
        self.add_place(family, owner_id, object_id)
        with self.lock:
            return self._new_place_comment(family, owner_id, object_id, from_id, text, reply_to)

    def _new_place_comment(self, family: str, owner_id: int, object_id: int, from_id: int, text: str,
                           reply_to: int | None) -> dict:
        """Store a comment and queue its Callback event, as VK does for the community's own
        comments too (what the desk's echo rides on). Called with the lock held."""
        self._next_comment_id += 1
        obj = {"id": self._next_comment_id, "from_id": from_id, "date": int(time.time()), "text": text,
               PLACE_OWNER_FIELD[family]: owner_id, PLACE_OBJECT_FIELD[family]: object_id}
        if family == "board_post":
            obj["likes"] = {"count": 0, "user_likes": 0, "can_like": 1}
        else:
            obj.update(parents_stack=[], thread={"count": 0, "items": [], "can_post": True, "groups_can_post": True})
            if reply_to is not None:
                parent = next(c for c in self.places[(family, owner_id, object_id)]["comments"] if c["id"] == reply_to)
                obj.update(reply_to_comment=reply_to, reply_to_user=parent["from_id"], parents_stack=[reply_to])
        self.places[(family, owner_id, object_id)]["comments"].append(obj)
        event = {"type": f"{family}_new", "event_id": f"{self.rng.getrandbits(160):040x}", "v": API_VERSION,
                 "object": obj, "group_id": -owner_id}
        self._longpoll(-owner_id)["events"].append(event)
        self._lp_changed.notify_all()
        return dict(obj)

    def add_direct_message(self, group_id: int, peer_id: int, text: str, date: int | None = None) -> dict:
        """A resident writes to the community: the message object of ``message_new``."""
        with self.lock:
            return self._dialog_message(group_id, peer_id, peer_id, text, date or int(time.time()), out=0)

    def _dialog_message(self, group_id: int, peer_id: int, from_id: int, text: str, date: int, *, out: int,
                        **extra) -> dict:
        dialog = self.dialogs[(group_id, peer_id)]
        self._next_message_id += 1
        message = {"id": self._next_message_id, "date": date, "peer_id": peer_id, "from_id": from_id,
                   "text": text, "out": out, "conversation_message_id": len(dialog) + 1, **extra}
        dialog.append(message)
        return message

    def add_feed_post(self, owner_id: int, post_id: int, text: str, date: int, from_id: int | None = None) -> dict:
        post = {"id": post_id, "owner_id": owner_id, "from_id": from_id if from_id is not None else owner_id,
                "date": date, "text": text, "post_type": "post"}
        with self.lock:
            self.feed.append(post)
        return post

    # --- inspection ------------------------------------------------------------------

    def count(self, method: str) -> int:
        with self.lock:
            return sum(1 for name, _ in self.calls if name == method)

    def params_of(self, method: str) -> list[dict]:
        with self.lock:
            return [params for name, params in self.calls if name == method]

    # --- the long poll server --------------------------------------------------------

    def _longpoll(self, group_id: int) -> dict:
        if group_id not in self._lp:
            self._lp[group_id] = {"key": self._new_key(), "events": [], "base": 1000, "fail": deque()}
        return self._lp[group_id]

    def dispatch(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] not in ("method", "lp"):
            return Response("not found", status=404)
        params = {**request.args.to_dict(), **request.form.to_dict()}
        fault = self.draw_fault()
        if fault in ("500", "503"):
            return Response("<html>Bad Gateway</html>", status=int(fault), mimetype="text/html")
        if parts[0] == "lp":
            if fault and fault.startswith("error"):
                # API error bodies exist only on /method: keep this fault for the next call there.
                with self.lock:
                    self.faults_served.pop()
                    self.faults.forced.insert(0, fault)
                fault = None
            payload: Any = self._a_check(int(parts[1]), params)
        elif fault in ("error6", "error9", "error10"):
            code = int(fault[5:])
            payload = _error(code, ERROR_TEXT[code], parts[1], params)
        else:
            try:
                payload = {"response": self._method(parts[1], params)}
            except VKError as exc:
                payload = _error(exc.code, exc.message, parts[1], params)
        return json_response(payload, truncated=fault == "truncated")

    def _new_key(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def push_event(self, group_id: int, event_type: str, obj: dict) -> dict:
        """Queue an event for the Bots Long Poll (the callback envelope without secret)."""
        event = {"type": event_type, "event_id": f"{self.rng.getrandbits(160):040x}", "v": API_VERSION,
                 "object": obj, "group_id": group_id}
        with self.lock:
            self._longpoll(group_id)["events"].append(event)
            self._lp_changed.notify_all()
        return event

    def push_raw(self, group_id: int, update: dict) -> dict:
        """Queue ``update`` exactly as given (a captured or hostile event) for the long poll."""
        with self.lock:
            self._longpoll(group_id)["events"].append(json.loads(json.dumps(update)))
            self._lp_changed.notify_all()
        return update

    def push_comment(self, group_id: int, place: str, action: str, obj: dict) -> dict:
        """A comment event of ``place`` (``wall_reply``, ``photo_comment``, ``video_comment``,
        ``market_comment``, ``board_post``) and ``action`` (new, edit, restore, delete)."""
        return self.push_event(group_id, f"{place}_{action}", obj)

    def push_direct_message(self, group_id: int, peer_id: int, text: str, *, legacy: bool = False,
                            attachments: list[dict] | None = None, **extra) -> dict:
        """A resident writes to the community: ``message_new`` in the 5.103+ shape
        (``{message, client_info}``) or, ``legacy``, the bare message of older API versions."""
        with self.lock:
            message = self._dialog_message(group_id, peer_id, peer_id, text, int(time.time()), out=0,
                                           attachments=attachments or [], fwd_messages=[], important=False,
                                           is_hidden=False, version=10_000 + self._next_message_id, **extra)
        obj = message if legacy else {"message": message, "client_info": CLIENT_INFO}
        self.push_event(group_id, "message_new", obj)
        return message

    def push_message_edit(self, group_id: int, message: dict, text: str) -> dict:
        """The resident edits a direct message: ``message_edit`` carries the message object."""
        with self.lock:
            edited = dict(message, text=text, update_time=int(time.time()))
            dialog = self.dialogs[(group_id, message["peer_id"])]
            dialog[:] = [edited if m["id"] == message["id"] else m for m in dialog]
        self.push_event(group_id, "message_edit", edited)
        return edited

    def longpoll_fail(self, group_id: int, failed: int, ts: int | None = None) -> None:
        """The next ``a_check`` answers ``{"failed": failed}`` (2 and 3 also expire the key;
        1 carries ``ts``, by default the newest one: older history is lost, as on VK)."""
        with self.lock:
            self._longpoll(group_id)["fail"].append((failed, ts))

    def events(self, group_id: int) -> list[dict]:
        """Every event queued for the community so far (what its Callback server gets too)."""
        with self.lock:
            return json.loads(json.dumps(self._longpoll(group_id)["events"]))

    def longpoll_head(self, group_id: int) -> int:
        with self.lock:
            lp = self._longpoll(group_id)
            return lp["base"] + len(lp["events"])

    def _a_check(self, group_id: int, query: dict) -> dict:
        with self.lock:
            lp = self._longpoll(group_id)
            head = lp["base"] + len(lp["events"])
            if lp["fail"]:
                failed, ts = lp["fail"].popleft()
                if failed in (2, 3):
                    lp["key"] = self._new_key()
                return {"failed": 1, "ts": str(ts if ts is not None else head)} if failed == 1 else {"failed": failed}
            if query.get("act") != "a_check" or query.get("key") != lp["key"]:
                return {"failed": 2}
            try:
                ts = int(query.get("ts", ""))
            except ValueError:
                return {"failed": 1, "ts": str(head)}
            if ts < lp["base"] or ts > head:
                return {"failed": 1, "ts": str(head)}
            wait = min(float(query.get("wait") or 0), self.lp_max_wait)
            deadline = time.monotonic() + wait
            while ts == lp["base"] + len(lp["events"]) and time.monotonic() < deadline:
                self._lp_changed.wait(deadline - time.monotonic())
            events = lp["events"][ts - lp["base"]:]
            return {"ts": str(ts + len(events)), "updates": events}

    # --- /method ---------------------------------------------------------------------

    def _method(self, name: str, params: dict) -> Any:
        token_value = params.pop("access_token", None)
        if not token_value:
            raise VKError(5, "no access_token passed.")
        token = self.tokens.get(token_value)
        if token is None:
            raise VKError(5)
        if params.get("v") is None:
            raise VKError(100, "v is required")
        if params["v"] != API_VERSION:
            raise VKError(100, f"this fake speaks only v={API_VERSION}")
        self._rate_limit(token_value, token)
        with self.lock:
            self.calls.append((name, dict(params)))
        handler = getattr(self, "m_" + name.replace(".", "_"), None)
        if handler is None:
            raise VKError(100, f"method {name} is not implemented by the fake")
        allowed = ACCESS[name]
        if token.kind not in allowed:
            raise VKError(27 if token.kind == "group" else 28 if token.kind == "service" else 15)
        return handler(token, params)

    def _rate_limit(self, value: str, token: Token) -> None:
        limit = self.rate_limits[token.kind]
        now = time.monotonic()
        with self.lock:
            recent = self._recent[value]
            while recent and now - recent[0] >= 1.0:
                recent.popleft()
            if len(recent) >= limit:
                self.refused += 1
                raise VKError(6)
            recent.append(now)

    def m_users_get(self, token: Token, p: dict) -> list[dict]:
        ids = _ids(p.get("user_ids", ""))
        if len(ids) > 1000:
            raise VKError(100, "user_ids is too long")
        return [dict(self.users.get(i) or {"id": i, "first_name": "DELETED", "last_name": "",
                                            "deactivated": "deleted"}) for i in ids]

    def m_groups_getById(self, token: Token, p: dict) -> dict:
        ids = _ids(p.get("group_ids") or p.get("group_id") or "")
        if not ids:
            raise VKError(100, "group_ids is undefined")
        fields = set((p.get("fields") or "").split(","))
        groups = []
        for gid in ids:
            if gid not in self.groups:
                raise VKError(100, "group_ids is invalid")
            group = dict(self.groups[gid])
            if "members_count" not in fields:
                group.pop("members_count")
            groups.append(group)
        return {"groups": groups, "profiles": []}

    def m_groups_getLongPollServer(self, token: Token, p: dict) -> dict:
        group_id = int(p.get("group_id") or 0)
        if not group_id:
            raise VKError(100, "group_id is undefined")
        if group_id != token.group_id:
            raise VKError(15)
        with self.lock:
            lp = self._longpoll(group_id)
            return {"key": lp["key"], "server": f"{self.url}/lp/{group_id}",
                    "ts": str(lp["base"] + len(lp["events"]))}

    def m_wall_get(self, token: Token, p: dict) -> dict:
        owner_id = int(p.get("owner_id") or 0)
        offset, count = _page(p, 100)
        with self.lock:
            posts = sorted((post for (owner, _), post in self.posts.items() if owner == owner_id),
                           key=lambda post: (not post["is_pinned"], -post["id"]))
            return {"count": len(posts), "items": [_public(post) for post in posts[offset:offset + count]]}

    def m_wall_getComments(self, token: Token, p: dict) -> dict:
        owner_id, post_id = int(p.get("owner_id") or 0), int(p.get("post_id") or 0)
        offset, count = _page(p, 100)
        thread_items = int(p.get("thread_items_count") or 0)
        if thread_items > 10:
            raise VKError(100, "thread_items_count should be less or equal 10")
        with self.lock:
            if (owner_id, post_id) not in self.posts:
                raise VKError(100, "post_id is invalid")
            if p.get("comment_id"):
                level = self._find_comment(owner_id, post_id, int(p["comment_id"]))["_replies"]
            else:
                level = self.comments[(owner_id, post_id)]
            level = level if p.get("sort", "asc") != "desc" else list(reversed(level))
            items = []
            for comment in level[offset:offset + count]:
                item = _public(comment)
                if "_replies" in comment:
                    replies = comment["_replies"]
                    item["thread"] = {"count": len(replies), "items": [_public(r) for r in replies[:thread_items]],
                                      "can_post": True, "groups_can_post": True}
                items.append(item)
            return {"count": self.posts[(owner_id, post_id)]["comments"]["count"], "items": items,
                    "current_level_count": len(level), "can_post": True, "show_reply_button": True,
                    "groups_can_post": True}

    def m_newsfeed_search(self, token: Token, p: dict) -> dict:
        q = (p.get("q") or "").lower()
        count = min(int(p.get("count") or 30), 200)
        start = int(p.get("start_from") or 0)
        start_time = int(p.get("start_time") or 0)
        with self.lock:
            found = sorted((post for post in self.feed if q and q in post["text"].lower()
                            and post["date"] >= start_time), key=lambda post: -post["date"])
        page = found[start:start + count]
        response = {"items": [dict(post) for post in page], "count": len(page), "total_count": len(found)}
        if start + count < len(found):
            response["next_from"] = str(start + count)
        return response

    def m_wall_createComment(self, token: Token, p: dict) -> dict:
        owner_id, post_id = int(p.get("owner_id") or 0), int(p.get("post_id") or 0)
        with self.lock:
            guid = p.get("guid")
            if guid and guid in self._guids:
                return self._guids[guid]
            post = self.posts.get((owner_id, post_id))
            if post is None:
                raise VKError(100, "post_id is invalid")
            if post["_closed"]:
                raise VKError(213)
            from_id = -token.group_id if token.kind == "group" or p.get("from_group") else 1
            reply_to = int(p["reply_to_comment"]) if p.get("reply_to_comment") else None
            comment = self.add_comment(owner_id, post_id, from_id, p.get("message", ""), int(time.time()),
                                       reply_to=reply_to)
            self.created_comments.append(dict(p))
            result = {"comment_id": comment["id"], "parents_stack": comment["parents_stack"]}
            if guid:
                self._guids[guid] = result
            return result

    def m_wall_post(self, token: Token, p: dict) -> dict:
        """A post on a community wall; ``guid`` makes a repeated request return the same post."""
        owner_id = int(p.get("owner_id") or 0)
        message = p.get("message") or ""
        with self.lock:
            guid = p.get("guid")
            if guid and guid in self._guids:
                return self._guids[guid]
            if -owner_id not in self.groups:
                raise VKError(100, "owner_id is invalid")
            if not message.strip() or len(message) > 16384:
                raise VKError(100, "message is empty or too long")
            post_id = 1 + max((pid for (oid, pid) in self.posts if oid == owner_id), default=0)
            self.add_post(owner_id, post_id, message, int(time.time()))
            self.wall_posts.append(dict(p))
            result = {"post_id": post_id}
            if guid:
                self._guids[guid] = result
            return result

    def m_messages_send(self, token: Token, p: dict) -> int:
        """One message to ``peer_id`` (``random_id`` required since 5.90; a repeat with the same
        random_id returns the first message's id and sends nothing); ``forward`` with
        ``is_reply`` must name a message of this dialog by its conversation_message_id."""
        if "peer_ids" in p or "user_ids" in p:
            raise VKError(100, "this fake answers only peer_id")
        try:
            peer_id = int(p["peer_id"])
        except (KeyError, ValueError):
            raise VKError(100, "peer_id is undefined") from None
        if "random_id" not in p:
            raise VKError(100, "random_id is a required parameter")
        random_id = int(p["random_id"])
        message = p.get("message") or ""
        if not message.strip():
            raise VKError(100, "message is empty")
        if len(message) > 4096:
            raise VKError(100, "message is too long")
        group_id = token.group_id if token.kind == "group" else 0
        with self.lock:
            key = (group_id, peer_id, random_id)
            if random_id and key in self._random_ids:
                return self._random_ids[key]
            dialog = self.dialogs.get((group_id, peer_id))
            if not dialog or peer_id in self.blocked_peers:
                raise VKError(901)
            reply = None
            if p.get("forward"):
                try:
                    forward = json.loads(p["forward"])
                    cmids = [int(i) for i in forward["conversation_message_ids"]]
                except (ValueError, KeyError, TypeError):
                    raise VKError(100, "forward is invalid") from None
                if int(forward.get("peer_id") or 0) != peer_id or len(cmids) != 1 or not forward.get("is_reply"):
                    raise VKError(100, "forward: a reply names one message of this dialog")
                reply = next((m for m in dialog if m["conversation_message_id"] == cmids[0]), None)
                if reply is None:
                    raise VKError(100, "forward: message not found")
            extra = {"reply_message": _public(reply)} if reply else {}
            sent = self._dialog_message(group_id, peer_id, -group_id, message, int(time.time()), out=1, **extra)
            self.sent_messages.append(dict(p))
            if random_id:
                self._random_ids[key] = sent["id"]
            return sent["id"]

    def m_photos_createComment(self, token: Token, p: dict) -> int:
        return self._create_place_comment("photos.createComment", token, p)

    def m_video_createComment(self, token: Token, p: dict) -> int:
        return self._create_place_comment("video.createComment", token, p)

    def m_market_createComment(self, token: Token, p: dict) -> int:
        return self._create_place_comment("market.createComment", token, p)

    def m_board_createComment(self, token: Token, p: dict) -> int:
        return self._create_place_comment("board.createComment", token, p)

    def _create_place_comment(self, method: str, token: Token, p: dict) -> int:
        """A comment under a photo, video, good or board topic; the answer is the new
        comment's id. ``from_group=1`` posts as the community, which only an admin of it
        may (15 otherwise); a repeat with the same ``guid`` returns the first comment's id."""
        family, object_param = PLACE_METHODS[method]
        object_id = _required_id(p, object_param)
        if family == "board_post":
            group_id = _required_id(p, "group_id")
            if group_id < 1:
                raise VKError(100, "group_id should be positive")
            owner_id = -group_id  # a board has no replies: reply_to_comment means nothing here
        else:
            # owner_id is required for goods; photos and videos default to the caller's own.
            owner_id = _required_id(p, "owner_id") if "owner_id" in p or family == "market_comment" \
                else ADMIN_USER_ID
        message = p.get("message") or ""
        if not message.strip() and not p.get("attachments"):
            raise VKError(100, "message is empty")
        from_group = p.get("from_group") in ("1", "true")
        with self.lock:
            guid = p.get("guid")
            if guid and guid in self._guids:
                return self._guids[guid]
            place = self.places.get((family, owner_id, object_id))
            if place is None:
                raise VKError(100, f"{object_param} is invalid")
            if from_group and (owner_id >= 0 or token.group_id != -owner_id):
                raise VKError(15, "you are not an administrator of this community")
            if place["closed"]:
                raise VKError(PLACE_CLOSED_ERROR.get(family, 15))
            reply_to = None
            if family != "board_post" and p.get("reply_to_comment"):
                reply_to = _required_id(p, "reply_to_comment")
                if not any(c["id"] == reply_to for c in place["comments"]):
                    raise VKError(100, "reply_to_comment is invalid")
            comment = self._new_place_comment(family, owner_id, object_id, owner_id if from_group else ADMIN_USER_ID,
                                              message, reply_to)
            self.created_place_comments.append({"method": method, **p})
            if guid:
                self._guids[guid] = comment["id"]
            return comment["id"]

    def _find_comment(self, owner_id: int, post_id: int, comment_id: int) -> dict:
        for comment in self.comments[(owner_id, post_id)]:
            if comment["id"] == comment_id:
                return comment
        raise VKError(100, "comment_id is invalid")


def _public(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _required_id(p: dict, name: str) -> int:
    try:
        return int(p[name])
    except (KeyError, ValueError):
        raise VKError(100, f"{name} is a required parameter") from None


def _ids(value: str) -> list[int]:
    return [int(part) for part in str(value).split(",") if part.strip()]


def _page(p: dict, limit: int) -> tuple[int, int]:
    offset, count = int(p.get("offset") or 0), int(p.get("count") or 20)
    if count > limit or count < 0 or offset < 0:
        raise VKError(100, f"count should be less or equal {limit}")
    return offset, count


def _error(code: int, message: str, method: str, params: dict) -> dict:
    request_params = [{"key": "method", "value": method}] + [
        {"key": k, "value": str(v)} for k, v in params.items() if k != "access_token"]
    return {"error": {"error_code": code, "error_msg": message, "request_params": request_params}}


class CallbackSender:
    """VK's side of the Callback API for one community and one server URL."""

    def __init__(self, url: str, *, group_id: int, secret: str | None, confirmation_code: str, seed: int = 7):
        self.url = url
        self.group_id = group_id
        self.secret = secret
        self.confirmation_code = confirmation_code
        self.rng = random.Random(seed)
        self.confirmed = False
        self.deliveries: list[tuple[dict, httpx.Response]] = []
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def confirm(self) -> httpx.Response:
        """The handshake: the server must answer with exactly the confirmation code."""
        response = self.http.post(self.url, json={"type": "confirmation", "group_id": self.group_id})
        self.confirmed = response.status_code == 200 and response.text == self.confirmation_code
        return response

    def event(self, event_type: str, obj: dict) -> dict:
        body = {"type": event_type, "event_id": f"{self.rng.getrandbits(160):040x}", "v": API_VERSION,
                "object": obj, "group_id": self.group_id}
        if self.secret is not None:
            body["secret"] = self.secret
        return body

    def deliver(self, body: dict, retry: int = 0) -> httpx.Response:
        """POST one event body; ``retry > 0`` is a re-delivery with ``X-Retry-Counter``."""
        if not self.confirmed:
            raise RuntimeError("VK sends events only to a server that answered the confirmation")
        headers = {"X-Retry-Counter": str(retry)} if retry else {}
        response = self.http.post(self.url, json=body, headers=headers)
        self.deliveries.append((body, response))
        return response

    def send(self, event_type: str, obj: dict, *, repeats: int = 0) -> dict:
        """Deliver a new event, then ``repeats`` re-deliveries of the same ``event_id``;
        like VK, also re-deliver while the answer is not ``ok`` (up to 5 times)."""
        body = self.event(event_type, obj)
        response = self.deliver(body)
        retry = 0
        while retry < 5 and (response.status_code != 200 or response.text != "ok"):
            retry += 1
            response = self.deliver(body, retry)
        for _ in range(repeats):
            retry += 1
            self.deliver(body, retry)
        return body
