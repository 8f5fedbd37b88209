"""The password rule and what a new password does to the user's sessions and locks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import User
from . import throttle
from .sessions import end_all_sessions

MIN_PASSWORD = 8


def password_problem(password: str | None):
    """Why ``password`` may not be used (a translated message), or None."""
    if len(password or "") < MIN_PASSWORD:
        return _l("The password must have at least %(n)s characters.", n=MIN_PASSWORD)
    return None


def change_password(user: User, password: str, *, keep_session: int | None = None) -> int:
    """Set a new password: every session and remember-me cookie of the user ends (except
    ``keep_session``, the browser that changed it) and the login lock is lifted.
    Returns how many sessions ended. Flushes; the caller commits."""
    user.set_password(password)
    user.locked_until = None
    ended = end_all_sessions(user, keep=keep_session)
    throttle.forget_failures(user.email, unlock=True)
    db.session.flush()
    return ended
