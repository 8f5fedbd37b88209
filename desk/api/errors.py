"""JSON errors of the API: one shape, ``{"error", "message", "fields"}``, everywhere."""
from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.exceptions import HTTPException

from ..refusals import DeskError


class ApiError(Exception):
    """An error answered as JSON with ``status``; ``fields`` names the culprits."""

    def __init__(self, status: int, error: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.fields = fields or {}


def bad_request(message: str, fields: dict[str, str] | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, fields)


def unprocessable(message: str, fields: dict[str, str] | None = None) -> ApiError:
    return ApiError(422, "validation_failed", message, fields)


def error_response(status: int, error: str, message: str, fields: dict[str, str] | None = None):
    response = jsonify(error=error, message=message, fields=fields or {})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="desk"'
    return response


# HTTP errors raised by shared helpers (``abort(404)`` in get_ticket_or_404) get a
# machine-friendly code instead of werkzeug's English name.
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
          422: "validation_failed", 429: "too_many_requests"}


def http_error_response(exc: HTTPException):
    """An HTTP error in the API's shape, keeping its headers (``Allow`` on a 405).

    Also used by the app-wide handler for ``/api/`` paths: routing errors (an unknown
    path, a wrong method) are raised before any blueprint is chosen."""
    code = exc.code or 500
    response = error_response(code, _CODES.get(code, "error"), exc.description or exc.name)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def refusal_response(exc: DeskError):
    """A service's refusal in the API's shape: its code, status and fields, its message
    in the caller's language. The rollback undoes what the operation flushed."""
    from ..extensions import db

    db.session.rollback()
    return error_response(exc.status, exc.code, str(exc), exc.field_messages())


def server_error_response():
    return error_response(500, "server_error", "the server failed; it is logged")


def register_error_handlers(bp: Blueprint) -> None:
    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.error, exc.message, exc.fields)

    bp.register_error_handler(DeskError, refusal_response)
    bp.register_error_handler(HTTPException, http_error_response)
