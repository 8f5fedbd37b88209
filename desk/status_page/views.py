"""``/status/<id>-<token>``: the public status page of an incident (no login).

Cacheable: the page reads no session (``sessionless``: no ``Vary: Cookie``, no user
loaded; the language is ``?lang=en`` in the URL), carries ``Cache-Control: public`` with a
short max-age, an ``ETag`` over the page and ``Last-Modified`` from the incident, and
answers 304 when the browser's copy is current. Every link that shows nothing (missing
ticket, wrong or rotated token, spam) gets the very same 404: same body, same headers.
"""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask_babel import get_locale
from werkzeug.wrappers import Response as BaseResponse

from ..models import TicketStatus
from ..sessionless import sessionless
from . import services, tokens

bp = Blueprint("status_page", __name__)

MAX_AGE = 60  # seconds a browser or a proxy may show its copy without asking


@bp.app_template_global("public_status_link")
def public_status_link(ticket: Any) -> str | None:
    """The link staff can hand to the resident (None where the page would be a 404)."""
    return tokens.status_link(ticket) if TicketStatus(ticket.status).public else None


def _render(template: str, **context: Any) -> str:
    # The template environment directly, without the app's context processors: they read
    # the signed-in user (the bell), which would make the page vary by session.
    lang = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return current_app.jinja_env.get_template(template).render(lang=lang, **context)


def _cacheable(response: Response) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers["Content-Language"] = str(get_locale() or "ru")
    return response


def not_found() -> Response:
    """The one answer for every link that shows nothing."""
    return _cacheable(Response(_render("status_page/not_found.html"), status=404, mimetype="text/html"))


@bp.get("/status/<int:ticket_id>-<token>")
@sessionless
def status(ticket_id: int, token: str) -> BaseResponse:
    page = services.load_status_page(ticket_id, token)
    if page is None:
        return not_found()
    body = _render("status_page/page.html", page=page).encode()
    response = _cacheable(Response(body, mimetype="text/html"))
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    if page.last_modified is not None:
        response.last_modified = page.last_modified
    return response.make_conditional(request)
