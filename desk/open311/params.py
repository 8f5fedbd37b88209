"""Reading GeoReport v2 parameters: each refusal is a 400 in the spec's shape.

A parameter that takes one value and is given twice is refused (which one did the client
mean?); the list parameters (``service_request_id``, ``service_code``, ``status``) are
comma-delimited and "may be declared multiple times", so repeats add to the list.
Datetimes follow the w3 note the spec cites (``2010-01-01T00:00:00Z``, also a bare date,
month or year; a missing offset is the city's time zone).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Protocol

from .render import bad_request

#: items of one list parameter
MAX_LIST_ITEMS = 1000
MAX_NUMBER_DIGITS = 18


class MultiArgs(Protocol):
    def getlist(self, key: str) -> list[str]: ...


def single(args: MultiArgs, name: str) -> str | None:
    """The one value of ``name``, stripped; None when absent or empty."""
    values = args.getlist(name)
    if len(values) > 1:
        raise bad_request(f"{name} was given {len(values)} times; give it once")
    value = values[0].strip() if values else ""
    return value or None


def comma_list(args: MultiArgs, name: str) -> list[str] | None:
    """The items of a comma-delimited list parameter (repeats add to it), in order,
    without duplicates; None when the parameter is absent or holds nothing."""
    items: list[str] = []
    for value in args.getlist(name):
        for item in value.split(","):
            item = item.strip()
            if item and item not in items:
                items.append(item)
                if len(items) > MAX_LIST_ITEMS:
                    raise bad_request(f"{name} lists more than {MAX_LIST_ITEMS} values")
    return items or None


def whole_number(raw: str, name: str, minimum: int = 1) -> int:
    """A whole decimal number of at least ``minimum``; one of more than 18 digits reads
    as 10**18 (larger than anything it is compared with)."""
    if not (raw.isascii() and raw.isdigit()) or int(raw[:MAX_NUMBER_DIGITS + 1]) < minimum:
        raise bad_request(f"{name} must be a whole number of at least {minimum}")
    return int(raw) if len(raw) <= MAX_NUMBER_DIGITS else 10**MAX_NUMBER_DIGITS


def coordinate(raw: str, name: str, limit: float) -> float:
    """A decimal degree within ±``limit`` (WGS84)."""
    try:
        value = float(raw) if len(raw) <= 40 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise bad_request(f"{name} must be a decimal number of degrees from -{limit:g} to {limit:g}")
    return value


# --- w3 datetimes -------------------------------------------------------------------------

_W3 = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?)?)?)?", re.ASCII)
# A "+" written unencoded in a query string arrives as a space: "…T08:15:30 09:00".
_PLUS_AS_SPACE = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}:?\d{2})$", re.ASCII)


@dataclass(frozen=True)
class Moment:
    """A w3 datetime as the span it names: ``2026-03`` is the whole month."""

    start: datetime
    #: the first instant after the span (exclusive)
    after: datetime


def _zone(text: str | None, city: tzinfo) -> tzinfo:
    if text is None:
        return city
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def w3_datetime(raw: str, name: str, city: tzinfo) -> Moment:
    """Parse a w3 datetime (see the module's docstring) into the span it names, in UTC."""
    text = _PLUS_AS_SPACE.sub(r"\1+\2", raw.strip())
    match = _W3.fullmatch(text) if len(text) <= 40 else None
    if match is None:
        raise bad_request(f"{name} must be a w3 datetime such as 2010-01-01T00:00:00Z")
    part = match.groupdict()
    try:
        zone = _zone(part["zone"], city)
        fraction = (part["fraction"] or "").ljust(6, "0")[:6]
        start = datetime(int(part["year"]), int(part["month"] or 1), int(part["day"] or 1),
                         int(part["hour"] or 0), int(part["minute"] or 0), int(part["second"] or 0),
                         int(fraction or 0), tzinfo=zone)
        if part["month"] is None:
            after = _add_months(start, 12)
        elif part["day"] is None:
            after = _add_months(start, 1)
        elif part["hour"] is None:
            after = start + timedelta(days=1)
        elif part["second"] is None:
            after = start + timedelta(minutes=1)
        elif part["fraction"] is None:
            after = start + timedelta(seconds=1)
        else:
            after = start + timedelta(microseconds=1)
        return Moment(start.astimezone(UTC), after.astimezone(UTC))
    except (ValueError, OverflowError):
        raise bad_request(f"{name} is not a real date and time: {raw.strip()[:40]}") from None

