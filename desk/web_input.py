"""What the desk accepts from the web, checked once at the edge.

- **ids**: every ``<int:…>`` in a route stops at :data:`DB_INT_MAX` (a larger id is a 404,
  not a database error); filters and forms read ids with :func:`parse_id` /
  :func:`coerce_id` / :data:`ID_RANGE` for the same bound (400 or a form error).
- **text**: query arguments, form fields and JSON strings arrive with NUL and lone
  surrogates already replaced (:func:`desk.text.clean_text`), so no view or service
  stores or renders them.
- **JSON**: nesting deeper than ``JSON_MAX_DEPTH`` is refused before the parser recurses
  (400 for the API; an unreadable webhook body is stored and becomes a dead letter).
  Pages take forms, not JSON: a JSON body outside ``/api`` and ``/hooks`` is a 415.
- **size**: ``DESK_MAX_REQUEST_BYTES`` for every request, ``WEBHOOK_MAX_BYTES`` for
  ``/hooks/`` (413).
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter
from wtforms.validators import NumberRange

from .text import clean_text

# Ids are INTEGER columns on PostgreSQL; SQLite holds more, so this bound serves both.
DB_INT_MAX = 2**31 - 1
# Paths that machines call (JSON in, JSON errors out); everything else is pages for people.
MACHINE_PREFIXES = ("/api/", "/hooks/")
WEBHOOK_PREFIX = "/hooks/"

# --- ids ------------------------------------------------------------------------------------


class IdConverter(IntegerConverter):
    """The app's ``int`` converter: a value above :data:`DB_INT_MAX` does not match (404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, DB_INT_MAX if max is None else max, signed)
        if not signed and not fixed_digits and max is None:
            # The bound in the pattern too: werkzeug picks the rule by path and method before
            # it converts, so a POST with a huge id would be a 405 (the path's GET rule) not a 404.
            self.regex = _digits_up_to(DB_INT_MAX)


def _digits_up_to(limit: int) -> str:
    """A regex matching decimal numbers from 0 to ``limit`` (leading zeros allowed)."""
    text = str(limit)
    shorter = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    below = [text[:i] + (f"[0-{int(d) - 1}]" if int(d) > 1 else "0")
             + (rf"\d{{{len(text) - i - 1}}}" if i < len(text) - 1 else "")
             for i, d in enumerate(text) if int(d) > 0]
    return "0*(?:" + "|".join([*shorter, *below, text]) + ")"


def parse_id(raw: object) -> int | None:
    """A row id from user input (``"42"`` or ``42``), or ``None`` when it cannot name a row:
    empty, not a plain number, zero or beyond the database's integer range."""
    if isinstance(raw, bool):
        return None
    text = str(raw).strip() if isinstance(raw, (str, int)) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(DB_INT_MAX)):
        return None
    value = int(text)
    return value if 0 < value <= DB_INT_MAX else None


def coerce_id(value: object) -> int:
    """``coerce`` for WTForms selects of ids: an impossible id is "not a valid choice"."""
    parsed = parse_id(value)
    if parsed is None:
        raise ValueError("not an id")
    return parsed


# For IntegerFields that hold an id (WTForms words the error in the user's language).
ID_RANGE = NumberRange(min=1, max=DB_INT_MAX)

# --- text -------------------------------------------------------------------------------------


class CleanParameters(ImmutableMultiDict):
    """Query arguments and form fields with NUL and lone surrogates replaced."""

    def __init__(self, mapping: Any = None) -> None:
        pairs = MultiDict(mapping).items(multi=True)
        super().__init__([(clean_text(k), clean_text(v) if isinstance(v, str) else v) for k, v in pairs])


# --- JSON -------------------------------------------------------------------------------------

# Strings (skipped whole, possessively: no backtracking on an unterminated one) and brackets.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{}]')


class JSONTooDeep(ValueError):
    """A JSON body nested deeper than the desk reads (``JSON_MAX_DEPTH``)."""


def json_depth_exceeds(text: str, limit: int) -> bool:
    """True when arrays/objects in ``text`` nest deeper than ``limit`` (a linear scan, so
    10 000 opening brackets cost a regex pass, not a RecursionError in the parser)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): _cleaned(v) for k, v in value.items()}
    return value


def load_json(raw: str | bytes, max_depth: int | None = None) -> Any:
    """Parse JSON as the desk reads it: bounded depth, strings cleaned. Raises ValueError
    (``JSONTooDeep`` among them) for anything that is not such JSON."""
    text = raw.decode(json.detect_encoding(raw), errors="replace") if isinstance(raw, bytes) else raw
    limit = max_depth if max_depth is not None else current_app.config["JSON_MAX_DEPTH"]
    if json_depth_exceeds(text, limit):
        raise JSONTooDeep(f"JSON nested deeper than {limit} levels")
    return _cleaned(json.loads(text))


class DeskJSONProvider(DefaultJSONProvider):
    """``request.get_json()`` (Flask-WTF and the API use it) reads through :func:`load_json`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s)


# --- the request ----------------------------------------------------------------------------


class DeskRequest(Request):
    parameter_storage_class = CleanParameters

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and current_app and self.path.startswith(WEBHOOK_PREFIX):
            return current_app.config["WEBHOOK_MAX_BYTES"]
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def wants_json() -> bool:
    """Is this request from a machine (errors answered in JSON)?"""
    return request.path.startswith(MACHINE_PREFIXES)


def refuse_json_on_pages() -> None:
    """Pages read forms; Flask-WTF would read a JSON body as form data of any type."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.is_json and not wants_json():
        abort(415)


def init_web_input(app: Flask) -> None:
    """Install the edge; must run before any blueprint adds its rules (the converter)."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = DeskRequest
    app.json = DeskJSONProvider(app)
    app.before_request(refuse_json_on_pages)
    from .hooks.logs import init_log_redaction

    init_log_redaction(app)
