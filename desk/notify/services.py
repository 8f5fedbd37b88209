"""Notifications: create once, count unread, mark read, e-mail the unsent ones."""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import g, has_app_context
from sqlalchemy import CursorResult
from sqlalchemy.orm import selectinload

from ..auth.scope import can_see_ticket
from ..extensions import db
from ..models import Ticket, User, utcnow
from ..models.notifications import Notification
from .mail import send_mail

NoticeKey = tuple[int, int | None, str, int]  # (user_id, ticket_id, kind, level)


def notify(user: User, ticket: Ticket | None, kind: str, level: int, text: str,
           known: set[NoticeKey] | None = None) -> Notification | None:
    """Add a notification unless this user already has one for (ticket, kind, level).

    Batch callers pass ``known`` (see :func:`known_notices`) and flush themselves; a
    single call checks the database and flushes.
    """
    if kind in (user.muted_notices or []):
        return None  # the user chose not to be told this kind
    ticket_id = ticket.id if ticket is not None else None
    key = (user.id, ticket_id, kind, level)
    if known is not None:
        if key in known:
            return None
        known.add(key)
    elif db.session.scalar(db.select(Notification.id).where(
            Notification.user_id == user.id, Notification.ticket_id == ticket_id,
            Notification.kind == kind, Notification.level == level)) is not None:
        return None
    note = Notification(user_id=user.id, ticket_id=ticket_id, kind=kind, level=level, text=text)
    db.session.add(note)
    _forget_preloaded()
    if known is None:
        db.session.flush()
    return note


def known_notices(ticket_ids: list[int]) -> set[NoticeKey]:
    """The notices already sent about these tickets, in one query."""
    rows = db.session.execute(db.select(Notification.user_id, Notification.ticket_id, Notification.kind,
                                        Notification.level).where(Notification.ticket_id.in_(ticket_ids)))
    return {tuple(r) for r in rows}


PRELOADED_KEY = "desk_unread_notifications"  # (user id, count) on flask.g


def unread_count_column(user_id_column):
    """The unread count as a scalar subquery, for loading it with the user (one round trip)."""
    return (db.select(db.func.count(Notification.id))
            .where(Notification.user_id == user_id_column, Notification.read_at.is_(None))
            .scalar_subquery())


def preload_unread(user_id: int, count: int) -> None:
    if has_app_context():
        setattr(g, PRELOADED_KEY, (user_id, count))


def _forget_preloaded() -> None:
    if has_app_context():
        g.pop(PRELOADED_KEY, None)


def unread_count(user: User) -> int:
    """Unread notifications; the count the user loader fetched with the user this request
    when nothing was created or marked read since."""
    if has_app_context():
        preloaded = g.get(PRELOADED_KEY)
        if preloaded is not None and preloaded[0] == user.id:
            return preloaded[1]
    return db.session.scalar(db.select(db.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def recent(user: User, limit: int = 100) -> list[Notification]:
    return list(db.session.scalars(db.select(Notification).where(Notification.user_id == user.id)
                                   .options(selectinload(Notification.ticket))
                                   .order_by(Notification.id.desc()).limit(limit)))


def hidden_ids(user: User, notes: list[Notification]) -> set[int]:
    """Notices about tickets ``user`` may no longer see (moved to another department):
    the page shows them without the subject they quote and without a link."""
    return {n.id for n in notes if n.ticket is not None and not can_see_ticket(user, n.ticket)}


def recent_of_kind(user: User, kind: str | None, limit: int = 100) -> list[Notification]:
    if kind is None:
        return recent(user, limit)
    return list(db.session.scalars(db.select(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind).options(selectinload(Notification.ticket))
        .order_by(Notification.id.desc()).limit(limit)))


def unread_by_kind(user: User) -> list[tuple[str, int]]:
    """The user's unread notices grouped: one (kind, count) per kind, the largest first."""
    rows = db.session.execute(db.select(Notification.kind, db.func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).group_by(Notification.kind)).all()
    return sorted(((kind, count) for kind, count in rows), key=lambda r: (-r[1], r[0]))


def set_muted(user: User, kinds: list[str]) -> None:
    user.muted_notices = sorted(set(kinds))
    db.session.flush()


def mark_read(user: User, ids: list[int] | None = None, at: datetime | None = None,
              kind: str | None = None) -> int:
    """Mark the user's notifications read (all unread when ``ids`` is None; of one kind
    when ``kind`` is given)."""
    _forget_preloaded()
    query = db.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    if kind is not None:
        query = query.where(Notification.kind == kind)
    result = db.session.execute(query.values(read_at=at or utcnow()))
    # DELETE and UPDATE give a CursorResult; Session.execute() is typed for SELECTs.
    return cast(CursorResult[Any], result).rowcount or 0


def email_pending(ids: list[int], subject_for) -> int:
    """E-mail the given notifications that were not e-mailed yet; call after the commit
    that created them, and commit afterwards (``emailed_at`` guards against resending)."""
    sent = 0
    for note in db.session.scalars(db.select(Notification).where(
            Notification.id.in_(ids), Notification.emailed_at.is_(None))):
        if note.user is None or not note.user.is_active_user:
            continue
        if send_mail(note.user.email, subject_for(note), note.text):
            note.emailed_at = utcnow()
            sent += 1
    return sent
