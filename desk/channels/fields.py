"""Reading ids and times out of a network's payload, strictly.

A normaliser accepts what the networks' own SDKs accept and nothing else: an id is an
integer or a numeric string (pydantic-based SDKs such as aiogram and vkbottle coerce
``"123"``), a time is a Unix timestamp. Anything else (``true``, ``1.5``, ``"abc"``,
an object, an id beyond 64 bits) raises :class:`ValueError`, which turns the update
into a dead letter an admin can read and replay, instead of a wrong ticket.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

_NUMERIC = re.compile(r"-?\d{1,19}")
_LIMIT = 2**63


def as_id(value: Any, name: str) -> int:
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


def optional_id(value: Any, name: str) -> int | None:
    """:func:`as_id`, with a missing value (``None``) allowed."""
    return None if value is None else as_id(value, name)


def loose_id(value: Any) -> int | None:
    """An id if ``value`` is one, else ``None``: for best-effort work that must not raise
    (resolving authors' names for a whole batch)."""
    try:
        return optional_id(value, "id")
    except ValueError:
        return None


def timestamp(value: Any, name: str = "date") -> datetime | None:
    """A Unix timestamp (seconds) as an aware UTC datetime; missing or 0 is ``None``."""
    if value is None or value == 0 or value == "":
        return None
    seconds = as_id(value, name)
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{name} is not a time: {seconds}") from None
