"""Reply texts: placeholders, length limits per network, the public status link."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from ..models import Ticket
from ..networks import SPECS

#: characters per message, from each network's spec (``reply_limit``)
LIMITS = {key: spec.reply_limit for key, spec in SPECS.items() if spec.reply_limit is not None}
PLACEHOLDERS = ("name", "ticket", "department", "status_link")


def limit_for(platform: str) -> int | None:
    configured = current_app.config.get(f"REPLY_LIMIT_{platform.upper()}")
    return int(configured) if configured else LIMITS.get(platform)


def status_token(ticket_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"status:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:12]


def status_link(ticket: Ticket) -> str:
    """The public status page of the incident (unguessable: id plus an HMAC)."""
    base = current_app.config["DESK_PUBLIC_URL"].rstrip("/")
    return f"{base}/status/{ticket.id}-{status_token(ticket.id)}"


def values_for(ticket: Ticket, root: Ticket | None = None) -> dict[str, str]:
    """Placeholder values for one resident's thread; ``root`` holds the incident."""
    root = root or ticket
    return {
        "name": ticket.author_name or "",
        "ticket": str(root.id),
        "department": root.department.name if root.department else "",
        "status_link": status_link(root),
    }


def render(template: str, values: dict[str, str]) -> str:
    """Replace ``{name}``-style placeholders; unknown braces stay as written."""
    text = template
    for name in PLACEHOLDERS:
        text = text.replace("{" + name + "}", values.get(name, ""))
    return text.strip()


def too_long(text: str, platform: str) -> bool:
    limit = limit_for(platform)
    return limit is not None and len(text) > limit
