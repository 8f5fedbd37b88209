"""Flask-Login wiring and the password check with its throttle."""
from __future__ import annotations

import secrets

from flask import Flask, current_app, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_loaded_from_cookie
from werkzeug.security import check_password_hash

from ..extensions import db
from ..models import User, utcnow
from ..sessionless import is_sessionless
from . import devices, throttle
from .sessions import load_session_user


def init_login(app: Flask, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    # The session cookie and the remember-me cookie carry a server-side session's token.
    login_manager.user_loader(load_session_user)

    @user_loaded_from_cookie.connect_via(app)
    def _bind_restored_session(_app, user) -> None:
        # Flask-Login restores the session from the remember-me cookie without the client
        # identifier that "strong" protection checks, so the next request would log the
        # user out again and delete the cookie: bind the restored session to this client.
        session["_id"] = login_manager._session_identifier_generator()

    @app.before_request
    def _load_user_first():
        # Load the user before any view runs: the loader may record activity on its own
        # connection, which must not wait for a write lock this request would hold later.
        if request.endpoint != "static" and not is_sessionless():
            current_user._get_current_object()


class LoginRefused(Exception):
    """Wrong e-mail or password, an inactive user, or a locked e-mail: one answer for all,
    so that none of them can be told apart."""


class LoginThrottled(Exception):
    """Too many failures from this client address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash made like a real user's (the configured method), checked for unknown e-mails
    so that they cost the same time as known ones."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") or "default"
    if method not in _dummy_hashes:
        probe = User()
        probe.set_password(secrets.token_urlsafe(16))
        _dummy_hashes[method] = probe.password_hash
    return _dummy_hashes[method]


def authenticate(email: str, password: str, client: str) -> User:
    """Check credentials from ``client`` (an address). Raises :class:`LoginThrottled`
    (the address has failed too often) or :class:`LoginRefused`.

    Known and unknown e-mails take the same path: one user query, one password hash with
    the configured method, the same Redis counters and the same UPDATE (matching no row for
    an unknown e-mail). Failures are committed here; on success the caller commits.
    """
    email = (email or "").strip().lower()
    user = db.session.scalars(db.select(User).where(db.func.lower(User.email) == email)).first()
    nonce = devices.trusted_nonce(user.id) if user is not None else None
    if nonce is not None and throttle.device_locked(nonce):
        nonce = None
    if nonce is None and (wait := throttle.client_retry_after(client)):
        raise LoginThrottled(wait)
    locked = nonce is None and throttle.account_locked(email)
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password or "")
    if matches and user is not None and user.is_active_user and not locked:
        if nonce is None:
            throttle.forget_failures(email)
        user.last_login_at = utcnow()
        return user
    if locked:
        # Attempts against a lock are not counted for the e-mail: the lock stays bounded.
        throttle.record_client_failure(client)
    elif nonce is not None:
        throttle.record_device_failure(nonce)
    else:
        count_wrong_password(email, client)
    db.session.commit()
    raise LoginRefused()


def count_wrong_password(email: str, client: str) -> None:
    """Count a wrong password typed for ``email`` from a browser without its device cookie;
    when that starts a lock, show it to administrators (``users.locked_until``; the
    UPDATE matches no row for an unknown e-mail). Flushes; the caller commits."""
    email = (email or "").strip().lower()
    if (until := throttle.record_untrusted_failure(email, client)) is not None:
        db.session.execute(db.update(User).where(db.func.lower(User.email) == email)
                           .values(locked_until=until).execution_options(synchronize_session=False))
