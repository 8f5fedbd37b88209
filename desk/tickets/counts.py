"""Ticket counts for tabs and the overview: one GROUP BY each, cached briefly in Redis.

At a million tickets a GROUP BY over ``ix_tickets_status_id`` /
``ix_tickets_department_status_id`` is an index-only scan, but every page view would
still pay it; a 15-second cache per user scope makes it free for busy queues. The
cache is a convenience: when Redis is down the counts are computed directly.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from redis.exceptions import RedisError
from sqlalchemy.orm import joinedload

from ..auth.scope import STAFF_WITH_ALL_TICKETS, ticket_scope
from ..extensions import db
from ..models import Department, Role, Ticket, TicketStatus, User, utcnow
from ..queue import get_redis
from .queries import QueueFilters

CACHE_SECONDS = 15
CACHE_PREFIX = "desk:lists:"
log = logging.getLogger(__name__)
T = TypeVar("T")


def scope_key(user: User) -> str:
    """Users who see the same tickets share one cache entry."""
    if user.role in STAFF_WITH_ALL_TICKETS:
        return "all"
    if user.role == Role.DEPARTMENT_HEAD.value and user.department_id is not None:
        return f"dept:{user.department_id}"
    return "none"


def cached(key: str, compute: Callable[[], T], seconds: int = CACHE_SECONDS) -> T:
    """``compute()`` through a JSON cache entry in Redis living ``seconds``."""
    full_key = CACHE_PREFIX + key
    try:
        hit = get_redis().get(full_key)
        if hit is not None:
            return cast(T, json.loads(hit))  # what compute() returned, as JSON gives it back
    except RedisError:
        log.warning("list count cache unavailable; counting directly", exc_info=True)
        return compute()
    value = compute()
    try:
        get_redis().set(full_key, json.dumps(value), ex=seconds)
    except RedisError:
        log.warning("list count cache unavailable", exc_info=True)
    return value


def status_counts(user: User) -> dict[str, int]:
    """How many tickets ``user`` may see in each status."""

    def compute() -> dict[str, int]:
        rows = db.session.execute(
            db.select(Ticket.status, db.func.count()).where(ticket_scope(user)).group_by(Ticket.status)
        )
        return {status: count for status, count in rows}

    return cached(f"status:{scope_key(user)}", compute)


def search_counts(user: User, q: str) -> dict[str, int]:
    """How many tickets ``user`` may see in each status among those the search ``q`` finds
    (the status tabs follow the search; not cached: every search is its own)."""
    where = QueueFilters(q=q).conditions()
    rows = db.session.execute(
        db.select(Ticket.status, db.func.count()).where(ticket_scope(user), *where).group_by(Ticket.status))
    return {status: count for status, count in rows}


def department_counts() -> list[dict[str, Any]]:
    """Open tickets per department and status, with overdue counts (all departments).

    Tickets without a department (not routed yet) come as ``department_id: None``.
    Sorted by the number of open tickets, largest first.
    """

    def compute() -> list[dict[str, Any]]:
        by_status = db.session.execute(
            db.select(Ticket.department_id, Ticket.status, db.func.count())
            .where(Ticket.status.in_(TicketStatus.open_values()))
            .group_by(Ticket.department_id, Ticket.status)
        )
        overdue = dict(db.session.execute(
            db.select(Ticket.department_id, db.func.count())
            .where(Ticket.status.in_(TicketStatus.open_values()), Ticket.next_due_at < utcnow())
            .group_by(Ticket.department_id)
        ).all())
        names = dict(db.session.execute(db.select(Department.id, Department.name)).all())
        table: dict[int | None, dict[str, Any]] = {}
        for dept_id, status, count in by_status:
            row = table.setdefault(dept_id, {"department_id": dept_id, "name": names.get(dept_id),
                                             "statuses": {}, "open": 0, "overdue": overdue.get(dept_id, 0)})
            row["statuses"][status] = count
            row["open"] += count
        return sorted(table.values(), key=lambda r: (-r["open"], r["name"] or ""))

    return cached("departments", compute)


def oldest_open(user: User, limit: int = 20) -> list[Ticket]:
    """The ``limit`` oldest open tickets ``user`` may see (not cached: rows link to cards)."""
    return list(db.session.scalars(
        db.select(Ticket)
        .where(ticket_scope(user), Ticket.status.in_(TicketStatus.open_values()))
        .options(joinedload(Ticket.department), joinedload(Ticket.category))
        .order_by(Ticket.created_at.asc(), Ticket.id.asc())
        .limit(limit)
    ))
