"""The definitions of the report's figures as SQL conditions on ticket columns.

Reacted on time: the first public reply came no later than ``reaction_due_at``. A
ticket without a reply whose reaction deadline has passed is a miss; one whose deadline
is still ahead is pending and counts neither way. Resolved on time: ``resolved_at``
(``closed_at`` for a ticket closed without a resolve) no later than
``resolution_due_at``; an unresolved ticket past its deadline is a miss. Tickets
without a deadline are not measured. Not-appeal, spam and merged tickets never count.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..extensions import db
from ..models import Ticket, TicketStatus

T = Ticket
FINISHED_AT = db.func.coalesce(T.resolved_at, T.closed_at)

# Backlog age buckets: (key, lower bound in days, upper bound in days or None).
AGE_BUCKETS = (("lt1", 0, 1), ("1to3", 1, 3), ("3to7", 3, 7), ("7to30", 7, 30), ("gt30", 30, None))


def outcome_conditions(now: datetime) -> dict[str, object]:
    """Every countable outcome by name (also the drill-down's ``metric`` argument)."""
    r_due, s_due = T.reaction_due_at, T.resolution_due_at
    return {
        "total": db.true(),
        "open": T.status.in_(TicketStatus.open_values()),
        "breached": T.sla_breached.is_(True),
        "reaction_on_time": db.and_(r_due.is_not(None), T.first_reply_at <= r_due),
        "reaction_missed": db.and_(r_due.is_not(None), db.or_(
            T.first_reply_at > r_due, db.and_(T.first_reply_at.is_(None), r_due < now))),
        "reaction_pending": db.and_(r_due >= now, T.first_reply_at.is_(None)),
        "resolution_on_time": db.and_(s_due.is_not(None), s_due >= FINISHED_AT),
        "resolution_missed": db.and_(s_due.is_not(None), db.or_(
            s_due < FINISHED_AT, db.and_(FINISHED_AT.is_(None), s_due < now))),
        "resolution_pending": db.and_(s_due >= now, FINISHED_AT.is_(None)),
        "reacted": T.first_reply_at.is_not(None),
        "resolved": T.resolved_at.is_not(None),
    }


OUTCOMES = tuple(outcome_conditions(datetime(2000, 1, 1, tzinfo=UTC)).keys())


def age_condition(bucket: str, now: datetime) -> object:
    """Open tickets whose age falls in the backlog bucket ``bucket``."""
    for key, low, high in AGE_BUCKETS:
        if key == bucket:
            conds = [T.status.in_(TicketStatus.open_values()), T.created_at <= now - timedelta(days=low)]
            if high is not None:
                conds.append(T.created_at > now - timedelta(days=high))
            return db.and_(*conds)
    raise KeyError(bucket)


def epoch_seconds(column, dialect: str):
    """Seconds since 1970 of a timestamp column, as SQL for the dialect (a double:
    ``date_part`` rather than ``extract``, which returns the slower numeric)."""
    if dialect == "postgresql":
        return db.func.date_part("epoch", column)
    return (db.func.julianday(column) - 2440587.5) * 86400.0


def duration_seconds(end_column, dialect: str):
    """``end_column - created_at`` in seconds."""
    if dialect == "postgresql":
        return db.func.date_part("epoch", end_column - T.created_at)
    return (db.func.julianday(end_column) - db.func.julianday(T.created_at)) * 86400.0


def local_day_number(dialect: str, offset_seconds: int):
    """Days since 1970-01-01 of ``created_at`` in local time, for a span of constant
    UTC offset: plain arithmetic, cheaper than a time zone conversion per row."""
    days = (epoch_seconds(T.created_at, dialect) + offset_seconds) / 86400
    # SQLite's floor() needs the optional math functions; CAST truncates, the same after 1970.
    return db.func.floor(days) if dialect == "postgresql" else db.cast(days, db.Integer)
