"""What the ticket list pages (operator queue, department inbox) put on screen.

The pages differ only in their tabs, default status and which filters they offer;
this module builds their common template context from the query arguments.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app

from ..extensions import db
from ..models import Category, Department, Ticket, User, utcnow
from . import lookups
from .counts import search_counts, status_counts
from .queries import FilterError, QueueFilters, queue_page


def deadline_state(ticket: Ticket, now: datetime, tz: ZoneInfo) -> str:
    """``overdue`` / ``due-today`` (in the city's calendar) / empty, for open tickets, by
    the nearest running deadline (the reaction's or the resolution's)."""
    due = ticket.next_due_at
    if due is None or not ticket.is_open:
        return ""
    if due < now:
        return "overdue"
    if due.astimezone(tz).date() == now.astimezone(tz).date():
        return "due-today"
    return ""


class Option(NamedTuple):
    id: int
    name: str


def choices() -> dict[str, list[Option]]:
    """(id, name) of active departments and categories, for filter and routing selects.

    One UNION ALL (a database round trip costs more than these small tables' rows),
    cached in Redis for a minute and forgotten on any edit (``lookups``)."""

    def compute() -> list[list[Any]]:
        departments = db.select(db.literal("d").label("kind"), Department.id, Department.name) \
            .where(Department.is_active.is_(True))
        categories = db.select(db.literal("c").label("kind"), Category.id, Category.name) \
            .where(Category.is_active.is_(True))
        both = db.union_all(departments, categories).subquery()
        return [list(row) for row in db.session.execute(db.select(both).order_by(both.c.kind, both.c.name))]

    rows = lookups.cached("choices", compute)
    return {
        "department_options": [Option(id_, name) for kind, id_, name in rows if kind == "d"],
        "category_options": [Option(id_, name) for kind, id_, name in rows if kind == "c"],
    }


def list_context(user: User, args: Mapping[str, Any], *, default_status: Sequence[str],
                 tabs: Sequence[str]) -> dict[str, Any]:
    """Template context of a list page; ``errors`` is filled (and no rows shown) when the
    arguments are invalid."""
    errors: dict[str, str] = {}
    try:
        filters = QueueFilters.from_args(args, default_status=default_status)
    except FilterError as exc:
        errors = exc.errors
        filters = QueueFilters(status=tuple(default_status))
    page = None
    if not errors:
        try:
            page = queue_page(user, filters, args.get("cursor") or None,
                              current_app.config["QUEUE_PAGE_SIZE"], table_only=True)
        except FilterError as exc:
            errors = exc.errors
    now = utcnow()
    tz = ZoneInfo(current_app.config["DESK_TIMEZONE"])
    rows = page.rows if page else []
    counts = search_counts(user, filters.q) if filters.q else status_counts(user)
    return {
        "filters": filters,
        "errors": errors,
        "rows": rows,
        "next_cursor": page.next_cursor if page else None,
        "is_first_page": not args.get("cursor"),
        "deadline_states": {t.id: deadline_state(t, now, tz) for t in rows},
        "tabs": [(status, counts.get(status, 0)) for status in tabs],
        "total_count": sum(counts.values()),
        **choices(),
    }
