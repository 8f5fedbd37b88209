"""``/unsubscribe/<token>``: one click stops a resident's letters (no login, no session).

A GET (the link in the letter) unsubscribes at once and offers to resubscribe; a POST to
the same address is RFC 8058's one-click unsubscribe that mail clients send from the
``List-Unsubscribe-Post`` header. The token in the address is the only credential, so
the blueprint needs no CSRF token (nothing can be done here without knowing it). An
unknown token gets the status page's 404.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response as BaseResponse

from ..extensions import db
from ..models import utcnow
from ..models.intake import ResidentContact, SubmissionPhoto
from ..sessionless import sessionless
from ..status_page.views import not_found
from . import mail  # noqa: F401 — connects the status-change listener

bp = Blueprint("intake", __name__)

#: what a token can look like (secrets.token_urlsafe): anything else is a miss without a query
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


#: the web form's staff-only photo view (desk/report_form)
PHOTO_ENDPOINT = "report_form.photo"


@bp.app_template_global("submission_photo_url")
def submission_photo_url(photo: SubmissionPhoto) -> str | None:
    """Where staff see a photo sent with the web form (None without the form's blueprint)."""
    if PHOTO_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(PHOTO_ENDPOINT, photo_id=photo.id)


def _contact(token: str) -> ResidentContact | None:
    if not TOKEN_SHAPE.fullmatch(token or ""):
        return None
    return db.session.scalars(db.select(ResidentContact).where(ResidentContact.token == token)).first()


def _page(contact: ResidentContact, status: int = 200) -> Response:
    lang = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    html = current_app.jinja_env.get_template("intake/unsubscribed.html").render(lang=lang, contact=contact)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _subscribe(token: str, subscribed: bool) -> BaseResponse:
    """Set the letters of the token's contact on or off and say so; an unknown token: 404."""
    contact = _contact(token)
    if contact is None:
        return not_found()
    if contact.subscribed != subscribed:
        contact.subscribed = subscribed
        contact.unsubscribed_at = None if subscribed else utcnow()
        db.session.commit()
    return _page(contact)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@sessionless
def unsubscribe(token: str) -> BaseResponse:
    return _subscribe(token, False)


@bp.post("/unsubscribe/<token>/resubscribe")
@sessionless
def resubscribe(token: str) -> BaseResponse:
    return _subscribe(token, True)
