"""Bearer-token authentication and role checks for the API.

The API never uses the session cookie: every request names its user with
``Authorization: Bearer <token>``. Only the token's SHA-256 is stored.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import g, request

from ..extensions import db
from ..models import ApiToken, Role, User, utcnow
from .errors import ApiError

# Writing last_used_at on every call would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("send Authorization: Bearer <token>")
    return token.strip()


def authenticate_token(plain: str) -> User:
    """The active user owning a valid (unrevoked, unexpired) token, or a 401 ApiError."""
    token = db.session.scalars(
        db.select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(plain))
    ).first()
    if token is None or token.revoked:
        raise _unauthorized("the token is unknown or revoked")
    now = utcnow()
    if token.is_expired(now):
        raise _unauthorized(f"the token expired at {token.expires_at.isoformat(timespec='seconds')}; "
                            "ask an administrator for a new one")
    user = token.user
    if user is None or not user.is_active_user:
        raise _unauthorized("the token's user is deactivated")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        # Bookkeeping of its own: kept even if the request later fails.
        db.session.commit()
    return user


def api_user() -> User:
    """The user of the current API request (set by :func:`token_required`)."""
    return g.api_user


def token_required(*roles: Role):
    """Authenticate the bearer token; with ``roles``, other roles get 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g.api_user = authenticate_token(_bearer_token())
            if roles:
                require_role(g.api_user, *roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require_role(user: User, *roles: Role) -> None:
    """403 unless ``user`` has one of ``roles`` (for checks after the ticket is found)."""
    if not user.has_role(*roles):
        raise ApiError(403, "forbidden", "your role may not do this")
