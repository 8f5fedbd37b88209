"""Reading untrusted update payloads: ids, millisecond timestamps, optional objects.

MAX and OK send ids as numbers in one place and strings in another (and a broken
client may send anything), timestamps as milliseconds that sometimes arrive as
strings, and optional objects that may be ``null``. These helpers read such values
the same way everywhere and fail with :class:`ValueError` (the update becomes a dead
letter) instead of an ``AttributeError`` far from the cause.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def as_id(value: Any) -> str | None:
    """An id given as a number or a string, as text; ``None`` when absent or not an id
    (a bool, a list, an object, an empty string)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    if isinstance(value, (int, str)):
        text = str(value).strip()
        return text or None
    return None


def as_object(value: Any, what: str) -> dict:
    """A required JSON object."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    return value


def optional_object(value: Any) -> dict:
    """An optional JSON object: ``null`` or a value of another type reads as absent."""
    return value if isinstance(value, dict) else {}


def from_ms(value: Any) -> datetime | None:
    """Milliseconds since the epoch (UTC), given as a number or a numeric string;
    ``None`` when absent. Anything else raises :class:`ValueError`."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"not a timestamp: {value!r}"[:200])
    try:
        return datetime.fromtimestamp(float(value) / 1000, tz=timezone.utc)
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"not a timestamp: {value!r}"[:200]) from exc


def first_moment(*values: Any) -> datetime | None:
    """The first present timestamp among ``values`` (the message's own, then the update's)."""
    for value in values:
        moment = from_ms(value)
        if moment is not None:
            return moment
    return None
