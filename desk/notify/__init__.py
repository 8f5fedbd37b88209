"""In-desk notifications (the bell) and e-mail."""
from __future__ import annotations

from flask import Flask
from flask_login import current_user


def _bell() -> dict:
    from .services import unread_count

    if not getattr(current_user, "is_authenticated", False):
        return {"unread_notifications": 0}
    return {"unread_notifications": unread_count(current_user)}


def init_notify(app: Flask) -> None:
    app.context_processor(_bell)
