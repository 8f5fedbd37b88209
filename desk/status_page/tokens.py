"""The public status link: ``<DESK_PUBLIC_URL>/status/<id>-<token>``.

The token is an HMAC (SECRET_KEY) over the ticket's id and its ``status_link_version``.
Version 0 signs exactly what the first links signed (``status:<id>``), so links already
posted keep working; an administrator's rotation adds one and the old link stops
working. Checked in constant time.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from ..models import Ticket

TOKEN_LENGTH = 12


def status_token(ticket_id: int, version: int = 0) -> str:
    """The token of ticket ``ticket_id``'s link at ``version``."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"status:{ticket_id}" if version == 0 else f"status:{ticket_id}:v{version}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def token_matches(ticket_id: int, version: int, given: str) -> bool:
    """Whether ``given`` is the current token (constant-time comparison)."""
    return hmac.compare_digest(status_token(ticket_id, version).encode(), given.encode("utf-8", "replace"))


def status_path(ticket: Ticket) -> str:
    return f"/status/{ticket.id}-{status_token(ticket.id, ticket.status_link_version or 0)}"


def status_link(ticket: Ticket) -> str:
    """The absolute public link of ``ticket``'s status page (from DESK_PUBLIC_URL)."""
    return current_app.config["DESK_PUBLIC_URL"].rstrip("/") + status_path(ticket)
