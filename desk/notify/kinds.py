"""Every kind of notification the desk sends, with its label (one place: the page groups
and filters by these, and each user chooses which ones they receive)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: kind -> label, in the order the settings list them
KINDS = {
    "reaction_warning": _l("Reaction deadline is near"),
    "reaction_breach": _l("Reaction deadline missed"),
    "resolution_warning": _l("Resolution deadline is near"),
    "resolution_breach": _l("Resolution deadline missed"),
    "reply_returned": _l("My answer was sent back"),
    "reply_failed": _l("My answer could not be posted"),
}


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))
