"""A thin synchronous client of the VK API (``/method/<name>``, v5.199) and the Bots Long Poll.

Every call is one POST of form data; the answer is ``{"response": ...}`` or, with HTTP
200, ``{"error": {error_code, error_msg, ...}}``. Errors map to :mod:`desk.channels.errors`:
rate and flood limits (6, 9), VK's own failures (1, 10) and HTTP 5xx are retryable;
everything else (bad token 5, access 15/27/28, daily quota 29, bad parameter 100, closed
comments 213 …) is permanent: a person has to act. Tokens travel only in the request body: never in a URL, a log line or an
error text. Calls are spaced per token (VK allows about 20 rps for a community token and
3 rps for a user or service token), so one process does not trip the limit by itself.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..text import clean_text
from .errors import MalformedResponse, PermanentError, RetryableError
from .http import HttpTransport
from .media import compose, label
from .payload import optional_int_id

API_VERSION = "5.199"
GROUP_RPS = 20.0
USER_RPS = 3.0
RETRYABLE_CODES = {1, 6, 9, 10}
RATE_LIMIT_CODES = {6, 9}

_spacing_lock = threading.Lock()
_last_call: dict[str, float] = {}


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _wait_turn(token: str, rps: float) -> None:
    """Sleep until this token may call again (process-local spacing of calls)."""
    if rps <= 0:
        return
    key = _token_key(token)
    with _spacing_lock:
        now = time.monotonic()
        # A tenth more than 1/rps: arrival jitter must not put two calls in one VK second.
        slot = max(now, _last_call.get(key, 0.0) + 1.1 / rps)
        _last_call[key] = slot
    if slot > now:
        time.sleep(slot - now)


def random_id_for(key: str) -> int:
    """A positive int32 for ``messages.send`` derived from a stable key (the outbox key):
    VK drops a repeat of a message with the same ``random_id``, so a retry posts nothing twice."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF or 1


def api_error(error: dict, token: str | None = None) -> RetryableError | PermanentError:
    """The exception for a VK ``error`` object; the token is scrubbed from the text."""
    code = error.get("error_code")
    message = str(error.get("error_msg") or "unknown error")
    if token:
        message = message.replace(token, "***")
    description = f"VK error {code}: {message}"
    if code in RETRYABLE_CODES:
        retry_after = 1.0 if code in RATE_LIMIT_CODES else None
        return RetryableError(description, code=code, retry_after=retry_after)
    return PermanentError(description, code=code)


class VKClient:
    """One token's view of the API. Use as a context manager (closes the HTTP client)."""

    def __init__(self, base_url: str, token: str, *, rps: float = GROUP_RPS,
                 transport: HttpTransport | None = None):
        if not token:
            raise PermanentError("VK token is not configured")
        self._token = token
        self.rps = rps
        self.transport = transport or HttpTransport(base_url)

    def __enter__(self) -> VKClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def __repr__(self) -> str:  # never show the token
        return f"<VKClient {self.transport.base_url}>"

    def call(self, method: str, *, idempotent: bool = True, **params: Any) -> Any:
        """Call one API method once; returns ``response`` or raises a channel error."""
        data = {k: _form_value(v) for k, v in params.items() if v is not None}
        data["access_token"] = self._token
        data["v"] = API_VERSION
        _wait_turn(self._token, self.rps)
        _status, body = self.transport.call("POST", f"/method/{method}", data=data, idempotent=idempotent)
        if not isinstance(body, dict):
            raise MalformedResponse(f"VK {method}: unexpected body")
        if "error" in body:
            raise api_error(body["error"] if isinstance(body["error"], dict) else {}, self._token)
        if "response" not in body:
            raise MalformedResponse(f"VK {method}: no response field")
        return body["response"]

    # --- the methods the desk uses -------------------------------------------------

    def users_get(self, user_ids: list[int]) -> list[dict]:
        return self.call("users.get", user_ids=",".join(str(i) for i in user_ids))

    def groups_get_by_id(self, group_ids: list[int], fields: str = "") -> list[dict]:
        """Communities by id; 5.199 wraps them as ``{"groups": [...], "profiles": []}``."""
        response = self.call("groups.getById", group_ids=",".join(str(abs(i)) for i in group_ids),
                             fields=fields or None)
        return response["groups"] if isinstance(response, dict) else response

    def get_long_poll_server(self, group_id: int) -> dict:
        return self.call("groups.getLongPollServer", group_id=group_id)

    def long_poll(self, server: str, key: str, ts: str, wait: int) -> dict:
        """One ``a_check`` request to the Bots Long Poll server (``failed`` is returned, not raised)."""
        _status, body = self.transport.call("GET", server, params={"act": "a_check", "key": key, "ts": ts,
                                                                   "wait": wait})
        if not isinstance(body, dict) or ("failed" not in body and ("ts" not in body or "updates" not in body)):
            raise MalformedResponse("VK long poll: unexpected body")
        return body

    def wall_get(self, owner_id: int, *, offset: int = 0, count: int = 100) -> dict:
        return self.call("wall.get", owner_id=owner_id, offset=offset, count=count)

    def wall_get_comments(self, owner_id: int, post_id: int, *, offset: int = 0, count: int = 100,
                          comment_id: int | None = None, sort: str = "asc",
                          thread_items_count: int = 10) -> dict:
        return self.call("wall.getComments", owner_id=owner_id, post_id=post_id, offset=offset, count=count,
                         comment_id=comment_id, sort=sort,
                         thread_items_count=None if comment_id else thread_items_count)

    def newsfeed_search(self, q: str, *, start_time: int | None = None, start_from: str | None = None,
                        count: int = 200) -> dict:
        return self.call("newsfeed.search", q=q, start_time=start_time, start_from=start_from, count=count)

    def create_comment(self, owner_id: int, post_id: int, message: str, *, from_group: int | None = None,
                       reply_to_comment: int | None = None, guid: str | None = None) -> dict:
        """Post a comment; ``guid`` makes a repeat of the same request harmless on VK's side."""
        return self.call("wall.createComment", idempotent=guid is not None, owner_id=owner_id, post_id=post_id,
                         message=message, from_group=from_group, reply_to_comment=reply_to_comment, guid=guid)

    def send_message(self, peer_id: int, message: str, *, random_id: int,
                     reply_to_cmid: int | None = None) -> int:
        """A community message in the dialog ``peer_id``; returns the new message's id.

        The reply target is given by ``forward`` with ``conversation_message_ids`` and
        ``is_reply``: the collector stores a message's ``conversation_message_id``, while
        ``reply_to`` wants the global message id, which a community does not always get.
        ``random_id`` makes a repeat harmless, so the call may be retried after a timeout.
        """
        forward = None
        if reply_to_cmid is not None:
            forward = json.dumps({"peer_id": peer_id, "conversation_message_ids": [reply_to_cmid],
                                  "is_reply": True}, separators=(",", ":"))
        result = self.call("messages.send", idempotent=True, peer_id=peer_id, random_id=random_id,
                           message=message, forward=forward)
        if isinstance(result, bool) or not isinstance(result, int):
            raise MalformedResponse("VK messages.send: the answer is not a message id")
        return result

    def wall_post(self, owner_id: int, message: str, *, from_group: bool = True, guid: str | None = None) -> dict:
        """Publish on a wall (a user token of a community admin); ``guid`` dedupes repeats."""
        return self.call("wall.post", idempotent=guid is not None, owner_id=owner_id, message=message,
                         from_group=from_group, guid=guid)

    # Comments under photos, videos, goods and board topics. VK takes only a user token
    # here (a community admin's, ``from_group`` posts as the community; a community token
    # gets error 27), and answers with the new comment's id. ``guid`` dedupes repeats.

    def photos_create_comment(self, owner_id: int, photo_id: int, message: str, *,
                              reply_to_comment: int | None = None, from_group: bool = True,
                              guid: str | None = None) -> int:
        return self._new_comment("photos.createComment", guid, owner_id=owner_id, photo_id=photo_id,
                                 message=message, reply_to_comment=reply_to_comment, from_group=from_group)

    def video_create_comment(self, owner_id: int, video_id: int, message: str, *,
                             reply_to_comment: int | None = None, from_group: bool = True,
                             guid: str | None = None) -> int:
        return self._new_comment("video.createComment", guid, owner_id=owner_id, video_id=video_id,
                                 message=message, reply_to_comment=reply_to_comment, from_group=from_group)

    def market_create_comment(self, owner_id: int, item_id: int, message: str, *,
                              reply_to_comment: int | None = None, from_group: bool = True,
                              guid: str | None = None) -> int:
        return self._new_comment("market.createComment", guid, owner_id=owner_id, item_id=item_id,
                                 message=message, reply_to_comment=reply_to_comment, from_group=from_group)

    def board_create_comment(self, group_id: int, topic_id: int, message: str, *, from_group: bool = True,
                             guid: str | None = None) -> int:
        """A message in a board topic; a board has no replies to a comment."""
        return self._new_comment("board.createComment", guid, group_id=abs(group_id), topic_id=topic_id,
                                 message=message, from_group=from_group)

    def _new_comment(self, method: str, guid: str | None, **params: Any) -> int:
        result = self.call(method, idempotent=guid is not None, guid=guid, **params)
        if isinstance(result, bool) or not isinstance(result, int):
            raise MalformedResponse(f"VK {method}: the answer is not a comment id")
        return result


# --- where residents comment -------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where residents comment in a community, and how its Callback events name things.

    Wall comments keep the plain ``<owner>_<id>`` refs (the reply sender posts under wall
    posts by them); comments elsewhere are prefixed (``photo:<owner>_<id>``), so their
    ids never collide with wall comments and they have no post of the city. A comment's
    ``external_id`` is the ref of the comment, its ``thread_ref`` the ref of the object.
    """

    prefix: str
    object_field: str  # the commented object's id: post_id, photo_id, …
    owner_fields: tuple[str, ...]  # where the object's owner is given, first present wins
    link: str  # the comment's address; {owner} {object} {comment}

    def ref(self, owner_id: int, item_id: int) -> str:
        return f"{self.prefix}:{owner_id}_{item_id}" if self.prefix else f"{owner_id}_{item_id}"

    def owner(self, obj: dict, group_id: int) -> int:
        for name in self.owner_fields:
            value = optional_int_id(obj.get(name), name)
            if value:
                return value
        return -group_id


#: Callback event families (``<family>_new``, ``_edit``, ``_restore``, ``_delete``) by place.
PLACES = {
    "wall_reply": Place("", "post_id", ("post_owner_id", "owner_id"),
                        "https://vk.com/wall{owner}_{object}?reply={comment}"),
    "photo_comment": Place("photo", "photo_id", ("photo_owner_id", "owner_id"),
                           "https://vk.com/photo{owner}_{object}"),
    "video_comment": Place("video", "video_id", ("video_owner_id", "owner_id"),
                           "https://vk.com/video{owner}_{object}"),
    "market_comment": Place("market", "item_id", ("market_owner_id", "owner_id"),
                            "https://vk.com/market{owner}?w=product{owner}_{object}"),
    "board_post": Place("board", "topic_id", ("topic_owner_id", "owner_id"),
                        "https://vk.com/topic{owner}_{object}?post={comment}"),
}
_PLACE_BY_PREFIX = {place.prefix: place for place in PLACES.values() if place.prefix}
_PLACE_REF = re.compile(r"^([a-z]+):(-?\d+)_(\d+)$")


def place_of(ref: str | None) -> tuple[Place, int, int] | None:
    """``"photo:-1_2"`` → (the photo place, owner -1, id 2); None for a wall or dialog ref."""
    match = _PLACE_REF.match(ref or "")
    if match is None:
        return None
    place = _PLACE_BY_PREFIX.get(match.group(1))
    return (place, int(match.group(2)), int(match.group(3))) if place else None


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


# --- what a comment, post or message says -------------------------------------------------

#: VK attachment ``type`` → canonical kind of :mod:`desk.channels.media`.
ATTACHMENT_KINDS = {
    "photo": "photo", "posted_photo": "photo", "photos_list": "photo", "album": "photo", "graffiti": "photo",
    "video": "video", "clip": "video", "video_playlist": "video",
    "audio": "audio", "audio_playlist": "audio", "podcast": "audio", "podcasts": "audio",
    "audio_message": "voice", "doc": "file", "sticker": "sticker",
    "link": "link", "article": "link", "page": "link", "note": "link", "event": "link", "group": "link",
    "wall": "repost", "wall_reply": "repost", "poll": "poll",
    "market": "market", "market_album": "market", "market_market_album": "market",
    "gift": "gift", "story": "story", "geo": "location",
}


def attachment_kinds(obj: dict) -> list[str]:
    """Canonical kinds of a comment's, post's or message's attachments: ``attachments``,
    a message's forwarded messages and place, a post's repost (``copy_history``)."""
    kinds = []
    if obj.get("fwd_messages"):
        kinds.append("forward")
    if obj.get("copy_history"):
        kinds.append("repost")
    for item in obj.get("attachments") or []:
        if isinstance(item, dict):
            kinds.append(ATTACHMENT_KINDS.get(str(item.get("type")), "other"))
    if isinstance(obj.get("geo"), dict):
        kinds.append("location")
    return kinds


def item_text(obj: dict) -> str:
    """What the desk stores for a comment, post or message: attachment labels, then the
    text (``"[фото] Яма у дома 5"``); something left with neither (a removed attachment)
    reads as an attachment, never as an empty text. ``body`` is the text before API 5.80."""
    words = obj.get("text") if obj.get("text") not in (None, "") else obj.get("body")
    return compose(clean_text(words), attachment_kinds(obj)) or label("other")
