"""Open311 API keys: one per city system that posts requests, named, revocable.

Only the key's SHA-256 is stored (:class:`~desk.models.intake.Open311Key`); the plain key
is shown once, on the admin page or by ``flask open311 keys create``. A missing, unknown
or revoked key is a 403. Posts are counted per key and minute in Redis
(``OPEN311_POSTS_PER_MINUTE``; 0: no limit); should Redis be away, posting goes on
uncounted rather than failing.
"""
from __future__ import annotations

import logging
import time

from flask import current_app
from redis.exceptions import RedisError

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import User, utcnow
from ..models.intake import Open311Key
from ..refusals import DeskError
from .render import Open311Error

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_KEY = 200
RATE_PREFIX = "desk:open311:posts:"
RATE_WINDOW = 60


class KeyRefusal(DeskError):
    code = "validation_failed"
    status = 422
    field = "name"


def clean_name(name: str | None) -> str:
    return " ".join((name or "").split())


def issue(name: str | None, created_by: User | None = None) -> tuple[Open311Key, str]:
    """A new key named ``name`` and its plain text (shown once). Only flushes."""
    name = clean_name(name)
    if not name:
        raise KeyRefusal(_l("Give the key a name: the system that will use it."))
    if len(name) > MAX_NAME:
        raise KeyRefusal(_l("The name is longer than %(limit)s characters.", limit=MAX_NAME))
    if db.session.scalars(db.select(Open311Key.id).where(Open311Key.name == name)).first() is not None:
        raise KeyRefusal(_l("A key with this name already exists."))
    key, plain = Open311Key.issue(name, created_by)
    db.session.add(key)
    db.session.flush()
    return key, plain


def revoke(key: Open311Key) -> bool:
    """Revoke ``key``; False when it already was. Only flushes."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    db.session.flush()
    return True


def by_name(name: str) -> Open311Key | None:
    return db.session.scalars(db.select(Open311Key).where(Open311Key.name == clean_name(name))).first()


def all_keys() -> list[Open311Key]:
    """Active keys first, then the newest."""
    return list(db.session.scalars(
        db.select(Open311Key).order_by(Open311Key.revoked_at.is_not(None), Open311Key.id.desc())).all())


def authenticate(plain: str | None) -> Open311Key:
    """The active key ``plain`` is, marked as used now; a 403 otherwise. Only flushes."""
    if not plain:
        raise Open311Error(403, "api_key was not provided")
    if len(plain) > MAX_KEY:
        raise Open311Error(403, "api_key is not valid")
    key = db.session.scalars(db.select(Open311Key).where(Open311Key.key_hash == Open311Key.hash(plain))).first()
    if key is None:
        raise Open311Error(403, "api_key is not valid")
    if key.revoked_at is not None:
        raise Open311Error(403, "api_key has been revoked")
    key.last_used_at = utcnow()
    db.session.flush()
    return key


def _clock() -> float:
    return time.time()


def check_rate(key: Open311Key) -> None:
    """Count a post of ``key``; a 429 beyond ``OPEN311_POSTS_PER_MINUTE`` in a minute."""
    limit = int(current_app.config["OPEN311_POSTS_PER_MINUTE"])
    if limit <= 0:
        return
    now = int(_clock())
    window = now // RATE_WINDOW
    name = f"{RATE_PREFIX}{key.id}:{window}"
    try:
        from ..queue import get_redis

        pipe = get_redis().pipeline()
        pipe.incr(name)
        pipe.expire(name, RATE_WINDOW * 2)
        count = int(pipe.execute()[0])
    except RedisError as exc:
        log.warning("Open311 rate limit not counted (Redis: %s)", exc)
        return
    if count > limit:
        retry = RATE_WINDOW - now % RATE_WINDOW
        raise Open311Error(429, f"too many requests with this api_key: at most {limit} a minute; "
                                f"retry in {retry} s", {"Retry-After": str(max(retry, 1))})
