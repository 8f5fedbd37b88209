"""The undo toast: after an action that is easy to get wrong (spam, not an appeal, merge,
discarding a dead letter) the next page shows its confirmation with an "Undo" button that
posts the reverse action. Friendlier than a confirm dialog before every click.

The offer lives in the session until the next page renders it (once).
"""
from __future__ import annotations

from typing import Any

from flask import session

KEY = "desk_undo"


def offer_undo(text: str, url: str, **fields: Any) -> None:
    """Show ``text`` with an "Undo" button posting ``fields`` to ``url`` on the next page."""
    session[KEY] = {"text": str(text), "url": url,
                    "fields": {k: [str(x) for x in (v if isinstance(v, list | tuple) else [v])]
                               for k, v in fields.items()}}


def take_undo() -> dict[str, Any] | None:
    offer = session.pop(KEY, None)
    return offer if isinstance(offer, dict) else None
