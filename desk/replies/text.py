"""Reply texts: placeholders, length limits per network, the public status link."""
from __future__ import annotations

from flask import current_app

from ..models import Ticket
from ..networks import SPECS
from ..status_page.tokens import status_link as status_link
from ..status_page.tokens import status_token as status_token

#: characters per message, from each network's spec (``reply_limit``)
LIMITS = {key: spec.reply_limit for key, spec in SPECS.items() if spec.reply_limit is not None}
PLACEHOLDERS = ("name", "ticket", "department", "status_link")


def limit_for(platform: str) -> int | None:
    configured = current_app.config.get(f"REPLY_LIMIT_{platform.upper()}")  # declared per spec
    return int(configured) if configured else None


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
