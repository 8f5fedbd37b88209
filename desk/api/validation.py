"""Strict reading of request bodies and query strings.

Each body field and query parameter is declared once as a :class:`Field`; the same
declaration checks the request and writes the field's schema in the OpenAPI document,
so the document says exactly what the server accepts.

Clients learn about their mistakes at once: malformed JSON, wrong types, unknown or
repeated names and numbers outside the documented range are 400; well-formed input
with values we cannot accept (not one of the choices, an unknown id) is 422. Text
arrives cleaned by the edge (``desk.web_input``: NUL and lone surrogates are U+FFFD in
query arguments, and in bodies read with its ``load_json``, which also bounds nesting).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import cast

from flask import request

from ..web_input import DB_INT_MAX, load_json
from .errors import bad_request, unprocessable

_TYPE_NAMES = {int: "an integer", str: "a string", bool: "a boolean"}
_JSON_TYPES = {int: "integer", str: "string", bool: "boolean"}
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Field:
    """One body field or query parameter: its type, limits and documentation."""

    type: type
    required: bool = False
    nullable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    #: a string that must hold a non-space character (``pattern: \\S``)
    non_blank: bool = False
    #: strings matching this (anchored) pattern only; checked and documented
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    #: query only: the parameter may be given several times
    repeated: bool = False
    default: object = None
    description: str = ""

    def schema(self) -> dict:
        """This field's JSON Schema (the OpenAPI document's view of the checks below)."""
        kind = _JSON_TYPES[self.type]
        schema: dict = {"type": [kind, "null"] if self.nullable else kind}
        if self.description:
            schema["description"] = self.description
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.type is str and self.non_blank:
            schema["minLength"] = 1
            schema["pattern"] = r"\S"
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.pattern is not None:
            schema["pattern"] = f"^(?:{self.pattern})$"
        if self.choices:
            schema["enum"] = [*self.choices, None] if self.nullable else list(self.choices)
        if self.default is not None:
            schema["default"] = self.default
        if self.repeated:
            schema = {"type": "array", "items": {k: v for k, v in schema.items() if k != "description"}}
        return schema


def id_field(**kwargs) -> Field:
    """A row id: an integer the database can hold."""
    return Field(int, minimum=1, maximum=DB_INT_MAX, **kwargs)


def enum_choices(enum: type[Enum], *, exclude: Iterable = ()) -> tuple[str, ...]:
    skip = {getattr(e, "value", e) for e in exclude}
    return tuple(m.value for m in enum if m.value not in skip)


def body_schema(spec: dict[str, Field], **extra) -> dict:
    """The request body's JSON Schema for ``spec`` (no other names allowed)."""
    schema = {"type": "object", "properties": {name: f.schema() for name, f in spec.items()},
              "additionalProperties": False, **extra}
    required = [name for name, f in spec.items() if f.required]
    if required:
        schema["required"] = required
    return schema


def query_parameters(spec: dict[str, Field]) -> list[dict]:
    """The OpenAPI ``parameters`` of a query string read with :func:`read_query`."""
    params = []
    for name, f in spec.items():
        param = {"name": name, "in": "query", "required": f.required, "schema": f.schema()}
        if f.description:
            param["description"] = f.description
        if f.repeated:
            param.update(style="form", explode=True)
        params.append(param)
    return params


# --- bodies ---------------------------------------------------------------------------------

def _parse_json() -> object:
    raw = request.get_data()
    try:
        return load_json(raw) if raw.strip() else None
    except ValueError:  # not JSON, or nested deeper than the desk reads
        raise bad_request("the body is not valid JSON") from None


def _type_ok(value: object, expected: type) -> bool:
    if expected is int and isinstance(value, bool):
        return False  # JSON true is not an id
    return isinstance(value, expected)


def _body_value(name: str, field: Field, value: object, wrong: dict, refused: dict) -> object:
    if value is None and field.nullable:
        return None
    if field.type is int and isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 5.0 as an integer, so do we
    if not _type_ok(value, field.type):
        wrong[name] = f"must be {_TYPE_NAMES[field.type]}" + (" or null" if field.nullable else "")
        return value
    if field.type is int:
        low = field.minimum if field.minimum is not None else -DB_INT_MAX
        high = field.maximum if field.maximum is not None else DB_INT_MAX
        if not low <= cast(int, value) <= high:  # _type_ok() checked it
            wrong[name] = f"must be between {low} and {high}"
        return value
    if field.type is str:
        _check_text(name, field, cast(str, value), refused)
    return value


def _check_text(name: str, field: Field, value: str, refused: dict) -> None:
    if field.non_blank and not value.strip():
        refused[name] = "must not be empty"
    elif field.max_length is not None and len(value) > field.max_length:
        refused[name] = f"at most {field.max_length} characters"
    elif field.pattern is not None and not re.fullmatch(field.pattern, value):
        refused[name] = "has the wrong form"
    elif field.choices and value not in field.choices:
        refused[name] = f"must be one of: {', '.join(field.choices)}"


def read_json_body(spec: dict[str, Field]) -> dict:
    """The request's JSON object, checked against ``spec`` (absent keys are left out)."""
    body = _parse_json()
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise bad_request("unknown fields: " + ", ".join(k[:40] for k in unknown),
                          {k[:40]: "unknown field" for k in unknown})
    wrong: dict[str, str] = {}
    refused: dict[str, str] = {}
    checked = {name: _body_value(name, spec[name], value, wrong, refused) for name, value in body.items()}
    if wrong:
        raise bad_request("some fields have the wrong type or are out of range", wrong)
    missing = {name: "this field is required" for name, f in spec.items() if f.required and name not in body}
    refused.update(missing)
    if refused:
        raise unprocessable("some fields are not acceptable" if not missing else "some required fields are missing",
                            refused)
    return checked


# --- query strings -----------------------------------------------------------------------------

def reject_unknown_params(allowed: Iterable[str]) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        names = [k[:40] for k in unknown]
        raise bad_request(f"unknown query parameters: {', '.join(names)}", {k: "unknown parameter" for k in names})


def _query_value(name: str, field: Field, raw: str, wrong: dict, refused: dict) -> object:
    if field.type is int:
        if not _DIGITS.fullmatch(raw):
            wrong[name] = "must be an integer"
            return None
        low = field.minimum if field.minimum is not None else 0
        high = field.maximum if field.maximum is not None else DB_INT_MAX
        # A thousand digits are an integer too, just not one worth converting.
        value = int(raw) if len(raw) <= 18 else None
        if value is None or not low <= value <= high:
            refused[name] = f"must be between {low} and {high}"
        return value
    _check_text(name, field, raw, refused)
    return raw


def read_query(spec: dict[str, Field]) -> dict[str, object]:
    """The query string checked against ``spec``: unknown names and a repeated single
    parameter are 400, like a malformed integer; values outside the limits are 422.
    Absent parameters get their default; repeated ones come as a list."""
    reject_unknown_params(spec)
    wrong: dict[str, str] = {}
    refused: dict[str, str] = {}
    values: dict[str, object] = {}
    for name, field in spec.items():
        raws = request.args.getlist(name)
        if not raws:
            if field.default is not None:
                values[name] = field.default
            continue
        if len(raws) > 1 and not field.repeated:
            wrong[name] = "give it once"
            continue
        checked = [_query_value(name, field, raw, wrong, refused) for raw in raws]
        values[name] = checked if field.repeated else checked[0]
    if wrong:
        raise bad_request("some query parameters are malformed", wrong)
    if refused:
        raise unprocessable("some query parameters are not acceptable", refused)
    return values
