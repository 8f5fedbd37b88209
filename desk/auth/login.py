"""Flask-Login wiring and the login throttle."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import User, utcnow


def init_login(app: Flask, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from ..notify.services import preload_unread, unread_count_column

        if not user_id.isdigit():
            return None
        # The bell's unread count comes with the user: one round trip instead of two on
        # every page.
        row = db.session.execute(
            db.select(User, unread_count_column(User.id)).where(User.id == int(user_id))).first()
        if row is None or not row[0].is_active_user:
            return None
        preload_unread(row[0].id, row[1] or 0)
        return row[0]


class LoginRefused(Exception):
    """Wrong e-mail or password, an inactive user, or a locked account."""


def authenticate(email: str, password: str) -> User:
    """Check credentials; after LOGIN_MAX_FAILURES failures the account locks for
    LOGIN_LOCK_SECONDS, during which even the right password is refused. Commits the
    counters itself so a failed attempt is never rolled back."""
    email = (email or "").strip().lower()
    user = db.session.scalars(db.select(User).where(db.func.lower(User.email) == email)).first()
    now = utcnow()
    if user is None:
        # Same work as a real check, so timing does not reveal which e-mails exist.
        User(password_hash="scrypt:32768:8:1$x$" + "0" * 128).check_password(password or "")
        raise LoginRefused()
    if user.locked_until and user.locked_until > now:
        raise LoginRefused()
    if not user.is_active_user or not user.check_password(password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(seconds=current_app.config["LOGIN_LOCK_SECONDS"])
            user.failed_logins = 0
        db.session.commit()
        raise LoginRefused()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.commit()
    return user
