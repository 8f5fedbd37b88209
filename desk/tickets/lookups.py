"""Small admin-edited lists every card shows, cached in Redis for a minute.

Active departments and categories (select lists) and active canned replies change only
through admin edits, yet the card and the lists read them on every request. They are
kept in Redis for ``CACHE_SECONDS``; any ORM write to those tables (admin pages, CLI,
imports, tests' factories) forgets the entries at flush and again after the commit, so
an edit shows on the next page. When Redis is down they are read directly.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar, cast

from flask import has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from ..models import Category, Department
from ..models.replies import CannedReply
from ..queue import get_redis

CACHE_SECONDS = 60
PREFIX = "desk:lookups:"
KEYS = ("choices", "canned")
WATCHED = (Department, Category, CannedReply)
log = logging.getLogger(__name__)
T = TypeVar("T")


def cached(key: str, compute: Callable[[], T]) -> T:
    """``compute()`` (JSON-serialisable) through Redis, ``CACHE_SECONDS`` long."""
    try:
        hit = get_redis().get(PREFIX + key)
        if hit is not None:
            return cast(T, json.loads(hit))  # what compute() returned, as JSON gives it back
    except RedisError:
        log.warning("lookup cache unavailable; reading directly", exc_info=True)
        return compute()
    value = compute()
    try:
        get_redis().set(PREFIX + key, json.dumps(value), ex=CACHE_SECONDS)
    except RedisError:
        log.warning("lookup cache unavailable", exc_info=True)
    return value


def forget() -> None:
    if not has_app_context():
        return
    try:
        get_redis().delete(*(PREFIX + k for k in KEYS))
    except RedisError:
        log.warning("lookup cache unavailable; entries expire by themselves", exc_info=True)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: UOWTransaction) -> None:
    if any(isinstance(obj, WATCHED) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["lookups_stale"] = True
        forget()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Again after the commit: a request may have cached the old rows meanwhile.
    if session.info.pop("lookups_stale", False):
        forget()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: SessionTransaction) -> None:
    if session.info.pop("lookups_stale", False):
        forget()
