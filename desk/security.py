"""Security headers on every response (the desk serves all its assets itself)."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
# For the widgets meant to be framed by any municipal site (the accounts widget, the open
# figures widget); every other page keeps SAMEORIGIN (only headers a view has not set are set).
FRAMEABLE_CSP = CSP.replace("frame-ancestors 'self'", "frame-ancestors *")


def init_security(app: Flask) -> None:
    hops = int(app.config.get("DESK_PROXY_HOPS") or 0)
    if hops > 0:
        # Only the proxy's own headers: the client's address and scheme, never the Host
        # (absolute links come from DESK_PUBLIC_URL).
        # Wrapping wsgi_app is Flask's documented way to add middleware; typeshed sees a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)

    @app.after_request
    def set_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
