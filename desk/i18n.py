"""Russian by default, English available (Flask-Babel).

Translations live per feature in ``desk/translations/<area>/<lang>/LC_MESSAGES/messages.po``;
Flask-Babel merges every area's catalog. Missing or stale ``.mo`` files are compiled
from the ``.po`` sources at start-up, so a fresh checkout needs no extra step.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, request, session
from flask_login import current_user

from .sessionless import is_sessionless

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString

    # Flask-Babel ships no type information (its functions are Any to mypy). The strictly
    # typed packages import ``gettext as _`` and ``lazy_gettext as _l`` from here: the
    # same functions at run time, with their signatures for the type checker.
    def gettext(string: str, /, **variables: Any) -> str: ...

    def lazy_gettext(string: str, /, **variables: Any) -> LazyString: ...
else:
    from flask_babel import gettext, lazy_gettext

__all__ = ["gettext", "lazy_gettext"]

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def compile_catalogs(root: Path = TRANSLATIONS) -> list[Path]:
    compiled = []
    for po_path in root.glob("*/*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog)
        compiled.append(mo_path)
    return compiled


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if is_sessionless():  # public cached pages: the language is in the URL only
        asked = request.args.get("lang")
        return asked if isinstance(asked, str) and asked in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["DESK_TIMEZONE"]


def city_today(now: datetime | None = None) -> date:
    """Today's date in the city's time zone (``now`` defaults to the current UTC time)."""
    now = now or datetime.now(UTC)
    return now.astimezone(ZoneInfo(current_app.config["DESK_TIMEZONE"])).date()


def init_i18n(app: Flask, babel) -> None:
    compile_catalogs()
    directories = sorted(str(p) for p in TRANSLATIONS.iterdir() if p.is_dir())
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    @app.route("/lang/<code>")
    def set_language(code: str):
        from urllib.parse import urlparse

        from flask import redirect, url_for

        if code in app.config["LANGUAGES"]:
            session["lang"] = code
        target = request.referrer or ""
        # Only same-site redirects.
        if not target or urlparse(target).netloc not in ("", request.host):
            target = url_for("auth.home")
        return redirect(target)
