"""Translatable names of the report's figures, dimensions and age buckets."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

DIMENSION_TITLES = {
    "department": _l("Department"),
    "direction": _l("Direction"),
    "category": _l("Category"),
    "platform": _l("Network"),
}
DIMENSION_HEADINGS = {
    "department": _l("By department"),
    "direction": _l("By direction"),
    "category": _l("By category"),
    "platform": _l("By network"),
}
AGE_LABELS = {
    "lt1": _l("under 1 day"),
    "1to3": _l("1–3 days"),
    "3to7": _l("3–7 days"),
    "7to30": _l("7–30 days"),
    "gt30": _l("over 30 days"),
}
METRIC_LABELS = {
    "total": _l("Tickets"),
    "open": _l("Open"),
    "breached": _l("Deadline missed (escalated)"),
    "reaction_on_time": _l("Reacted on time"),
    "reaction_missed": _l("Reaction missed"),
    "reaction_pending": _l("Reaction pending"),
    "resolution_on_time": _l("Resolved on time"),
    "resolution_missed": _l("Resolution missed"),
    "resolution_pending": _l("Resolution pending"),
    "reacted": _l("With a reply"),
    "resolved": _l("Resolved"),
    "backlog": _l("Backlog"),
}
# Export columns of a tally, in order (see tables.tally_cells).
TALLY_HEADERS = (
    _l("Tickets"), _l("Open"), _l("Reacted on time"), _l("Reaction missed"), _l("Reaction pending"),
    _l("Share reacted on time"), _l("Resolved on time"), _l("Resolution missed"), _l("Resolution pending"),
    _l("Share resolved on time"), _l("Deadline missed (escalated)"),
)
