"""Open311 GeoReport v2 at ``/open311/v2`` (no session, no cookie, no CSRF: the posting
system names itself with its ``api_key``).

Every resource answers ``.json`` and ``.xml``; anything else under ``/open311/v2`` — an
unknown resource or extension, a method the resource does not take, a body too large, a
failure of the desk — is answered in the spec's error shape with the matching status.
GET answers may be read by any site's scripts (``Access-Control-Allow-Origin: *``).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from ..errors import OUTAGE_ERRORS, RETRY_AFTER_SECONDS
from ..extensions import db
from ..models import utcnow
from ..refusals import DeskError
from ..sessionless import sessionless
from ..web_input import parse_id
from . import catalog, filing, keys, records
from .params import comma_list, single, w3_datetime, whole_number
from .render import FORMAT_NAMES, FORMATS, Open311Error, answer, bad_request, error_answer, not_found

log = logging.getLogger(__name__)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: when this endpoint last changed (discovery's ``changeset``)
CHANGESET = "2026-12-02T00:00:00Z"
#: every rule takes these, so a method a resource does not take is a 405 in the spec's shape
ROUTED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

View = Callable[..., Any]


def _format(fmt: str) -> str | None:
    lowered = fmt.lower()
    return lowered if lowered in FORMATS else None


def _allow(methods: tuple[str, ...]) -> str:
    allowed = [*methods, *(["HEAD"] if "GET" in methods else []), "OPTIONS"]
    return ", ".join(allowed)


@bp.url_value_preprocessor
def _remember_format(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """The format an error should take, known before any check runs (a JSON body's 415)."""
    values = values or {}
    if "fmt" in values:
        g.open311_format = _format(str(values["fmt"]))
    else:
        _stem, dot, extension = str(values.get("rest", "")).rpartition(".")
        g.open311_format = _format(extension) if dot else None


def resource(rule: str, *methods: str) -> Callable[[View], View]:
    """Route ``rule`` (ending in ``.<fmt>``) to a view taking the format first."""
    methods = methods or ("GET",)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(fmt: str, **values: Any) -> Response:
            if g.open311_format is None:
                raise not_found(f"no such format: .{fmt[:20]} (this endpoint answers .json and .xml)")
            method = "GET" if request.method == "HEAD" else request.method
            if method == "OPTIONS":
                return _options(methods)
            if method not in methods:
                raise Open311Error(405, f"{request.method} is not allowed here", {"Allow": _allow(methods)})
            return view(g.open311_format, **values)

        bp.add_url_rule(rule, view.__name__, sessionless(wrapped), methods=ROUTED_METHODS,
                        provide_automatic_options=False)
        return view

    return decorator


def _options(methods: tuple[str, ...]) -> Response:
    response = Response(status=204)
    response.headers["Allow"] = _allow(methods)
    response.headers["Access-Control-Allow-Methods"] = _allow(methods)
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


@bp.after_request
def _readable_by_any_site(response: Response) -> Response:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- discovery and services -------------------------------------------------------------------

def endpoint_url() -> str:
    return current_app.config["DESK_PUBLIC_URL"].rstrip("/") + bp.url_prefix


def contact() -> str:
    configured = (current_app.config["OPEN311_CONTACT"] or "").strip()
    if configured:
        return configured
    return "The city's appeals desk: " + current_app.config["DESK_PUBLIC_URL"].rstrip("/")


@resource("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    data = {
        "changeset": CHANGESET,
        "contact": contact(),
        "key_service": "Keys to post requests are issued by the desk's administrators, one per system "
                       "(ask through the contact above); send it as api_key.",
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": endpoint_url(),
            "changeset": CHANGESET,
            "type": "production",
            "formats": FORMAT_NAMES,
        }],
    }
    return answer(fmt, "discovery", data)


@resource("/services.<fmt>")
def services(fmt: str) -> Response:
    return answer(fmt, "services", catalog.services())


@resource("/services/<code>.<fmt>")
def service_definition(fmt: str, code: str) -> Response:
    return answer(fmt, "service_definition", catalog.definition(code))


# --- service requests -----------------------------------------------------------------------

def _codes(raw: list[str] | None) -> list[int] | None:
    """Service codes as category ids; a code that is no id matches nothing."""
    if raw is None:
        return None
    return [ident for ident in (parse_id(code) for code in raw) if ident is not None]


def _statuses(raw: list[str] | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    chosen: list[str] = []
    for word in raw:
        values = records.STATUS_VALUES.get(word.lower())
        if values is None:
            raise bad_request(f"status must be open or closed (comma-delimited), not {word[:40]}")
        chosen += values
    return tuple(chosen)


def request_filter() -> records.RequestFilter:
    """``GET requests``'s query. Ids override the other filters; without ids and dates
    the window is the last 90 days; a window may not span more than 90 days."""
    args = request.args
    query = records.RequestFilter()
    page, size = single(args, "page"), single(args, "page_size")
    query.page = whole_number(page, "page") if page is not None else 1
    # A larger page is served at the spec's maximum (the page numbers stay consistent).
    query.page_size = min(whole_number(size, "page_size"), records.MAX_PAGE_SIZE) if size is not None \
        else records.MAX_PAGE_SIZE
    ids = comma_list(args, "service_request_id")
    codes, statuses = comma_list(args, "service_code"), comma_list(args, "status")
    raw_start, raw_end = single(args, "start_date"), single(args, "end_date")
    if ids is not None:  # "This overrides all other arguments."
        query.ids = [ident for ident in (parse_id(i) for i in ids) if ident is not None]
        return query
    query.service_codes = _codes(codes)
    query.statuses = _statuses(statuses)
    city = ZoneInfo(current_app.config["DESK_TIMEZONE"])
    start = w3_datetime(raw_start, "start_date", city) if raw_start is not None else None
    end = w3_datetime(raw_end, "end_date", city) if raw_end is not None else None
    if end is None:
        # Without dates, the last 90 days; from a start, everything since (1000 a page).
        query.start = start.start if start is not None else utcnow() - records.MAX_SPAN
        return query
    query.before = end.after
    query.start = start.start if start is not None else end.after - records.MAX_SPAN
    if query.before <= query.start:
        raise bad_request("end_date is earlier than start_date")
    # A day's grace: 2026-01-01 to 2026-03-31 (whole days) is the 90 days it means.
    if query.before - query.start > records.MAX_SPAN + timedelta(days=1):
        raise bad_request(f"start_date and end_date may not span more than {records.DEFAULT_DAYS} days")
    return query


@resource("/requests.<fmt>", "GET", "POST")
def service_requests(fmt: str) -> Response:
    if request.method == "POST":
        return _post(fmt)
    return answer(fmt, "service_requests", records.find(request_filter()))


def _post(fmt: str) -> Response:
    form = request.values  # the form, and the query string some clients put api_key in
    key = keys.authenticate(single(form, "api_key"))
    db.session.commit()  # the key's last use is kept even when the post is refused
    keys.check_rate(key)
    posted = filing.read_post(form, key)
    data = filing.file(posted)
    db.session.commit()
    log.info("Open311 request %s filed with key %s", data["service_request_id"], key.prefix)
    return answer(fmt, "service_requests", [data])


@resource("/requests/<request_id>.<fmt>")
def service_request(fmt: str, request_id: str) -> Response:
    ident = parse_id(request_id) if request_id.strip() == request_id else None
    found = records.find_one(ident) if ident is not None else None
    if found is None:
        raise not_found(f"service_request_id {request_id[:40]} was not found")
    return answer(fmt, "service_requests", [found])


@resource("/tokens/<token>.<fmt>")
def token(fmt: str, token: str) -> Response:
    return answer(fmt, "service_requests", [filing.by_token(token)])


# --- everything else under /open311/v2 --------------------------------------------------------

@bp.route("", methods=ROUTED_METHODS, provide_automatic_options=False)
@bp.route("/", methods=ROUTED_METHODS, provide_automatic_options=False)
@bp.route("/<path:rest>", methods=ROUTED_METHODS, provide_automatic_options=False)
@sessionless
def unknown(rest: str = "") -> Response:
    raise not_found("no such resource: see discovery.json or discovery.xml")


def _error(error: Open311Error) -> Response:
    db.session.rollback()
    return error_answer(error, g.get("open311_format"))


bp.register_error_handler(Open311Error, _error)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    descriptions = {
        404: "no such resource",
        405: f"{request.method} is not allowed here",
        413: "the request body is larger than the desk accepts",
        415: "send the fields form-encoded (application/x-www-form-urlencoded), as the spec says",
    }
    headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
    return _error(Open311Error(code, descriptions.get(code) or exc.description or exc.name, headers))


@bp.errorhandler(DeskError)
def _refused(exc: DeskError) -> Response:
    return _error(Open311Error(400, str(exc)))


def _outage(exc: Exception) -> Response:
    log.error("Open311: service unavailable on %s %s: %s", request.method, request.path, exc)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 — the connection may be gone: nothing to roll back
        pass
    return error_answer(Open311Error(503, "the desk is briefly unavailable; retry later",
                                     {"Retry-After": str(RETRY_AFTER_SECONDS)}), g.get("open311_format"))


for _outage_error in OUTAGE_ERRORS:
    bp.register_error_handler(_outage_error, _outage)


@bp.errorhandler(500)
def _server_error(exc: Exception) -> Response:
    return _error(Open311Error(500, "the server failed; it is logged"))
