"""Jinja filters and globals: dates in the city's time zone, enum labels."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask
from flask_babel import format_datetime, get_locale, gettext

from . import labels


def local_datetime(value: datetime | None, fmt: str = "dd.MM.yyyy HH:mm") -> str:
    """Format a UTC datetime in the city's time zone (Flask-Babel's timezone selector)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return format_datetime(value, fmt)


def duration_short(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days}{gettext('d')} {hours}{gettext('h')}"
    if hours:
        return f"{sign}{hours}{gettext('h')} {minutes:02d}{gettext('m')}"
    return f"{sign}{minutes}{gettext('m')}"


def init_templates(app: Flask) -> None:
    from .errors import init_errors

    init_errors(app)
    app.jinja_env.filters["local_dt"] = local_datetime
    app.jinja_env.filters["duration"] = duration_short
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["label"] = labels.label
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["now_utc"] = lambda: datetime.now(timezone.utc)
