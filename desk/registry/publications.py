"""Publication monitoring: the city's own posts per account, silence, and what they raise."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select

from ..extensions import db
from ..i18n import city_today
from ..models import Account, Message, MessageDirection, Post, Ticket, TicketStatus, utcnow
from .directory import active_accounts

SORTS = ("posts", "comments", "appeals")
NOT_APPEALS = (TicketStatus.NOT_APPEAL.value, TicketStatus.SPAM.value)


@dataclass
class PublicationRow:
    account: Account
    posts: int
    comments: int
    appeals: int
    last_post_at: datetime | None
    stale: bool

    @property
    def comments_per_post(self) -> float | None:
        return self.comments / self.posts if self.posts else None


def stale_days() -> int:
    return int(current_app.config["PUBLICATION_STALE_DAYS"])


def window_start(days: int, today: date | None = None) -> datetime:
    """UTC instant of the city's midnight that opens a window of ``days`` days ending today."""
    tz = ZoneInfo(current_app.config["DESK_TIMEZONE"])
    first = (today or city_today()) - timedelta(days=days - 1)
    return datetime.combine(first, time(0), tzinfo=tz).astimezone(ZoneInfo("UTC"))


def _by_account(query: Select[Any]) -> dict[int, Any]:
    """One aggregate per account: a count, or the raw max() that :func:`_aware` reads."""
    return {account_id: value for account_id, value in db.session.execute(query).all()}


def publication_report(days: int, *, direction: str | None = None, network: str | None = None,
                       sort: str = "posts", now: datetime | None = None, today: date | None = None,
                       stale_after: int | None = None) -> list[PublicationRow]:
    now = now or utcnow()
    since = window_start(days, today)
    stale_after = stale_days() if stale_after is None else stale_after
    accounts = active_accounts(network, direction)
    ids = [a.id for a in accounts]
    posted = db.func.coalesce(Post.posted_at, Post.created_at)
    posts = _by_account(db.select(Post.account_id, db.func.count()).where(Post.account_id.in_(ids), posted >= since)
                        .group_by(Post.account_id))
    last_posts = _by_account(db.select(Post.account_id, db.func.max(posted)).where(Post.account_id.in_(ids))
                             .group_by(Post.account_id))
    comments = _by_account(
        db.select(Post.account_id, db.func.count(Message.id)).join(Message, Message.post_id == Post.id)
        .where(Post.account_id.in_(ids), posted >= since, Message.direction == MessageDirection.INBOUND.value)
        .group_by(Post.account_id))
    appeals = _by_account(
        db.select(Ticket.account_id, db.func.count()).where(Ticket.account_id.in_(ids), Ticket.created_at >= since,
                                                            Ticket.status.not_in(NOT_APPEALS))
        .group_by(Ticket.account_id))
    rows = []
    for account in accounts:
        last = _aware(last_posts.get(account.id))
        rows.append(PublicationRow(account, posts.get(account.id, 0), comments.get(account.id, 0),
                                   appeals.get(account.id, 0), last,
                                   last is None or now - last >= timedelta(days=stale_after)))
    key = {"posts": lambda r: r.posts, "appeals": lambda r: r.appeals,
           "comments": lambda r: r.comments_per_post or 0.0}[sort if sort in SORTS else "posts"]
    rows.sort(key=lambda r: (-key(r), r.account.name))
    return rows


def _aware(value: datetime | str | None) -> datetime | None:
    # max() over a coalesce bypasses the column type: SQLite hands back naive UTC (or text)
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))
