"""Human labels of the domain's enums, translatable (Russian by default)."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .models.types import Priority, Role, TicketStatus
from .networks import SPECS

# Status, priority and role labels are declared on their enums (desk.models.types); the
# English label is the msgid of the translation.
STATUS = {s.value: _l(s.label) for s in TicketStatus}
PRIORITY = {p.value: _l(p.label) for p in Priority}
# Each network names itself in its spec; the web form and Open311 are sources without one.
PLATFORM = {**{key: spec.label for key, spec in SPECS.items()}, "web": _l("Website"), "open311": "Open311"}
DIRECTION = {
    "housing": _l("Housing and utilities"),
    "education": _l("Education"),
    "culture": _l("Culture"),
    "sport": _l("Sport"),
    "public_associations": _l("Public associations"),
    "social": _l("Social structures"),
    "business": _l("Business"),
    "authorities": _l("Authorities"),
}
ROLE = {r.value: _l(r.label) for r in Role}
# Names of the list and report filter fields, for "these filters were not applied" messages.
FILTER_FIELD = {
    "status": _l("Status"), "platform": _l("Network"), "direction": _l("Direction"),
    "department": _l("Department"), "category": _l("Category"), "priority": _l("Priority"),
    "overdue": _l("Overdue only"), "unassigned": _l("Unassigned only"), "q": _l("Search"), "sort": _l("Sort"),
    "cursor": _l("Page"), "from": _l("From"), "to": _l("To"), "period": _l("Period"), "metric": _l("Figure"),
    "age": _l("Age"),
}
EVENT = {
    "created": _l("Ticket opened"),
    "message": _l("Resident wrote again"),
    "message_edited": _l("Message edited by the resident"),
    "message_deleted": _l("Message deleted on the network"),
    "message_restored": _l("Message restored on the network"),
    "status": _l("Status changed"),
    "field": _l("Changed"),
    "note": _l("Internal note"),
    "merge": _l("Merged into another ticket"),
    "merge_in": _l("Another ticket merged in"),
    "unmerge": _l("Separated from the incident"),
    "unmerge_out": _l("A merged ticket was separated"),
    "sla_warning": _l("Deadline is near"),
    "sla_breach": _l("Deadline missed"),
    "status_link": _l("Status page link changed"),
}
FIELD = {
    "status": _l("status"),
    "category_id": _l("category"),
    "department_id": _l("department"),
    "assignee_id": _l("assignee"),
    "priority": _l("priority"),
    "draft_answer": _l("draft answer"),
    "merged_into_id": _l("merged into"),
    "text": _l("text"),
    "status_link_version": _l("status page link"),
}
ALL = {"status": STATUS, "priority": PRIORITY, "platform": PLATFORM, "direction": DIRECTION,
       "role": ROLE, "event": EVENT, "field": FIELD}


# {(locale, kind): {value: translated text}}: a lazy string costs a catalog lookup
# through Flask-Babel's request context each time it is rendered, and a list page
# renders a few hundred of them.
_RESOLVED: dict[tuple[str, str], dict[str, str]] = {}


def resolved(kind: str) -> dict[str, str]:
    """The labels of ``kind`` as plain strings in the current locale (cached per locale)."""
    locale = get_locale()
    if locale is None:  # outside a request: nothing to key the cache on
        return {key: str(text) for key, text in ALL[kind].items()}
    key = (str(locale), kind)
    table = _RESOLVED.get(key)
    if table is None or len(table) != len(ALL[kind]):  # labels may be added at import time
        table = _RESOLVED[key] = {k: str(text) for k, text in ALL[kind].items()}
    return table


CSS = {"status": {s.value: s.css for s in TicketStatus}, "priority": {p.value: p.css for p in Priority}}


def css(kind: str, value) -> str:
    """The badge class of a status or a priority (declared on the enum)."""
    return "" if value is None else CSS[kind].get(getattr(value, "value", value), "")


def label(kind: str, value) -> str:
    if value is None:
        return "—"
    value = str(value)
    text = resolved(kind).get(value)
    return value if text is None else text
