"""Error pages: HTML for people, JSON for the API.

An outage (the database or Redis unreachable, busy or restarting) is a 503 with
``Retry-After``, not a 500: the request was fine and will work again, and the networks
retry a webhook that got a 503. Its page renders without touching either service.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request, session
from flask_babel import force_locale
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from .web_input import wants_json

log = logging.getLogger(__name__)

#: Failures of the services the desk stands on, not of the request: try again later.
OUTAGE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_SECONDS = 30


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            from .api.errors import http_error_response  # the API's one error shape, Allow kept

            return http_error_response(exc)
        if wants_json():
            return jsonify(error=exc.name, message=exc.description, status=exc.code, fields={}), exc.code
        if exc.code is None or exc.code < 400:
            return exc  # redirects raised as exceptions pass through
        # One page for every error, in the user's language, keeping the error's own headers
        # (Allow, Retry-After).
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        try:
            page = render_template("errors/error.html", code=exc.code, csrf_expired=isinstance(exc, CSRFError))
        except OUTAGE_ERRORS as outage:  # the page needs the signed-in user, hence the database
            return service_unavailable(outage)
        return page, exc.code, headers

    @app.errorhandler(500)
    def server_error(exc):
        if request.path.startswith("/api/"):
            from .api.errors import server_error_response

            return server_error_response()
        if wants_json():
            return jsonify(error="Internal Server Error", message="the server failed; it is logged", status=500), 500
        return render_template("errors/error.html", code=500), 500

    def service_unavailable(exc: Exception):
        log.error("service unavailable on %s %s: %s", request.method, request.path, exc)
        try:
            from .extensions import db

            db.session.rollback()
        except Exception:  # noqa: BLE001 — the connection may be gone: nothing to roll back
            pass
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.path.startswith("/api/"):
            from .api.errors import error_response

            response = error_response(503, "unavailable", "the desk is briefly unavailable; retry later")
            response.headers.update(headers)
            return response
        if wants_json():
            return jsonify(error="Service Unavailable", message="retry later", status=503, fields={}), 503, headers
        # The locale without asking the user loader (it needs the database).
        locale = session.get("lang") if session.get("lang") in current_app.config["LANGUAGES"] else None
        with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            # Rendered without the context processors: Flask-Login's loads the user.
            page = current_app.jinja_env.get_template("errors/unavailable.html").render(
                retry_after=RETRY_AFTER_SECONDS, refresh=request.method == "GET")
        return page, 503, headers

    for error in OUTAGE_ERRORS:
        app.register_error_handler(error, service_unavailable)
