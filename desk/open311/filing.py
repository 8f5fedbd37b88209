"""``POST requests``: a city system files a resident's request; ``GET tokens/{token}``.

The fields are form-encoded (the spec), read once each (a field given twice is a 400).
The key is checked first (403), then the service (400 missing, 404 unknown), the location
(``lat`` with ``long``, or ``address_string``, or ``address_id``: at least one, as the spec
requires) and the rest. The request becomes a ticket through the one door
(:func:`desk.intake.services.file_appeal`): status ``new``, platform ``open311``, the
operator routes it like any comment. ``phone`` is accepted and not kept: nothing would
show it to the people who need it, and a number kept nowhere cannot leak.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..extensions import db
from ..intake.services import Filing, file_appeal
from ..links import MAX_URL, http_url
from ..models import Category, Platform
from ..models.intake import Open311Key, Submission
from . import records
from .catalog import active_service
from .params import MultiArgs, coordinate, single
from .render import Open311Error, bad_request, not_found

#: the spec's limit of a description
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 500
MAX_ADDRESS_ID = 200
MAX_NAME_PART = 150
MAX_EMAIL = 320
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_CODE = 100
MAX_ATTRIBUTE_VALUE = 1000
MAX_TOKEN = 64

_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")


@dataclass
class Posted:
    """A ``POST requests`` body, checked."""

    key: Open311Key
    category: Category
    description: str = ""
    lat: float | None = None
    long: float | None = None
    address: str = ""
    address_id: str = ""
    email: str = ""
    name: str = ""
    media_url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


def _bounded(args: MultiArgs, name: str, limit: int) -> str:
    value = single(args, name) or ""
    if len(value) > limit:
        raise bad_request(f"{name} is longer than {limit} characters")
    return value


def _service(args: MultiArgs) -> Category:
    code = single(args, "service_code")
    if code is None:
        raise bad_request("service_code was not provided")
    category = active_service(code)
    if category is None:
        raise not_found(f"service_code {code[:100]} was not found")
    return category


def _location(args: MultiArgs, posted: Posted) -> None:
    lat, long = single(args, "lat"), single(args, "long")
    if (lat is None) != (long is None):
        raise bad_request("lat and long must be given together")
    if lat is not None and long is not None:
        posted.lat = coordinate(lat, "lat", 90)
        posted.long = coordinate(long, "long", 180)
    posted.address = _bounded(args, "address_string", MAX_ADDRESS)
    posted.address_id = _bounded(args, "address_id", MAX_ADDRESS_ID)
    if posted.lat is None and not posted.address and not posted.address_id:
        raise bad_request("a location is required: lat and long, or address_string, or address_id")


def _email(args: MultiArgs) -> str:
    email = _bounded(args, "email", MAX_EMAIL)
    if not email:
        return ""
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise bad_request("email is not a valid e-mail address") from None


def _attributes(form: Any) -> dict[str, Any]:
    """``attribute[code]=value`` (and ``attribute[code][]=…`` for several values)."""
    found: dict[str, Any] = {}
    for name in form:
        match = _ATTRIBUTE.fullmatch(name)
        if match is None:
            continue
        code, many = match.group(1).strip(), match.group(2) is not None
        values = [v.strip() for v in form.getlist(name)]
        if not code or len(code) > MAX_ATTRIBUTE_CODE:
            raise bad_request(f"an attribute code must have 1 to {MAX_ATTRIBUTE_CODE} characters")
        if code in found or (len(values) > 1 and not many):
            raise bad_request(f"attribute[{code}] was given more than once; several values go in attribute[{code}][]")
        if len(values) > MAX_ATTRIBUTES or any(len(v) > MAX_ATTRIBUTE_VALUE for v in values):
            raise bad_request(f"attribute[{code}] is longer than the desk keeps")
        found[code] = values if many else values[0]
        if len(found) > MAX_ATTRIBUTES:
            raise bad_request(f"more than {MAX_ATTRIBUTES} attributes")
    return found


def read_post(form: Any, key: Open311Key) -> Posted:
    """Check the fields of a post by ``key`` (already authenticated)."""
    posted = Posted(key=key, category=_service(form))
    _location(form, posted)
    posted.description = _bounded(form, "description", MAX_DESCRIPTION)
    posted.email = _email(form)
    first = _bounded(form, "first_name", MAX_NAME_PART)
    last = _bounded(form, "last_name", MAX_NAME_PART)
    posted.name = " ".join(part for part in (first, last) if part)
    media_url = single(form, "media_url")
    if media_url is not None:
        if len(media_url) > MAX_URL or http_url(media_url) is None:
            raise bad_request(f"media_url must be an http:// or https:// URL of at most {MAX_URL} characters")
        posted.media_url = media_url
    for name in ("jurisdiction_id", "device_id", "account_id", "phone"):
        single(form, name)  # accepted once (phone is not kept)
    posted.attributes = _attributes(form)
    return posted


def file(posted: Posted) -> dict[str, Any]:
    """File ``posted`` as a ticket (only flushes); the spec's answer to the post."""
    ticket, submission = file_appeal(Filing(
        channel=Platform.OPEN311.value, description=posted.description or posted.category.name,
        category=posted.category, name=posted.name, email=posted.email, address=posted.address,
        address_id=posted.address_id, lat=posted.lat, long=posted.long, media_url=posted.media_url,
        attributes=posted.attributes, open311_key=posted.key, consent=True, with_token=True))
    return {"service_request_id": str(ticket.id), "token": submission.token, "service_notice": "",
            "account_id": None}


def by_token(token: str) -> dict[str, Any]:
    """``GET tokens/{token}``: the request a token stands for, while it is public."""
    submission = None
    if 0 < len(token) <= MAX_TOKEN:
        submission = db.session.scalars(db.select(Submission).where(Submission.token == token)).first()
    if submission is None or records.find_one(submission.ticket_id) is None:
        raise Open311Error(404, "token was not found")
    return {"service_request_id": str(submission.ticket_id), "token": submission.token}
