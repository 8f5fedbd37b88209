"""``/report``: the public web form "Сообщить о проблеме", its embeddable twin, the
confirmation, the staff's photo route and the administrators' snippet page.

- ``/report`` (GET, POST): the form for residents, Russian by default (``?lang=en``
  switches, remembered in the session the CSRF token needs anyway).
- ``/report/embed`` (GET, POST): the same form with no chrome, for an iframe on the city's
  site (``REPORT_FRAME_ANCESTORS``). Sessionless: a framed page gets no cookies, so the
  language is in the URL and the same-origin check stands in for the CSRF token
  (:mod:`.guard`).
- ``/report/done/<id>-<token>`` and ``/report/embed/done/<id>-<token>``: the confirmation
  (number and status link). The token is the status page's: only the resident who filed
  (who was redirected there) knows it; anything else is the status page's one 404.
- ``/report/photos/<photo_id>`` (endpoint ``report_form.photo``): a photo, only to a
  signed-in staff user who may see its ticket; 404 otherwise.
- ``/admin/report-form``: the iframe snippet, preview links and recent counts (admins).

A post is answered POST/redirect/GET on success; a refusal shows the form again with what
was typed (photos must be attached again), in the resident's language: 400 (the form's
token or CSRF token), 422 (a field, the fill time, the honeypot), 429 (the rate limits,
with ``Retry-After``), 413 (a body above ``REPORT_MAX_REQUEST_BYTES``).
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, send_file, session, url_for
from flask_babel import get_locale, refresh
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from ..auth.scope import get_ticket_or_404, login_required, roles_required
from ..extensions import csrf, db
from ..i18n import lazy_gettext as _l
from ..intake.services import MAX_DESCRIPTION
from ..links import public_url
from ..models import Role, Ticket, TicketStatus
from ..models.intake import ResidentContact, SubmissionPhoto
from ..refusals import Message
from ..security import CSP
from ..sessionless import is_sessionless, sessionless
from ..status_page.tokens import status_link, status_token, token_matches
from ..status_page.views import not_found
from . import guard, services
from .errors import ReportRefusal
from .form import HONEYPOT, MAX_ADDRESS, MAX_EMAIL, MAX_NAME, OTHER, TOKEN, ReportInput, category_groups
from .photos import Photo, read_photo, stored_path

bp = Blueprint("report_form", __name__)

FORM_ENDPOINTS = {"report_form.report", "report_form.embed"}
EMBED_ENDPOINTS = {"report_form.embed", "report_form.embed_done"}
PUBLIC_ENDPOINTS = FORM_ENDPOINTS | {"report_form.done", "report_form.embed_done"}
MAX_TOKEN = 64
#: what REPORT_FRAME_ANCESTORS may hold: origins (``https://city.example``, ``https://*.city.example``)
ANCESTOR = re.compile(r"^(https?://(\*\.)?[a-z0-9.-]+(:\d{1,5})?|https:|\*)$", re.IGNORECASE)

EXPIRED = _l("The form has expired. Check what you typed and send it again.")
NOT_FROM_THE_FORM = _l("The form could not be sent from this page. Open the form again and send it from there.")
CHECK_FORM = _l("The appeal was not sent: check the form and send it again.")
TOO_FAST = _l("The form was sent too quickly after it was opened. Check what you typed and send it again.")
ALREADY_SENT = _l("This form has already been sent. To report another problem, send the form again.")
PHOTOS_AGAIN = _l("Photos are not kept when the form is shown again: attach them again.")


# --- the language, the frame and the caching of the public pages ------------------------------

@bp.before_request
def _language_from_url() -> None:
    """``?lang=en`` on the session form: remembered like the site's own switch."""
    asked = request.args.get("lang")
    if request.endpoint == "report_form.report" and not is_sessionless() \
            and asked in current_app.config["LANGUAGES"]:
        if session.get("lang") != asked:
            session["lang"] = asked
        refresh()


def frame_ancestors() -> str:
    """The CSP ``frame-ancestors`` of the embedded pages: the desk and the configured sites."""
    configured = [o for o in re.split(r"[\s,]+", current_app.config["REPORT_FRAME_ANCESTORS"] or "") if ANCESTOR.match(o)]
    return " ".join(["'self'", *dict.fromkeys(configured)])


@bp.after_request
def _public_headers(response: Response) -> Response:
    if request.endpoint in EMBED_ENDPOINTS:
        ancestors = frame_ancestors()
        response.headers["Content-Security-Policy"] = CSP.replace("frame-ancestors 'self'",
                                                                  f"frame-ancestors {ancestors}")
        # Browsers that read frame-ancestors ignore X-Frame-Options; older ones ignore an
        # unknown value, as for the widgets (desk/registry/views.py).
        response.headers["X-Frame-Options"] = "SAMEORIGIN" if ancestors == "'self'" else "ALLOWALL"
    if request.endpoint in PUBLIC_ENDPOINTS:
        # The form carries a CSRF token and, when refused, the resident's text; the
        # confirmation carries the status link: no cache keeps them.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Language"] = _lang()
    return response


def _lang() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def _render(template: str, **context: Any) -> str:
    # The template environment directly, without the app's context processors: they read
    # the signed-in user, and the embedded pages have no session.
    return current_app.jinja_env.get_template(template).render(lang=_lang(), **context)


# --- the form ---------------------------------------------------------------------------------

def _form_page(embed: bool, report: ReportInput, token: str, *, status: int = 200,
               message: Message | None = None, retry_after: int | None = None) -> BaseResponse:
    config = current_app.config
    lang = _lang()
    page_errors = [message] if message is not None else []
    if request.method == "POST" and any(f.filename for f in request.files.getlist("photos")):
        page_errors.append(PHOTOS_AGAIN)  # the form is shown again: the browser dropped the files
    body = _render(
        "report_form/form.html", embed=embed, values=report.values(), errors=report.errors,
        page_errors=page_errors, token=token, csrf_value=None if embed else generate_csrf(),
        groups=category_groups(), other=OTHER, honeypot=HONEYPOT, token_field=TOKEN,
        action=url_for(".embed" if embed else ".report", lang=lang),
        max_photos=config["REPORT_MAX_PHOTOS"], photo_max_bytes=config["REPORT_PHOTO_MAX_BYTES"],
        photo_max_mb=_megabytes(config["REPORT_PHOTO_MAX_BYTES"]),
        request_max_bytes=config["REPORT_MAX_REQUEST_BYTES"],
        max_description=MAX_DESCRIPTION, max_address=MAX_ADDRESS, max_name=MAX_NAME,
        max_email=MAX_EMAIL)
    response = Response(body, status=status, mimetype="text/html")
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def _read_photos(report: ReportInput) -> list[Photo]:
    """The attached photos, checked and re-encoded; problems go to ``report.errors``."""
    config = current_app.config
    max_bytes = int(config["REPORT_PHOTO_MAX_BYTES"])
    uploads = []
    for storage in request.files.getlist("photos"):
        data = storage.stream.read(max_bytes + 1)
        if storage.filename or data:  # a browser sends an empty part when no file is chosen
            uploads.append(data)
    if len(uploads) > int(config["REPORT_MAX_PHOTOS"]):
        report.add("photos", _l("At most %(count)s photos can be attached.", count=config["REPORT_MAX_PHOTOS"]))
        return []
    photos = []
    for number, data in enumerate(uploads, start=1):
        if len(data) > max_bytes:
            report.add("photos", _l("Photo %(number)s is larger than %(size)s MB.", number=number,
                                    size=_megabytes(max_bytes)))
            continue
        try:
            photos.append(read_photo(data, keep_location=report.keep_location, number=number))
        except ReportRefusal as refusal:
            report.add("photos", refusal.message)
    return photos


def _throttled(embed: bool, report: ReportInput, wait: int) -> BaseResponse:
    minutes = max(1, -(-wait // 60))
    message = _l("Too many appeals from your network. Try again in %(minutes)s min. What you typed is kept.",
                 minutes=minutes)
    return _form_page(embed, report, report.token, status=429, message=message, retry_after=wait)


def _done_url(ticket: Ticket, embed: bool) -> str:
    token = status_token(ticket.id, ticket.status_link_version or 0)
    return url_for(".embed_done" if embed else ".done", ticket_id=ticket.id, token=token, lang=_lang())


def _handle_form(embed: bool) -> BaseResponse:
    if request.method != "POST":
        return _form_page(embed, ReportInput(), guard.new_token())
    request.max_content_length = current_app.config["REPORT_MAX_REQUEST_BYTES"]
    report = ReportInput.from_form(request.form)  # a body above the limit: 413 (too_large below)
    if embed:
        if not guard.same_origin_request():
            return _form_page(embed, report, guard.new_token(), status=400, message=NOT_FROM_THE_FORM)
    elif current_app.config["WTF_CSRF_ENABLED"]:
        try:
            csrf.protect()
        except CSRFError:
            return _form_page(embed, report, guard.new_token(), status=400, message=EXPIRED)
    token = guard.read_token(report.token)
    if token is None:
        return _form_page(embed, report, guard.new_token(), status=400, message=EXPIRED)
    if report.honeypot.strip():
        guard.count_filing()
        return _form_page(embed, report, report.token, status=422, message=CHECK_FORM)
    if guard.filled_too_fast(token):
        return _form_page(embed, report, report.token, status=422, message=TOO_FAST)
    if wait := guard.retry_after():
        return _throttled(embed, report, wait)
    report.check()
    photos = _read_photos(report)
    if report.errors:
        return _form_page(embed, report, report.token, status=422, message=CHECK_FORM)
    if not guard.claim(token.nonce):
        earlier = guard.filed_ticket(token.nonce)
        ticket = db.session.get(Ticket, earlier) if earlier is not None else None
        if ticket is not None:
            return redirect(_done_url(ticket, embed), 303)
        return _form_page(embed, report, guard.new_token(), status=422, message=ALREADY_SENT)
    if wait := guard.count_filing():
        guard.release(token.nonce)
        return _throttled(embed, report, wait)
    written: list[str] = []
    try:
        ticket, written = services.file_report(report, photos, _lang())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        services.discard_files(written)
        _undo(token.nonce)
        raise
    guard.record(token.nonce, ticket.id)
    return redirect(_done_url(ticket, embed), 303)


def _undo(nonce: str) -> None:
    """The filing failed: the form may be sent again and does not count."""
    try:
        guard.release(nonce)
        guard.uncount_filing()
    except Exception:  # noqa: BLE001 — Redis may be what failed; the original error is raised
        pass


@bp.route("/report", methods=["GET", "POST"])
@csrf.exempt  # checked in the view, after the form's own size limit is set (see _handle_form)
def report() -> BaseResponse:
    return _handle_form(embed=False)


@bp.route("/report/embed", methods=["GET", "POST"])
@sessionless
@csrf.exempt  # no session in a frame: the form token and the same-origin check instead
def embed() -> BaseResponse:
    return _handle_form(embed=True)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> BaseResponse:
    config = current_app.config
    embed = request.endpoint in EMBED_ENDPOINTS
    body = _render("report_form/too_large.html", embed=embed,
                   back=url_for(".embed" if embed else ".report", lang=_lang()),
                   max_photos=config["REPORT_MAX_PHOTOS"], photo_max_mb=_megabytes(config["REPORT_PHOTO_MAX_BYTES"]),
                   request_max_mb=_megabytes(config["REPORT_MAX_REQUEST_BYTES"]))
    return Response(body, status=413, mimetype="text/html")


# --- the confirmation -----------------------------------------------------------------------

def _confirmation(ticket_id: int, token: str, embed: bool) -> BaseResponse:
    ticket = db.session.get(Ticket, ticket_id) if len(token) <= MAX_TOKEN else None
    if ticket is None or not token_matches(ticket.id, ticket.status_link_version or 0, token) \
            or not TicketStatus(ticket.status).public or services.web_submission(ticket.id) is None:
        return not_found()
    has_email = db.session.scalar(db.select(db.func.count(ResidentContact.id))
                                  .where(ResidentContact.ticket_id == ticket.id)) or 0
    body = _render("report_form/done.html", embed=embed, number=ticket.id, link=status_link(ticket),
                   has_email=bool(has_email), again=url_for(".embed" if embed else ".report", lang=_lang()))
    return Response(body, mimetype="text/html")


@bp.get("/report/done/<int:ticket_id>-<token>")
@sessionless
def done(ticket_id: int, token: str) -> BaseResponse:
    return _confirmation(ticket_id, token, embed=False)


@bp.get("/report/embed/done/<int:ticket_id>-<token>")
@sessionless
def embed_done(ticket_id: int, token: str) -> BaseResponse:
    return _confirmation(ticket_id, token, embed=True)


# --- staff ----------------------------------------------------------------------------------

@bp.get("/report/photos/<int:photo_id>")
@login_required
def photo(photo_id: int) -> BaseResponse:
    """A web-form photo for staff who may see its ticket (404 for everyone else)."""
    row = db.session.get(SubmissionPhoto, photo_id)
    if row is None:
        abort(404)
    get_ticket_or_404(row.submission.ticket_id)
    path = stored_path(row.stored_name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=row.content_type, conditional=True, etag=True,
                         download_name=f"photo-{row.id}.{row.stored_name.rsplit('.', 1)[-1]}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/admin/report-form")
@roles_required(Role.ADMIN)
def admin() -> str:
    ancestors = frame_ancestors()
    return render_template("report_form/admin.html", embed_url=public_url("report_form.embed"),
                           page_url=public_url("report_form.report"), counts=services.recent_counts(),
                           ancestors=ancestors, only_self=ancestors == "'self'",
                           configured=current_app.config["REPORT_FRAME_ANCESTORS"])
