"""Reading untrusted update payloads: ids, timestamps, optional objects — one module for
every network's normaliser.

A normaliser accepts what the networks' own SDKs accept and nothing else, and fails with
:class:`ValueError` (the update becomes a dead letter an admin can read and replay)
instead of an ``AttributeError`` far from the cause or a wrong ticket:

- Telegram and VK ids are integers; their SDKs (aiogram, vkbottle) also coerce numeric
  strings: :func:`int_id`. Their times are Unix seconds: :func:`from_seconds`.
- MAX and OK send ids as numbers in one place and strings in another: :func:`text_id`
  reads either as text. Their times are milliseconds, sometimes as strings: :func:`from_ms`.
- Optional objects may be ``null`` or of another type: :func:`optional_object`.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..models.types import utcnow

# --- integer ids and Unix seconds (Telegram, VK) ---------------------------------------------

_NUMERIC = re.compile(r"-?\d{1,19}")
_LIMIT = 2**63


def int_id(value: Any, name: str) -> int:
    """``value`` as an integer id, or :class:`ValueError` naming the field."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        number = int(value)
    else:
        raise ValueError(f"{name} is not an id: {str(value)[:40]!r}")
    if not -_LIMIT < number < _LIMIT:
        raise ValueError(f"{name} is out of range")
    return number


def optional_int_id(value: Any, name: str) -> int | None:
    """:func:`int_id`, with a missing value (``None``) allowed."""
    return None if value is None else int_id(value, name)


def loose_int_id(value: Any) -> int | None:
    """An id if ``value`` is one, else ``None``: for best-effort work that must not raise
    (resolving authors' names for a whole batch)."""
    try:
        return optional_int_id(value, "id")
    except ValueError:
        return None


def from_seconds(value: Any, name: str = "date") -> datetime | None:
    """A Unix timestamp (seconds) as an aware UTC datetime; missing or 0 is ``None``."""
    if value is None or value == 0 or value == "":
        return None
    seconds = int_id(value, name)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{name} is not a time: {seconds}") from None


def seconds_or_now(value: Any) -> datetime:
    """A Unix timestamp read leniently (the echo parsers: missing or 0 is now)."""
    return datetime.fromtimestamp(int(value), UTC) if value else utcnow()


# --- text ids and milliseconds (MAX, OK) ------------------------------------------------------


def text_id(value: Any) -> str | None:
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
        return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"not a timestamp: {value!r}"[:200]) from exc


def first_moment(*values: Any) -> datetime | None:
    """The first present timestamp among ``values`` (the message's own, then the update's)."""
    for value in values:
        moment = from_ms(value)
        if moment is not None:
            return moment
    return None
