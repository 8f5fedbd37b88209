"""Links the desk writes out: only ``http(s)`` ones, and its own from DESK_PUBLIC_URL.

- :func:`http_url` is the one check for a link someone else gave us (an account's link
  in the admin form or an import, a permalink a network answered with, one a person
  typed): anything but an absolute ``http``/``https`` URL (``javascript:``, ``data:``,
  a relative path) is refused when stored and never rendered as a link (old rows too:
  templates use the ``http_url`` filter).
- :func:`public_url` is the one way to an absolute URL of the desk itself: from the
  configured ``DESK_PUBLIC_URL``, never from the request's ``Host`` header, which any
  client can set (a widget framed on a city site would otherwise link to the attacker).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

MAX_URL = 500


def http_url(value: object) -> str | None:
    """``value`` as an absolute http(s) URL, or None when it is not one."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > MAX_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


class HttpUrl:
    """WTForms validator: the field, when filled, holds an absolute http(s) URL."""

    def __call__(self, form, field) -> None:
        if field.data and http_url(field.data) is None:
            raise ValidationError(_l("Give a link that starts with http:// or https://."))


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` under DESK_PUBLIC_URL (works outside requests too)."""
    base = current_app.config["DESK_PUBLIC_URL"].rstrip("/")
    adapter = current_app.url_map.bind("desk.invalid", url_scheme="https")
    return base + adapter.build(endpoint, values)


def init_links(app: Flask) -> None:
    app.add_template_filter(http_url, "http_url")
    app.add_template_global(public_url, "public_url")
