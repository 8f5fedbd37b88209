"""Error pages: HTML for people, JSON for the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .web_input import wants_json


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
        page = render_template("errors/error.html", code=exc.code, csrf_expired=isinstance(exc, CSRFError))
        return page, exc.code, headers

    @app.errorhandler(500)
    def server_error(exc):
        if request.path.startswith("/api/"):
            from .api.errors import server_error_response

            return server_error_response()
        if wants_json():
            return jsonify(error="Internal Server Error", message="the server failed; it is logged", status=500), 500
        return render_template("errors/error.html", code=500), 500
