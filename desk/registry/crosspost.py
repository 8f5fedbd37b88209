"""Crossposting: compose an announcement once and publish it to many accounts.

Each account gets one outbox row (:class:`AnnouncementDelivery`) with the replies
outbox's states and transition table, so the guarantees are the same: a unique key per
(announcement, account), a claim committed before the network call, ``unknown`` when a
write may have landed (never resent automatically), shared rate windows. The text is
checked against every chosen network's limit before anything is stored. Functions here
only flush; the view or the job queues the posting jobs with ``enqueue_*_after_commit``
and commits (the jobs go out after the commit). The posting
itself is :mod:`desk.outbox.engine`'s, for the kind :data:`ANNOUNCEMENTS`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from .. import jobs
from ..channels.errors import PermanentError
from ..extensions import db
from ..links import http_url
from ..models import Account, User, utcnow
from ..models.announcements import Announcement, AnnouncementDelivery
from ..models.replies import DELIVERY_TRANSITIONS, DeliveryState
from ..networks import platforms
from ..outbox.engine import Posted
from ..outbox.jobs import OutboxJobs
from ..refusals import DeskError, joined
from ..replies.ratelimit import Window
from ..replies.text import limit_for
from .publishers import PUBLISHERS

D = DeliveryState
#: networks a bot can publish on: their specs name a publisher (OK has none)
PLATFORMS = platforms(publishes=True)
POST_JOB = jobs.POST_ANNOUNCEMENT
JOBS = OutboxJobs(POST_JOB, "desk:announce-job:{}")


class CrosspostError(DeskError):
    """Something a person must fix before anything is published."""


def target_accounts(direction: str | None, networks: list[str]) -> list[Account]:
    chosen = [n for n in networks if n in PLATFORMS] or list(PLATFORMS)
    query = db.select(Account).where(Account.is_active.is_(True), Account.platform.in_(chosen))
    if direction:
        query = query.where(Account.direction == direction)
    return list(db.session.scalars(query.order_by(Account.direction, Account.name, Account.platform)).all())


def readiness(accounts: list[Account], config: Mapping[str, Any]) -> dict[int, str | None]:
    """Per account, why publishing there would fail before any call (no token, no channel
    id), or None when it is ready. The publisher itself answers: it checks what it needs
    before the network call it returns."""
    out: dict[int, str | None] = {}
    for account in accounts:
        publisher = PUBLISHERS.get(account.platform)
        if publisher is None:
            out[account.id] = "the network has no publishing method"
            continue
        stub = SimpleNamespace(account=account, platform=account.platform, outbox_key="preview",
                               announcement=SimpleNamespace(text=""))
        try:
            publisher(cast("AnnouncementDelivery", stub), config)  # it reads only these before its call
        except (PermanentError, ValueError, KeyError) as exc:
            out[account.id] = getattr(exc, "description", None) or str(exc)
        else:
            out[account.id] = None
    return out


def resend_failed(announcement: Announcement) -> int:
    """Queue every failed delivery of the announcement again; returns how many."""
    count = 0
    for delivery in announcement.deliveries:
        if delivery.state == D.FAILED.value:
            resend(delivery)
            count += 1
    return count


def too_long_for(text: str, accounts: list[Account]) -> dict[str, int]:
    """Networks among ``accounts`` whose limit ``text`` exceeds: platform -> limit."""
    limits = {a.platform: limit_for(a.platform) for a in accounts}
    return {platform: limit for platform, limit in limits.items() if limit is not None and len(text) > limit}


def create_announcement(text: str, accounts: list[Account], author: User | None,
                        publish_at: datetime | None = None) -> Announcement:
    text = (text or "").strip()
    if not text:
        raise CrosspostError(_l("the announcement is empty"), field="text")
    if not accounts:
        raise CrosspostError(_l("no account matches the choice"))
    over = too_long_for(text, accounts)
    if over:
        raise CrosspostError(joined([_l("%(network)s: at most %(limit)s characters, the text has %(length)s",
                                           network=platform, limit=limit, length=len(text))
                                        for platform, limit in sorted(over.items())]), field="text")
    announcement = Announcement(text=text, author=author, publish_at=publish_at)
    db.session.add(announcement)
    db.session.flush()
    for account in accounts:
        db.session.add(AnnouncementDelivery(
            announcement_id=announcement.id, account_id=account.id, platform=account.platform,
            outbox_key=f"ann{announcement.id}-acc{account.id}", next_attempt_at=publish_at))
    db.session.flush()
    return announcement


def move(delivery: AnnouncementDelivery, new: DeliveryState, reason: str | None = None) -> None:
    old = DeliveryState(delivery.state)
    if new not in DELIVERY_TRANSITIONS[old]:
        raise CrosspostError(_l("a delivery in state %(old)s cannot become %(new)s", old=_l(old.label), new=_l(new.label)),
                             code="conflict", status=409)
    delivery.state = new.value
    if reason is not None:
        delivery.last_error = reason[:4000]
    db.session.flush()


def mark_sent(delivery: AnnouncementDelivery, external_id: str, permalink: str = "") -> None:
    # A permalink comes from a network's answer or a person: only an http(s) one is kept.
    delivery.external_id, delivery.permalink, delivery.sent_at = external_id[:160], http_url(permalink) or "", utcnow()
    move(delivery, D.SENT)
    delivery.last_error = None


def mark_failed(delivery: AnnouncementDelivery, reason: str) -> None:
    move(delivery, D.FAILED, reason)


def mark_unknown(delivery: AnnouncementDelivery, reason: str) -> None:
    move(delivery, D.UNKNOWN, reason)


def requeue(delivery: AnnouncementDelivery, *, at: datetime, reason: str | None = None) -> None:
    """Back to the queue, to be tried at ``at``."""
    delivery.next_attempt_at = at
    move(delivery, D.QUEUED, reason)


def resend(delivery: AnnouncementDelivery) -> None:
    """A person resends a failed or unknown delivery (after checking the channel)."""
    if delivery.state not in (D.FAILED.value, D.UNKNOWN.value):
        raise CrosspostError(_l("only a failed or unknown delivery can be resent"), code="conflict", status=409)
    delivery.next_attempt_at = None
    move(delivery, D.QUEUED)


def confirm_posted(delivery: AnnouncementDelivery, permalink: str = "") -> None:
    """A person found the post of an ``unknown`` delivery on the network."""
    if delivery.state != D.UNKNOWN.value:
        raise CrosspostError(_l("only an unknown delivery can be marked as posted"), code="conflict",
                             status=409)
    mark_sent(delivery, delivery.external_id or f"confirmed:{delivery.outbox_key}", permalink)


def enqueue_delivery(delivery_id: int, at: datetime | None = None) -> None:
    """After the commit: run the posting job now, or at ``at``."""
    delay = (at - utcnow()).total_seconds() if at else 0
    if delay > 0:
        JOBS.enqueue_in(delivery_id, delay)
    else:
        JOBS.enqueue([delivery_id])


def enqueue_announcement(announcement: Announcement) -> None:
    """After the commit: a job for each queued delivery (at its time)."""
    for delivery in announcement.deliveries:
        if delivery.state == D.QUEUED.value:
            enqueue_delivery(delivery.id, delivery.next_attempt_at)


def enqueue_delivery_after_commit(delivery_id: int, at: datetime | None = None) -> None:
    """:func:`enqueue_delivery` once the current transaction commits (nothing on a rollback)."""
    jobs.call_after_commit(lambda: enqueue_delivery(delivery_id, at), f"{POST_JOB}({delivery_id})")


def enqueue_announcement_after_commit(announcement: Announcement) -> None:
    """:func:`enqueue_announcement` once the current transaction commits (call after a flush)."""
    for delivery in announcement.deliveries:
        if delivery.state == D.QUEUED.value:
            enqueue_delivery_after_commit(delivery.id, delivery.next_attempt_at)


def recent_announcements(limit: int = 50) -> list[Announcement]:
    return list(db.session.scalars(db.select(Announcement).order_by(Announcement.id.desc()).limit(limit)).all())


def state_counts(announcement: Announcement) -> dict[str, int]:
    counts: dict[str, int] = {}
    for delivery in announcement.deliveries:
        counts[delivery.state] = counts.get(delivery.state, 0) + 1
    return counts


class AnnouncementOutbox:
    """Announcements as a kind of delivery for :mod:`desk.outbox.engine`."""

    model = AnnouncementDelivery
    load_options = (joinedload(AnnouncementDelivery.account), joinedload(AnnouncementDelivery.announcement))
    lease_key = "desk:announce-lease:{}"
    settings_prefix = "CROSSPOST"
    jobs = JOBS
    stopped = "the worker stopped while publishing: check the channel"

    def prepare(self, row: AnnouncementDelivery,
                config: Mapping[str, Any]) -> tuple[list[Window], Callable[[], Posted]]:
        publisher = PUBLISHERS.get(row.platform)
        if publisher is None:
            raise PermanentError(f"cannot publish on {row.platform}")
        return publisher(row, config)

    def claimed(self, row: AnnouncementDelivery) -> None:
        pass  # an announcement keeps no event log

    def mark_sent(self, row: AnnouncementDelivery, posted: Posted) -> None:
        mark_sent(row, posted.external_id, posted.permalink)

    def requeue(self, row: AnnouncementDelivery, at: datetime, reason: str) -> None:
        requeue(row, at=at, reason=reason)

    def mark_failed(self, row: AnnouncementDelivery, reason: str, code: str | int | None = None) -> None:
        mark_failed(row, reason)  # no error code column: the reason says it

    def mark_unknown(self, row: AnnouncementDelivery, reason: str) -> None:
        mark_unknown(row, reason)


ANNOUNCEMENTS = AnnouncementOutbox()
