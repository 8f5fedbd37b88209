"""VK collector: Callback API deliveries, Bots Long Poll, author names, normalisation rules.

Account credentials: ``group_token`` (long poll, users.get), ``service_token`` (wall.get,
wall.getComments, newsfeed.search: VK refuses a community token there), ``callback_secret``
and ``confirmation_code`` (the webhook, see :mod:`desk.hooks.vk`). Settings: ``group_id``,
``mention_keywords``.

Comment ids are unique per wall, so a comment's ``external_id`` is
``"<owner_id>_<comment id>"``; its ``thread_ref``/``post_ref`` is the post,
``"<owner_id>_<post id>"`` (also the :class:`PostSeen` id of the city's ``wall_post_new``;
a resident's post on the wall is itself a message, ``post<owner_id>_<post id>``). Comments
under the community's photos, videos, goods and board topics are appeals too
(``photo_comment_*``, ``video_comment_*``, ``market_comment_*``, ``board_post_*``, with
the same comment object): their refs carry the place, ``photo:<owner_id>_<id>`` (see
:class:`Place`), and they have no post. A direct message's thread is ``dm:<peer_id>``;
``message_edit`` edits it like ``wall_reply_edit`` edits a comment, the community's own
messages (``message_reply``, ``out``) and chat service messages are skipped.

Ids are numbers or numeric strings (as VK's SDKs accept); anything else raises, and the
event becomes a dead letter. Backfill and mentions live in
:mod:`workers.collectors.vk_history` and are re-exported here.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app

from desk.channels.errors import ChannelError, MalformedResponse, PermanentError, RetryableError
from desk.channels.events import ChannelEvent, CommentDeleted, CommentRestored, InboundMessage, PostSeen, Skipped
from desk.channels.http import with_retries
from desk.channels.payload import from_seconds, int_id, loose_int_id, optional_int_id
from desk.channels.vk import PLACES, Place, VKClient, item_text
from desk.models import Account, utcnow
from desk.networks import credential
from desk.queue import get_redis

from .base import PollBatch

log = logging.getLogger(__name__)
T = TypeVar("T")

MENTION = "mention"  # our own envelope type for a newsfeed.search hit (see vk_history)
NAME_KEY = "vk:name:{}"
USERS_PER_CALL = 1000
GROUPS_PER_CALL = 500
LONG_POLL_ROUNDS = 4

_clients: dict[tuple[str, str], VKClient] = {}


# --- clients and retries --------------------------------------------------------------------


def group_id_of(account: Account) -> int:
    value = (account.settings or {}).get("group_id")
    if not value:
        raise PermanentError("the VK account has no group_id setting")
    return abs(int(value))


def client_for(account: Account, config: Mapping, kind: str = "group") -> VKClient:
    """A cached client per (API base, token); ``kind`` is ``group`` or ``service``."""
    token = credential(account, f"{kind}_token")
    if not token:
        raise PermanentError(f"the VK account has no {kind}_token")
    key = (config["VK_API_BASE"], token)
    client = _clients.get(key)
    if client is None:
        rps = float(config["VK_GROUP_RPS"] if kind == "group" else config["VK_USER_RPS"])
        client = _clients[key] = VKClient(config["VK_API_BASE"], token, rps=rps)
    return client


def retrying(call: Callable[[], T], config: Mapping | None = None) -> T:
    """Run one API call with the desk's backoff (errors 6/9/10, 5xx, truncated bodies)."""
    config = config if config is not None else current_app.config
    return with_retries(call, attempts=int(config["VK_RETRY_ATTEMPTS"]),
                        base_delay=float(config["VK_RETRY_BASE_DELAY"]))


# --- Bots Long Poll ---------------------------------------------------------------------------


def fetch(account: Account, cursor: str | None, config: Mapping) -> PollBatch:
    """One long-poll request; the cursor is ``{"server", "key", "ts"}`` as JSON.

    ``failed`` 1: continue with the ts VK gives; 2: the key expired, get a new one and
    keep our ts; 3: events were lost, get a new key and ts (backfill can fill the gap).
    """
    group_id = group_id_of(account)
    api = client_for(account, config, "group")
    state: dict[str, Any] = json.loads(cursor) if cursor else {}
    wait = int(config["VK_LONG_POLL_WAIT"])
    for _ in range(LONG_POLL_ROUNDS):
        if not state.get("key") or not state.get("server"):
            server = api.get_long_poll_server(group_id)
            state = {"server": server["server"], "key": server["key"], "ts": state.get("ts") or str(server["ts"])}
        body = api.long_poll(state["server"], state["key"], state["ts"], wait)
        failed = body.get("failed")
        if failed is None:
            updates = body["updates"]
            if not isinstance(updates, list):
                raise MalformedResponse("VK long poll: updates is not a list")
            state["ts"] = str(body["ts"])
            return PollBatch(updates=updates, cursor=json.dumps(state), more=bool(updates))
        if failed == 1 and "ts" in body:
            state["ts"] = str(body["ts"])
        elif failed == 2:
            state = {"ts": state["ts"]}
        elif failed == 3:
            log.warning("VK long poll of account %s lost events (failed 3); a backfill recovers them", account.id)
            state = {}
        else:
            raise MalformedResponse(f"VK long poll: unknown failure {failed!r}")
    raise RetryableError("VK long poll kept failing")


def parse_delivery(account: Account, payload: Any) -> list[dict]:
    """A Callback API body is one event (the confirmation request carries none)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise ValueError("not a VK Callback API event (no type)")
    return [] if payload["type"] == "confirmation" else [payload]


# --- author names -----------------------------------------------------------------------------


def _author_id(update: dict) -> int | None:
    obj = update.get("object") if isinstance(update, dict) else None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("message"), dict):  # message_new since API 5.103
        obj = obj["message"]
    value = loose_int_id(obj.get("from_id"))
    return value or None


def prepare(account: Account, updates: list[dict]) -> None:
    """Resolve the authors of a batch in one ``users.get`` (and one ``groups.getById``
    for communities), cached in Redis; never raises: a name that cannot be resolved
    now is shown as ``id<N>``."""
    ids = sorted({i for i in map(_author_id, updates) if i is not None})
    missing = [i for i, name in zip(ids, _cached_names(ids), strict=False) if name is None]
    if not missing:
        return
    try:
        names = _resolve(account, missing)
    except (ChannelError, KeyError, TypeError, ValueError) as exc:
        log.warning("VK names for account %s not resolved: %s", account.id, exc)
        return
    ttl = int(current_app.config["VK_NAME_TTL"])
    with get_redis().pipeline() as pipe:
        for author_id, name in names.items():
            pipe.set(NAME_KEY.format(author_id), name, ex=ttl)
        pipe.execute()


def _cached_names(ids) -> list[str | None]:
    ids = list(ids)
    if not ids:
        return []
    values = get_redis().mget([NAME_KEY.format(i) for i in ids])
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def _resolve(account: Account, ids: list[int]) -> dict[int, str]:
    config = current_app.config
    api = client_for(account, config, "group" if credential(account, "group_token") else "service")
    names: dict[int, str] = {}
    users = sorted(i for i in ids if i > 0)
    for start in range(0, len(users), USERS_PER_CALL):
        chunk = users[start:start + USERS_PER_CALL]
        for user in retrying(lambda: api.users_get(chunk), config):
            names[int(user["id"])] = " ".join(filter(None, [user.get("first_name"), user.get("last_name")]))
    groups = sorted(-i for i in ids if i < 0)
    for start in range(0, len(groups), GROUPS_PER_CALL):
        chunk = groups[start:start + GROUPS_PER_CALL]
        for group in retrying(lambda: api.groups_get_by_id(chunk), config):
            names[-int(group["id"])] = group.get("name") or f"club{group['id']}"
    return names


def author_name(author_id: int) -> str:
    cached = _cached_names([author_id])[0]
    return cached or (f"id{author_id}" if author_id > 0 else f"club{-author_id}")


# --- normalisation ----------------------------------------------------------------------------


def normalize(account: Account, update: dict) -> list[ChannelEvent]:
    if not isinstance(update, dict) or not isinstance(update.get("type"), str):
        raise ValueError("not a VK event (no type)")
    kind, obj = update["type"], update.get("object")
    event_id = update.get("event_id")
    handler = HANDLERS.get(kind)
    if handler is None:
        # Likes, joins, votes, donut, kinds that do not exist yet: nothing a resident asked.
        return [Skipped(f"event type {kind[:40]}", str(event_id) if event_id is not None else None)]
    if not isinstance(obj, dict):
        raise ValueError(f"{kind} without an object")
    if kind == MENTION:
        return handler(account, 0, obj)
    group_id = group_id_of(account)
    event_group = optional_int_id(update.get("group_id"), "group_id")
    if event_group is not None and abs(event_group) != group_id:
        raise ValueError(f"event of community {event_group}, not of this account's {group_id}")
    return handler(account, group_id, obj)


def _when(value: Any, name: str = "date") -> datetime:
    return from_seconds(value, name) or utcnow()


def wall_ref(owner_id: int, item_id: int) -> str:
    return f"{owner_id}_{item_id}"


def _comment(account: Account, group_id: int, place: Place, c: dict, is_edit: bool = False) -> ChannelEvent:
    owner_id = place.owner(c, group_id)
    comment_id = int_id(c.get("id"), "id")
    object_id = int_id(c.get(place.object_field), place.object_field)
    from_id = int_id(c.get("from_id"), "from_id")
    external_id = place.ref(owner_id, comment_id)
    if from_id == -group_id:
        return Skipped("own comment", external_id)
    if c.get("deleted"):
        return Skipped("deleted comment", external_id)
    thread_ref = place.ref(owner_id, object_id)
    reply_to = optional_int_id(c.get("reply_to_comment"), "reply_to_comment")
    link = place.link.format(owner=owner_id, object=object_id, comment=comment_id)
    parents = c.get("parents_stack")
    top = loose_int_id(parents[0]) if not place.prefix and isinstance(parents, list) and parents else None
    if top is not None:  # only the link needs it: an odd value must not cost the comment
        link += f"&thread={top}"
    return InboundMessage(
        account_id=account.id, external_id=external_id, text=item_text(c), sent_at=_when(c.get("date")),
        author_id=str(from_id), author_name=author_name(from_id), thread_ref=thread_ref,
        post_ref=thread_ref if not place.prefix else None,  # only wall posts are the city's posts
        reply_to_external_id=place.ref(owner_id, reply_to) if reply_to else None, permalink=link,
        is_edit=is_edit, edited_at=utcnow() if is_edit else None)


def _comment_event(place: Place, action: str) -> Callable[[Account, int, dict], list[ChannelEvent]]:
    def handle(account: Account, group_id: int, obj: dict) -> list[ChannelEvent]:
        if action == "delete":
            # VK sends ``deleter_id``; the schema names ``user_id``: neither is needed here.
            owner_id = place.owner(obj, group_id)
            return [CommentDeleted(account.id, place.ref(owner_id, int_id(obj.get("id"), "id")))]
        event = _comment(account, group_id, place, obj, is_edit=action == "edit")
        if action == "restore" and not isinstance(event, Skipped):
            # The restored comment may never have been seen: ingest it (a duplicate if it was).
            return [event, CommentRestored(account.id, event.external_id)]
        return [event]

    return handle


def _post_new(account: Account, group_id: int, post: dict) -> list[ChannelEvent]:
    owner_id = optional_int_id(post.get("owner_id"), "owner_id") or -group_id
    ref = wall_ref(owner_id, int_id(post.get("id"), "id"))
    link = f"https://vk.com/wall{ref}"
    from_id = optional_int_id(post.get("from_id"), "from_id") or owner_id
    if post.get("post_type") == "suggest" or from_id > 0:
        # A resident's post on an open wall, or one suggested for moderation: an appeal, not the city's post.
        return [InboundMessage(account_id=account.id, external_id=f"post{ref}", text=item_text(post),
                               sent_at=_when(post.get("date")), author_id=str(from_id),
                               author_name=author_name(from_id), thread_ref=ref, permalink=link)]
    return [PostSeen(account_id=account.id, external_id=ref, text=item_text(post), posted_at=_when(post.get("date")),
                     link=link, thread_ref=ref)]


def _dialog_message(account: Account, group_id: int, obj: dict, *, is_edit: bool = False) -> list[ChannelEvent]:
    """A direct message: ``message_new`` wraps it as ``{message, client_info}`` since API
    5.103 (the object itself before); ``message_edit`` is the message object."""
    message = obj.get("message") if isinstance(obj.get("message"), dict) else obj
    from_id = int_id(message.get("from_id", message.get("user_id")), "from_id")
    peer_id = optional_int_id(message.get("peer_id"), "peer_id") or from_id
    number = optional_int_id(message.get("conversation_message_id"), "conversation_message_id") \
        or int_id(message.get("id"), "id")
    external_id = f"dm:{peer_id}:{number}"
    if from_id <= 0 or message.get("out") in (1, True, "1"):
        return [Skipped("message of a community", external_id)]
    if message.get("action"):  # someone joined or left a chat, a title changed, a pin …
        return [Skipped("service message", external_id)]
    edited_at = (from_seconds(message.get("update_time"), "update_time") or utcnow()) if is_edit else None
    return [InboundMessage(account_id=account.id, external_id=external_id, text=item_text(message),
                           sent_at=_when(message.get("date")), author_id=str(from_id),
                           author_name=author_name(from_id), thread_ref=f"dm:{peer_id}",
                           permalink=f"https://vk.com/gim{group_id}?sel={peer_id}", is_edit=is_edit,
                           edited_at=edited_at)]


def _message_edit(account: Account, group_id: int, obj: dict) -> list[ChannelEvent]:
    return _dialog_message(account, group_id, obj, is_edit=True)


def _message_reply(account: Account, group_id: int, obj: dict) -> list[ChannelEvent]:
    return [Skipped("message of a community", None)]  # the community's own outgoing message


def _mention(account: Account, _group_id: int, post: dict) -> list[ChannelEvent]:
    owner_id, post_id = int_id(post.get("owner_id"), "owner_id"), int_id(post.get("id"), "id")
    ref = wall_ref(owner_id, post_id)
    author = optional_int_id(post.get("from_id"), "from_id") or owner_id
    return [InboundMessage(account_id=account.id, external_id=f"wall{ref}", text=item_text(post),
                           sent_at=_when(post.get("date")), author_id=str(author), author_name=author_name(author),
                           thread_ref=f"wall{ref}", permalink=f"https://vk.com/wall{ref}", is_mention=True)]


HANDLERS: dict[str, Callable[[Account, int, dict], list[ChannelEvent]]] = {
    "wall_post_new": _post_new,
    "message_new": _dialog_message,
    "message_edit": _message_edit,
    "message_reply": _message_reply,
    MENTION: _mention,
    **{f"{name}_{action}": _comment_event(place, action)
       for name, place in PLACES.items() for action in ("new", "edit", "restore", "delete")},
}

from .vk_history import backfill, collect_all_mentions, collect_mentions  # noqa: E402,F401  (public jobs)
