"""VK collector: Callback API deliveries, Bots Long Poll, author names.

Account credentials: ``group_token`` (long poll, users.get), ``service_token`` (wall.get,
wall.getComments, newsfeed.search: VK refuses a community token there), ``callback_secret``
and ``confirmation_code`` (the webhook, see :mod:`desk.hooks.vk`). Settings: ``group_id``,
``mention_keywords``.

The payloads become events in :mod:`desk.channels.vk_events` (the spec's normaliser:
refs, places, what is skipped); this module names the authors it resolved for the batch
(:func:`prepare`, :func:`complete`). Backfill and mentions live in
:mod:`workers.collectors.vk_history` and are re-exported here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from flask import current_app

from desk.channels.errors import ChannelError, MalformedResponse, PermanentError, RetryableError
from desk.channels.events import ChannelEvent, InboundMessage
from desk.channels.http import with_retries
from desk.channels.payload import loose_int_id
from desk.channels.vk import VKClient
from desk.channels.vk_events import fallback_name, group_id_of
from desk.models import Account
from desk.networks import credential
from desk.queue import get_redis

from .base import PollBatch

log = logging.getLogger(__name__)
T = TypeVar("T")

NAME_KEY = "vk:name:{}"
USERS_PER_CALL = 1000
GROUPS_PER_CALL = 500
LONG_POLL_ROUNDS = 4

_clients: dict[tuple[str, str], VKClient] = {}


# --- clients and retries --------------------------------------------------------------------


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
    return cached or fallback_name(author_id)


# --- normalisation: desk.channels.vk_events, named by the spec; names filled in here ---------


def complete(account: Account, update: dict, events: list[ChannelEvent]) -> list[ChannelEvent]:
    """Each message's author by the name :func:`prepare` cached (the normaliser, which
    reads no Redis, calls them ``id<N>``)."""
    return [_named(e) for e in events]


def _named(event: ChannelEvent) -> ChannelEvent:
    if not isinstance(event, InboundMessage):
        return event
    assert event.author_id is not None  # the VK normaliser always sets it (str(from_id))
    return replace(event, author_name=author_name(int(event.author_id)))


from .vk_history import backfill, collect_all_mentions, collect_mentions  # noqa: E402,F401  (public jobs)
