"""Telling an answer's author what became of it (sent back, failed to post)."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_babel import force_locale

from ..models.replies import Reply
from ..notify.services import notify


def tell_author(reply: Reply, kind: str, level: int, text: Callable[[], str]) -> None:
    """A notification on the bell of the answer's author, in their
    language; once per (answer or outbox row, kind): ``level`` is that row's id."""
    author = reply.author
    if author is None or not author.is_active_user:
        return
    with force_locale(author.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        notify(author, reply.ticket, kind, level, text())
