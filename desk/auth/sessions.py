"""Server-side sessions: one row per signed-in browser (``UserSession``).

Flask-Login keeps ``User.get_id()`` in the session cookie and in the remember-me
cookie; here that is a random per-login token, and the user loader accepts it only while
its row exists and has not expired. So logging out, changing a password, an
administrator's "end sessions" and deactivation take effect at once, even for a copied
cookie, and every login gets a new token.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app, g, request
from sqlalchemy import CursorResult
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import User, UserSession, utcnow

log = logging.getLogger(__name__)

# Writing last_seen_at on every request would turn each page view into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
TOKEN_MAX_LENGTH = 100  # ours are 43 characters; anything longer is not ours


def client_address() -> str:
    """The client's address. The desk installs no ProxyFix, so this is the peer address;
    a deployment that adds one (with its trusted hop count) gets the forwarded one here."""
    return (request.remote_addr or "")[:64]


def start_session(user: User, *, remember: bool) -> str:
    """Create the session row for a login that just succeeded; returns its token (which
    ``user.get_id()`` now returns). Flushes; the caller commits."""
    now = utcnow()
    config = current_app.config
    lifetime = config["REMEMBER_COOKIE_DURATION"] if remember else config["SESSION_LIFETIME"]
    if isinstance(lifetime, (int, float)):
        lifetime = timedelta(seconds=lifetime)
    token = secrets.token_urlsafe(32)
    # Expired rows are of no use to anyone; the user's own login is a cheap moment to drop them.
    db.session.execute(db.delete(UserSession).where(UserSession.user_id == user.id,
                                                    UserSession.expires_at <= now))
    row = UserSession(user_id=user.id, token_hash=UserSession.hash(token), created_at=now,
                      last_seen_at=now, expires_at=now + lifetime, remember=remember,
                      user_agent=(request.headers.get("User-Agent") or "")[:300],
                      ip_address=client_address())
    db.session.add(row)
    db.session.flush()
    user.session_token, user.session_id = token, row.id
    return token


def load_session_user(token: str) -> User | None:
    """The active user of a live session, with the bell's unread count, in one query."""
    from ..notify.services import preload_unread, unread_count_column
    from ..replies.services import PRELOADED_PENDING, pending_approvals_column

    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    now = utcnow()
    row = db.session.execute(
        db.select(User, unread_count_column(User.id), pending_approvals_column(), UserSession.id,
                  UserSession.last_seen_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == UserSession.hash(token), UserSession.expires_at > now,
               User.is_active_user.is_(True))
    ).first()
    if row is None:
        return None
    user, unread, pending, session_id, last_seen = row
    user.session_token, user.session_id = token, session_id
    preload_unread(user.id, unread or 0)
    setattr(g, PRELOADED_PENDING, pending or 0)
    if now - last_seen >= LAST_SEEN_RESOLUTION:
        _touch(session_id, now)
    return user


def _touch(session_id: int, now: datetime) -> None:
    """Record activity on a connection of its own: the request's transaction stays
    untouched (and its loaded objects unexpired); losing one mark is harmless."""
    try:
        with db.engine.begin() as conn:
            conn.execute(db.update(UserSession).where(UserSession.id == session_id)
                         .values(last_seen_at=now))
    except SQLAlchemyError:
        log.warning("could not record activity of session %s", session_id, exc_info=True)


def end_session(session_id: int | None) -> None:
    """End one session (logout). Flushes; the caller commits."""
    if session_id is not None:
        db.session.execute(db.delete(UserSession).where(UserSession.id == session_id))


def end_user_session(user: User, session_id: int) -> bool:
    """End one of ``user``'s own sessions; False when it is not theirs (or gone)."""
    result = db.session.execute(db.delete(UserSession).where(
        UserSession.id == session_id, UserSession.user_id == user.id))
    return cast(CursorResult[Any], result).rowcount > 0


def end_all_sessions(user: User, *, keep: int | None = None) -> int:
    """End every session of ``user`` (except ``keep``), remember-me cookies included.
    Returns how many ended. Flushes; the caller commits."""
    query = db.delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return cast(CursorResult[Any], db.session.execute(query)).rowcount


def active_sessions(user: User) -> list[UserSession]:
    """The user's live sessions, the most recently active first."""
    return list(db.session.scalars(
        db.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.expires_at > utcnow())
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())))


# The first match names the browser: Edge, Opera and Yandex also say "Chrome", Chrome says "Safari".
_BROWSERS = (("YaBrowser/", "Yandex Browser"), ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("Linux", "Linux"))


def describe_browser(user_agent: str) -> str:
    """"Firefox · Windows" from a User-Agent header, for people to recognise their devices."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    return " · ".join(part for part in (browser, system) if part) or (user_agent[:60] or "—")


def session_rows(user: User) -> list[tuple[UserSession, str]]:
    """The user's live sessions with a readable name of each browser."""
    return [(row, describe_browser(row.user_agent)) for row in active_sessions(user)]
