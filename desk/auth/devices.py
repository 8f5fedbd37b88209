"""The device cookie (OWASP): a signed note "user N logged in successfully from this
browser", issued after each successful login. It proves nothing by itself (the password is
still checked); it only lets its browser pass the locks that wrong passwords from
elsewhere set on the account (see :mod:`desk.auth.throttle`).

One cookie holds a few users (a shared office computer): user id -> [nonce, issued at].
It is sent only to /login.
"""
from __future__ import annotations

import secrets
import time

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE_NAME = "desk_device"
COOKIE_PATH = "/login"
MAX_USERS = 5
_SALT = "desk.device-cookie"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _lifetime_seconds() -> int:
    return int(current_app.config["LOGIN_DEVICE_COOKIE_DAYS"]) * 86400


def _entries() -> dict[str, list]:
    """The cookie's live entries; a forged, stale or malformed cookie counts as none."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw or len(raw) > 4096:
        return {}
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    oldest = time.time() - _lifetime_seconds()
    return {uid: entry for uid, entry in data.items()
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
            and isinstance(entry[1], int) and entry[1] > oldest}


def trusted_nonce(user_id: int) -> str | None:
    """The nonce of this browser's device cookie for ``user_id``, if it has one."""
    entry = _entries().get(str(user_id))
    return entry[0] if entry else None


def remember_device(response, user_id: int) -> None:
    """Give this browser a fresh device cookie entry for ``user_id``."""
    entries = _entries()
    entries[str(user_id)] = [secrets.token_urlsafe(16), int(time.time())]
    newest = dict(sorted(entries.items(), key=lambda item: item[1][1])[-MAX_USERS:])
    response.set_cookie(
        COOKIE_NAME, _serializer().dumps(newest), max_age=_lifetime_seconds(), path=COOKIE_PATH,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), httponly=True, samesite="Lax")
