"""Pages that never read the session: public, cacheable ones (the status page).

A view marked :func:`sessionless` is served without loading the signed-in user and with
its language taken from the URL (``?lang=en``), never from the session cookie: reading the
session makes Flask add ``Vary: Cookie``, and a page that varies by cookie cannot be
shared by caches. Such a page renders only what it is given (no context processors).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

_View = TypeVar("_View", bound=Callable[..., object])
ATTRIBUTE = "desk_sessionless"


def sessionless(view: _View) -> _View:
    setattr(view, ATTRIBUTE, True)
    return view


def is_sessionless() -> bool:
    """Whether the current request goes to a :func:`sessionless` view."""
    if not has_request_context() or request.endpoint is None:
        return False
    return bool(getattr(current_app.view_functions.get(request.endpoint), ATTRIBUTE, False))


class SessionlessAwareInterface(SecureCookieSessionInterface):
    """Flask's cookie sessions, except that a sessionless page's response never gets
    ``Vary: Cookie`` nor a cookie (extensions peek at the session after every view, which
    Flask would count as the page depending on it)."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if is_sessionless():
            return
        super().save_session(app, session, response)


def init_sessionless(app: Flask) -> None:
    app.session_interface = SessionlessAwareInterface()
