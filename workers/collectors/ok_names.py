"""Names of OK authors.

OK's comments arrive without ``author_name`` in practice and a Bot API ``sender`` may
lack ``name``, so before a batch is normalised :func:`resolve` looks up its unnamed
authors with one signed ``users.getInfo`` per 100 ids (``uids``,
``fields=first_name,last_name,name``) and keeps the names in Redis for a week, as the
VK collector does with ``users.get``. It never raises: a name it cannot get now stays
empty and the comment is stored all the same.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app

from desk.channels.ok import OkClient
from desk.channels.ok_events import bot_user
from desk.channels.ok_events import given_name as _given
from desk.channels.payload import optional_object, text_id
from desk.queue import get_redis

log = logging.getLogger(__name__)

NAME_KEY = "ok:name:{}"
USERS_PER_CALL = 100
NAME_TTL = 7 * 24 * 3600


def config() -> Mapping[str, Any]:
    return current_app.config


def _unnamed_author(update: Any) -> str | None:
    if not isinstance(update, dict):
        return None
    if update.get("kind") == "comment":
        comment = optional_object(update.get("comment"))
        return None if _given(comment.get("author_name")) else text_id(comment.get("author_id"))
    if update.get("kind") is None and "message" in update:
        sender = optional_object(update.get("sender"))
        return None if _given(sender.get("name")) else bot_user(sender)
    return None


def _cached(user_ids: list[str]) -> list[str | None]:
    if not user_ids:
        return []
    values = get_redis().mget([NAME_KEY.format(i) for i in user_ids])
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def name_of(user_id: str | None, given: Any) -> str:
    """The name OK sent with the message, else the one resolved for the batch, else ""."""
    name = _given(given)
    if name or not user_id:
        return name
    return _cached([user_id])[0] or ""


def _full_name(user: Mapping[str, Any]) -> str:
    name = _given(user.get("name"))
    return name or " ".join(filter(None, (_given(user.get("first_name")), _given(user.get("last_name")))))


def resolve(account: Any, updates: list, client_factory: Callable[[], OkClient]) -> None:
    """Look up and cache the names of the batch's unnamed authors (see module doc)."""
    try:
        ids = sorted({i for i in map(_unnamed_author, updates) if i and i.isdigit()})
        missing = [i for i, name in zip(ids, _cached(ids), strict=False) if name is None]
        if not missing:
            return
        names: dict[str, str] = {}
        with client_factory() as client:
            for start in range(0, len(missing), USERS_PER_CALL):
                for user in client.users_info(missing[start:start + USERS_PER_CALL]):
                    uid, name = text_id(user.get("uid")), _full_name(user)
                    if uid and name:
                        names[uid] = name
        if names:
            ttl = int(config().get("OK_NAME_TTL", NAME_TTL))
            with get_redis().pipeline() as pipe:
                for uid, name in names.items():
                    pipe.set(NAME_KEY.format(uid), name, ex=ttl)
                pipe.execute()
    except Exception as exc:  # noqa: BLE001 — names are a nicety; the comments must still land
        log.warning("OK names for account %s not resolved: %s", getattr(account, "id", None), exc)
