"""Strict reading of request bodies and query strings.

Clients learn about their mistakes at once: malformed JSON, wrong types and
unknown names are 400; well-formed input with values we cannot accept is 422.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from flask import request

from .errors import bad_request, unprocessable

_TYPE_NAMES = {int: "an integer", str: "a string", bool: "a boolean"}


@dataclass(frozen=True)
class BodyField:
    type: type
    required: bool = False
    nullable: bool = False


def _type_ok(value: object, expected: type) -> bool:
    if expected is int and isinstance(value, bool):
        return False  # JSON true is not an id
    return isinstance(value, expected)


def read_json_body(spec: dict[str, BodyField]) -> dict:
    """The request's JSON object, checked against ``spec`` (absent keys are left out)."""
    raw = request.get_data(as_text=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise bad_request("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise bad_request(f"unknown fields: {', '.join(unknown)}", {k: "unknown field" for k in unknown})
    wrong = {}
    for name, value in body.items():
        field = spec[name]
        if value is None and field.nullable:
            continue
        if not _type_ok(value, field.type):
            wrong[name] = f"must be {_TYPE_NAMES[field.type]}" + (" or null" if field.nullable else "")
    if wrong:
        raise bad_request("some fields have the wrong type", wrong)
    missing = {name: "this field is required" for name, f in spec.items() if f.required and name not in body}
    if missing:
        raise unprocessable("some required fields are missing", missing)
    return body


def reject_unknown_params(allowed: Iterable[str]) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise bad_request(f"unknown query parameters: {', '.join(unknown)}",
                          {k: "unknown parameter" for k in unknown})


def enum_value(enum: type[Enum], value: str, field: str) -> str:
    """``value`` if it is one of ``enum``'s values, else a 422 naming the choices."""
    choices = [m.value for m in enum]
    if value not in choices:
        raise unprocessable(f"{field} must be one of: {', '.join(choices)}", {field: f"not one of {choices}"})
    return value


def int_param(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer", {name: "must be an integer"}) from None
    if not minimum <= value <= maximum:
        raise unprocessable(f"{name} must be between {minimum} and {maximum}",
                            {name: f"must be between {minimum} and {maximum}"})
    return value
