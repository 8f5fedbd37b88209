"""What keeps robots and floods out of the web form, without a third-party captcha.

- **The form token** (hidden field ``form_token``): a random nonce and the time the form
  was opened, signed with ``SECRET_KEY`` (itsdangerous). A form sent sooner than
  ``REPORT_MIN_FILL_SECONDS`` after it was opened is refused (the text kept, the same
  token, so sending again after reading the message works); a token older than
  :data:`TOKEN_MAX_AGE` or not signed by the desk gets a fresh one. A token files one
  appeal: a second send of the same form (a double click, a robot replaying it) shows the
  first send's confirmation instead of opening a second ticket.
- **The honeypot** (field ``website``): an input people never see (moved off-screen by
  CSS, skipped by the keyboard and by screen readers, labelled "leave empty"). When it is
  filled the form answers with the same neutral refusal as any mistake ("check the form
  and send it again"), no ticket is made, and the attempt counts against the address's
  limits. A neutral refusal rather than a fake success: a person whose browser filled the
  field by mistake sends again and gets through (the field is always shown empty).
- **Rate limits per client address** (IPv6: per /64, as the login throttle counts): at
  most ``REPORT_RATE_LIMIT`` appeals within ``REPORT_RATE_WINDOW_SECONDS`` and
  ``REPORT_DAILY_LIMIT`` within a day, counted in Redis (a window starts with its first
  appeal); beyond them the form answers 429 with ``Retry-After``, the text kept.
- **Cross-site requests**: ``/report`` checks Flask-WTF's CSRF token (the session).
  ``/report/embed`` lives in an iframe on the city's site, where browsers send the desk no
  cookies (they are ``SameSite=Lax``), so it has no session: it requires the form token
  and a request from the desk's own page instead (``Sec-Fetch-Site: same-origin``, or an
  ``Origin`` of the desk where a browser sends no fetch metadata).
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..auth.throttle import client_bucket
from ..queue import get_redis

PREFIX = "desk:report:"
SALT = "desk.report-form"
#: how long an opened form may wait before it is sent (then it gets a fresh token)
TOKEN_MAX_AGE = 24 * 3600
DAY = 24 * 3600
#: how long a second send of a form waits for the first one's ticket
CLAIM_WAIT_SECONDS = 10.0
PENDING = b"pending"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def new_token() -> str:
    """A signed token for a freshly opened form."""
    return _serializer().dumps({"n": secrets.token_urlsafe(16)})


@dataclass(frozen=True)
class FormToken:
    nonce: str
    age: float  # seconds since the form was opened


def read_token(token: str) -> FormToken | None:
    """The token's nonce and age; None when it is missing, forged or too old."""
    if not token:
        return None
    try:
        payload, signed_at = _serializer().loads(token, max_age=TOKEN_MAX_AGE, return_timestamp=True)
    except (BadSignature, SignatureExpired):
        return None
    nonce = payload.get("n") if isinstance(payload, dict) else None
    if not isinstance(nonce, str) or not nonce:
        return None
    return FormToken(nonce, max(time.time() - signed_at.timestamp(), 0.0))


def filled_too_fast(token: FormToken) -> bool:
    return token.age < float(current_app.config["REPORT_MIN_FILL_SECONDS"])


# --- the same-origin check of the embedded form ------------------------------------------


def _origin_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def same_origin_request() -> bool:
    """Whether this POST comes from a page of the desk itself (fetch metadata, else Origin).
    A browser that sends neither passes (the form token is still required)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    scheme, host = _origin_of(origin)
    if scheme not in ("http", "https"):
        return False
    return host == request.host.lower() or (scheme, host) == _origin_of(current_app.config["DESK_PUBLIC_URL"])


# --- rate limits ---------------------------------------------------------------------------


def _client() -> str:
    return client_bucket(request.remote_addr or "")


def _windows() -> list[tuple[str, int, int]]:
    """(key, limit, seconds) of each window counted for this client."""
    config = current_app.config
    bucket = _client()
    return [(f"{PREFIX}short:{bucket}", int(config["REPORT_RATE_LIMIT"]), int(config["REPORT_RATE_WINDOW_SECONDS"])),
            (f"{PREFIX}day:{bucket}", int(config["REPORT_DAILY_LIMIT"]), DAY)]


def retry_after() -> int:
    """Seconds this client must wait before it may file again; 0 when it may file now."""
    r = get_redis()
    wait = 0
    for key, limit, _seconds in _windows():
        count = r.get(key)
        if count is not None and int(count) >= limit:
            wait = max(wait, int(r.ttl(key)), 1)
    return wait


def count_filing() -> int:
    """Count one appeal (or one robot's attempt) of this client; returns the wait when it
    went over a limit (0: within the limits). Atomic: parallel sends cannot all pass."""
    windows = _windows()
    pipe = get_redis().pipeline()
    for key, _limit, seconds in windows:
        pipe.set(key, 0, ex=seconds, nx=True)  # the window starts with the first appeal
        pipe.incr(key)
    counts = pipe.execute()[1::2]
    if any(count > limit for count, (_key, limit, _seconds) in zip(counts, windows, strict=True)):
        return retry_after() or 1
    return 0


def uncount_filing() -> None:
    """Give back a counted appeal that was not filed after all (the database refused)."""
    pipe = get_redis().pipeline()
    for key, _limit, _seconds in _windows():
        pipe.decr(key)
    pipe.execute()


# --- one appeal per form ---------------------------------------------------------------------


def _claim_key(nonce: str) -> str:
    return f"{PREFIX}form:{nonce}"


def claim(nonce: str) -> bool:
    """Take the form's one filing; False when another send of the same form took it."""
    return bool(get_redis().set(_claim_key(nonce), PENDING, nx=True, ex=TOKEN_MAX_AGE + 3600))


def release(nonce: str) -> None:
    """The filing failed: the same form may be sent again."""
    get_redis().delete(_claim_key(nonce))


def record(nonce: str, ticket_id: int) -> None:
    get_redis().set(_claim_key(nonce), str(ticket_id), ex=TOKEN_MAX_AGE + 3600)


def filed_ticket(nonce: str) -> int | None:
    """The ticket an earlier send of this form opened (waiting a little while it is being
    filed); None when there is none."""
    r = get_redis()
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    while True:
        value = r.get(_claim_key(nonce))
        if value is None:
            return None
        if value != PENDING:
            try:
                return int(value)
            except ValueError:
                return None
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)
