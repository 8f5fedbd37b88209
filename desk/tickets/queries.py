"""Ticket list queries shared by the pages (queue, inbox) and the JSON API.

Free of Flask request globals: callers pass a mapping of arguments and the user.
Pagination is keyset (never OFFSET): the cursor is an opaque string holding the sort
key and id of the last row shown, so a page costs the same at row 50 and row 500 000.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import joinedload, load_only
from sqlalchemy.orm.interfaces import LoaderOption
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.selectable import CompoundSelect

from ..auth.scope import ticket_scope
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    Category,
    Department,
    Direction,
    Platform,
    Priority,
    Ticket,
    TicketStatus,
    User,
    utcnow,
)
from ..refusals import DeskError
from ..web_input import DB_INT_MAX, parse_id
from .search import search_condition, ticket_number

SORTS = ("newest", "deadline")
MAX_LIMIT = 200
MAX_QUERY = 200
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class FilterError(DeskError):
    """Invalid list arguments; ``errors`` maps each bad field name to a message."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(_l("some query parameters are not acceptable"), fields=errors)
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.field_messages().items())


def _values(args: Mapping[str, Any], name: str) -> list[str]:
    """All values of ``name`` from a MultiDict, a dict of lists or comma-separated text."""
    if hasattr(args, "getlist"):
        raw = args.getlist(name)
    else:
        value = args.get(name)
        raw = [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]
    out: list[str] = []
    for item in raw:
        out.extend(part.strip() for part in str(item).split(","))
    return [v for v in out if v]


def _one(args: Mapping[str, Any], name: str) -> str:
    values = _values(args, name)
    return values[-1] if values else ""


@dataclass(frozen=True)
class QueueFilters:
    """What a ticket list shows. Empty fields do not filter."""

    status: tuple[str, ...] = ()
    platform: str | None = None
    direction: str | None = None
    department_id: int | None = None
    category_id: int | None = None
    priority: str | None = None
    overdue: bool = False
    unassigned: bool = False
    q: str = ""
    sort: str = "newest"

    @classmethod
    def from_args(cls, args: Mapping[str, Any], default_status: Sequence[str] = ()) -> QueueFilters:
        """Parse and validate list arguments; raise :class:`FilterError` naming bad fields.

        ``status`` may repeat or be comma-separated; ``status=all`` (or none, when no
        ``default_status`` is given) means every status.
        """
        errors: dict[str, str] = {}

        statuses = _values(args, "status")
        if not statuses:
            statuses = list(default_status)
        elif "all" in statuses:
            statuses = []
        bad = [s for s in statuses if s not in TicketStatus.values()]
        if bad:
            errors["status"] = _l("unknown status: %(values)s", values=", ".join(bad))

        def choice(name: str, allowed: list[str]) -> str | None:
            value = _one(args, name)
            if value and value not in allowed:
                errors[name] = _l("must be one of %(values)s", values=", ".join(allowed))
            return value or None

        def number(name: str) -> int | None:
            value = _one(args, name)
            if not value:
                return None
            parsed = parse_id(value)
            if parsed is None:
                errors[name] = _l("must be a positive integer")
            return parsed

        def flag(name: str) -> bool:
            value = _one(args, name).lower()
            if value not in _TRUE | _FALSE:
                errors[name] = _l("must be 1 or 0")
            return value in _TRUE

        q = " ".join(str(args.get("q") or "").split())
        if len(q) > MAX_QUERY:
            errors["q"] = _l("at most %(limit)s characters", limit=MAX_QUERY)
        sort = _one(args, "sort") or "newest"
        if sort not in SORTS:
            errors["sort"] = _l("must be one of %(values)s", values=", ".join(SORTS))

        filters = cls(
            status=tuple(dict.fromkeys(statuses)),
            platform=choice("platform", Platform.values()),
            direction=choice("direction", Direction.values()),
            department_id=number("department"),
            category_id=number("category"),
            priority=choice("priority", Priority.values()),
            overdue=flag("overdue"),
            unassigned=flag("unassigned"),
            q=q,
            sort=sort,
        )
        if errors:
            raise FilterError(errors)
        return filters

    def to_args(self, **overrides: object) -> dict[str, object]:
        """The query arguments that reproduce these filters (for links), minus empties."""
        args: dict[str, object] = {
            "status": list(self.status) or ["all"],
            "platform": self.platform,
            "direction": self.direction,
            "department": self.department_id,
            "category": self.category_id,
            "priority": self.priority,
            "overdue": 1 if self.overdue else None,
            "unassigned": 1 if self.unassigned else None,
            "q": self.q or None,
            "sort": self.sort if self.sort != "newest" else None,
        }
        args.update(overrides)
        return {k: v for k, v in args.items() if v not in (None, "", [])}

    def conditions(self, now: datetime | None = None) -> list[ColumnElement[bool] | TextClause]:
        """SQL conditions for these filters (the user's scope is added separately)."""
        conds: list[ColumnElement[bool] | TextClause] = []
        if self.status:
            conds.append(Ticket.status.in_(self.status))
        if self.platform:
            conds.append(Ticket.platform == self.platform)
        if self.direction:
            conds.append(Ticket.direction == self.direction)
        if self.department_id is not None:
            conds.append(Ticket.department_id == self.department_id)
        if self.category_id is not None:
            conds.append(Ticket.category_id == self.category_id)
        if self.priority:
            conds.append(Ticket.priority == self.priority)
        if self.overdue:  # either clock: a missed reaction is as overdue as a missed resolution
            conds.append(Ticket.next_due_at < (now or utcnow()))
            conds.append(Ticket.status.in_(TicketStatus.open_values()))
        if self.unassigned:
            conds.append(Ticket.assignee_id.is_(None))
        if not self.q:
            return conds
        number, exact = ticket_number(self.q)
        if exact:  # "#123": that ticket, in whatever status, whatever the other filters
            return [Ticket.id == number]
        words = search_condition(self.q, with_number=False)
        if number is None:
            return [*conds, words]
        # A bare number is a house number or a ticket's: the ticket is found in any status.
        return [db.or_(db.and_(*conds, words) if conds else words, Ticket.id == number)]


# --- cursor -----------------------------------------------------------------------------

def encode_cursor(sort: str, ticket: Ticket) -> str:
    key = None
    if sort == "deadline" and ticket.next_due_at is not None:
        key = ticket.next_due_at.isoformat()
    raw = json.dumps([sort, key, ticket.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[datetime | None, int]:
    """Return (deadline key, id) of a cursor made for ``sort``; FilterError if it is bad."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cur_sort, key, ticket_id = json.loads(raw)
        if cur_sort != sort or not isinstance(ticket_id, int):
            raise ValueError("cursor of another sort")
        if not 0 < ticket_id <= DB_INT_MAX:  # a forged id no integer column holds
            raise ValueError("cursor id out of range")
        when = datetime.fromisoformat(key) if key is not None else None
        if when is not None and when.tzinfo is None:
            raise ValueError("naive cursor time")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise FilterError({"cursor": _l("invalid or expired cursor")}) from exc
    return when, ticket_id


def _after_cursor(sort: str, cursor: str) -> ColumnElement[bool]:
    when, last_id = decode_cursor(cursor, sort)
    if sort == "newest":
        return Ticket.id < last_id
    due = Ticket.next_due_at
    after: ColumnElement[bool]
    if when is None:  # already in the trailing block of tickets without a deadline
        after = db.and_(due.is_(None), Ticket.id > last_id)
    else:
        after = db.or_(due > when, db.and_(due == when, Ticket.id > last_id), due.is_(None))
    return after


# --- pages ------------------------------------------------------------------------------

@dataclass
class QueuePage:
    rows: list[Ticket]
    next_cursor: str | None
    filters: QueueFilters = field(default_factory=QueueFilters)


def _deadline_candidates(user: User, filters: QueueFilters, cursor: str | None,
                         size: int) -> CompoundSelect[int]:
    """Ids of the first ``size`` tickets by deadline in each status, in one UNION ALL.

    Each branch walks ``ix_tickets_status_next_due`` in order and stops after ``size`` rows;
    the page is among them. One ORDER BY over several statuses would instead walk
    ``ix_tickets_next_due_id`` through every closed ticket with an earlier deadline (seconds
    on PostgreSQL at a million tickets)."""
    branches = []
    for status in filters.status:
        branch = db.select(Ticket.id).where(ticket_scope(user), *filters.conditions(), Ticket.status == status)
        if cursor:
            branch = branch.where(_after_cursor(filters.sort, cursor))
        ordered = branch.order_by(Ticket.next_due_at.asc().nulls_last(), Ticket.id.asc()).limit(size)
        sub = ordered.subquery()
        branches.append(db.select(sub.c.id))
    candidates: CompoundSelect[int] = db.union_all(*branches)
    return candidates


# What a row of the HTML ticket table shows (and its deadline state and the cursor use):
# the pages load only these, a third of the ticket's columns.
TABLE_COLUMNS = (Ticket.id, Ticket.status, Ticket.priority, Ticket.subject, Ticket.platform, Ticket.author_name,
                 Ticket.message_count, Ticket.created_at, Ticket.resolution_due_at, Ticket.sla_paused_at,
                 Ticket.next_due_at, Ticket.reaction_due_at, Ticket.reacted_at,
                 Ticket.category_id, Ticket.department_id, Ticket.assignee_id)


def _row_options(table_only: bool) -> list[LoaderOption]:
    if not table_only:
        return [joinedload(Ticket.category), joinedload(Ticket.department), joinedload(Ticket.assignee)]
    return [load_only(*TABLE_COLUMNS),
            joinedload(Ticket.category).load_only(Category.name),
            joinedload(Ticket.department).load_only(Department.name),
            joinedload(Ticket.assignee).load_only(User.name, User.email)]


def queue_page(user: User, filters: QueueFilters, cursor: str | None = None, limit: int = 50,
               table_only: bool = False) -> QueuePage:
    """One page of the tickets ``user`` may see, filtered and sorted, with the cursor of
    the next page (``None`` on the last page). ``table_only`` loads just the columns the
    HTML table shows (other attributes would load lazily, one query per row)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    query = (
        db.select(Ticket)
        .where(ticket_scope(user), *filters.conditions())
        .options(*_row_options(table_only))
    )
    if cursor:
        query = query.where(_after_cursor(filters.sort, cursor))
    if filters.sort == "deadline" and len(filters.status) > 1:
        query = query.where(Ticket.id.in_(_deadline_candidates(user, filters, cursor, limit + 1)))
    if filters.sort == "deadline":
        query = query.order_by(Ticket.next_due_at.asc().nulls_last(), Ticket.id.asc())
    else:
        query = query.order_by(Ticket.id.desc())
    rows = list(db.session.scalars(query.limit(limit + 1)).unique())
    next_cursor = encode_cursor(filters.sort, rows[limit - 1]) if len(rows) > limit else None
    return QueuePage(rows=rows[:limit], next_cursor=next_cursor, filters=filters)
