"""Jinja filters and globals: dates in the city's time zone, enum labels."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app, url_for
from flask_babel import format_datetime, format_decimal, get_locale, get_translations, gettext

from . import labels

# Numeric patterns read the same in every locale, so they skip Babel's pattern
# machinery (a list page formats a hundred dates; Babel took a tenth of its time).
_NUMERIC_PATTERNS = {
    "dd.MM.yyyy HH:mm": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d} {d.hour:02d}:{d.minute:02d}",
    "dd.MM.yyyy": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d}",
}


def local_datetime(value: datetime | None, fmt: str = "dd.MM.yyyy HH:mm") -> str:
    """Format a UTC datetime in the city's time zone (Flask-Babel's timezone selector)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    numeric = _NUMERIC_PATTERNS.get(fmt)
    if numeric is not None:
        # The zone Flask-Babel's selector returns (desk.i18n.select_timezone), without its
        # per-call context lookups.
        return numeric(value.astimezone(_zone(current_app.config["DESK_TIMEZONE"])))
    return format_datetime(value, fmt)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def card_url_prefix() -> str:
    """``/tickets/`` as routed (one ``url_for`` per table instead of two per row)."""
    return url_for("tickets.card", ticket_id=0)[:-1]


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


def install_cached_gettext(app: Flask) -> None:
    """``_()`` in templates through a per-locale memo of the app's catalog.

    Flask-Babel looks the request's translations up on every call (a page makes about
    sixty); the memo costs one locale lookup and a dict hit. Plural and context forms
    stay Flask-Babel's own."""
    memo: dict[tuple, str] = {}

    def cached_gettext(string: str) -> str:
        locale = get_locale()
        key = (locale, string)
        text = memo.get(key) if locale is not None else None
        if text is None:
            text = get_translations().ugettext(string)
            if locale is not None:
                memo[key] = text
        return text

    # jinja2.ext.i18n (Flask-Babel enables it) adds this method to the environment at runtime.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=cached_gettext,
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )


def day(value: object) -> str:
    """A calendar date as people here write it: 03.11.2026."""
    return _NUMERIC_PATTERNS["dd.MM.yyyy"](value) if value is not None else "—"


def thousands(value: object) -> str:
    """A count with the locale's digit grouping (Russian: 336 500 with a narrow space);
    anything that is not a number (a duration already written out) is shown as it is."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_decimal(value, format="#,##0")


def share(value: int | float | None) -> str:
    """A percentage as the locale writes it, one decimal at most (Russian: 5,7 %)."""
    return "—" if value is None else f"{format_decimal(value, format='#,##0.#')}\xa0%"


def init_templates(app: Flask) -> None:
    from .errors import init_errors
    from .links import init_links

    init_errors(app)
    init_links(app)
    install_cached_gettext(app)
    app.jinja_env.filters["local_dt"] = local_datetime
    app.jinja_env.filters["duration"] = duration_short
    app.jinja_env.filters["thousands"] = thousands
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["share"] = share
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["label"] = labels.label
    app.jinja_env.globals["resolved_labels"] = labels.resolved
    app.jinja_env.globals["card_url_prefix"] = card_url_prefix
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["now_utc"] = lambda: datetime.now(UTC)
