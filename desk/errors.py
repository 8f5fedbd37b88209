"""Error pages: HTML for people, JSON for the API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/hooks/")


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _wants_json():
            return jsonify(error=exc.name, message=exc.description, status=exc.code, fields={}), exc.code
        if exc.code in (403, 404, 500):
            return render_template(f"errors/{exc.code}.html"), exc.code
        return exc

    @app.errorhandler(500)
    def server_error(exc):
        if _wants_json():
            return jsonify(error="Internal Server Error", message="the server failed; it is logged", status=500), 500
        return render_template("errors/500.html"), 500
