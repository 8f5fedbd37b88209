"""RQ jobs that post public replies, exactly once.

``post_delivery(id)`` takes a slot from the shared rate limiter (or re-enqueues itself
for the earliest allowed time), claims the outbox row ``queued -> sending`` with a
conditional UPDATE and a Redis lease, **commits**, and only then calls the network.
Whatever the call ends in is committed right after: ``sent`` (with the city's message
on the ticket), ``queued`` again with backoff (nothing reached the network),
``failed`` (a person must fix something) or ``unknown`` (the network may have it).
A job that finds its row ``sending`` with no live lease knows a worker died mid-call:
the row becomes ``unknown`` and is never resent automatically.

``post_deliveries(ids)`` runs ``post_delivery`` for each id in turn (one RQ job for a
batch; every row keeps its own claim-commit-send-commit).

``sweep()`` (periodic) re-enqueues queued rows whose job was lost and turns rows stuck
in ``sending`` without a lease into ``unknown``.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import time
from datetime import timedelta

from flask import current_app
from rq.timeouts import JobTimeoutException
from sqlalchemy import update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from desk.channels.errors import MalformedResponse, PermanentError, RetryableError, UnknownOutcome
from desk.extensions import db
from desk.models import utcnow
from desk.models.replies import DeliveryState, Reply, ReplyDelivery
from desk.queue import get_redis
from desk.replies import outbox, senders
from desk.replies.jobs import enqueue_deliveries, enqueue_delivery_in, has_pending_job
from desk.replies.ratelimit import RateLimiter
from desk.tickets.workflow import record_event

log = logging.getLogger(__name__)
D = DeliveryState
LEASE_KEY = "desk:reply-lease:{}"
#: a network that dedupes repeated writes by the outbox key (VK's guid): a lost answer may be retried
DEDUPED = frozenset({"vk"})


def _setting(name: str, default):
    """A ``REPLY_*`` setting from the app config, else the environment, else ``default``."""
    return type(default)(current_app.config.get(name, os.environ.get(name, default)))


def _lease_seconds() -> int:
    return _setting("REPLY_LEASE_SECONDS", 2 * _setting("REPLY_HTTP_TIMEOUT", 10) + 30)


def _backoff(attempts: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return max(float(retry_after), 0.0)
    base = _setting("REPLY_BACKOFF_BASE", 2.0)
    return random.uniform(0.5, 1.0) * min(_setting("REPLY_BACKOFF_MAX", 300.0), base * 2 ** (attempts - 1))


def _lease_alive(delivery_id: int) -> bool:
    return bool(get_redis().exists(LEASE_KEY.format(delivery_id)))


def _load(delivery_id: int) -> ReplyDelivery | None:
    """The row with what posting it reads (its account, its ticket, the reply and the
    incident's ticket) in one SELECT, overwriting whatever the session held."""
    return db.session.scalars(
        db.select(ReplyDelivery).where(ReplyDelivery.id == delivery_id)
        .options(joinedload(ReplyDelivery.account), joinedload(ReplyDelivery.ticket),
                 joinedload(ReplyDelivery.reply).joinedload(Reply.ticket))
        .execution_options(populate_existing=True)).first()


_OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _claim(delivery: ReplyDelivery) -> bool:
    """queued -> sending, atomically across workers; commits before any network call."""
    redis = get_redis()
    if not redis.set(LEASE_KEY.format(delivery.id), _OWNER, nx=True, ex=_lease_seconds()):
        return False
    now = utcnow()
    attempts = db.session.execute(
        update(ReplyDelivery).where(ReplyDelivery.id == delivery.id, ReplyDelivery.state == D.QUEUED.value)
        .values(state=D.SENDING.value, sending_started_at=now, attempts=ReplyDelivery.attempts + 1,
                updated_at=now)
        .returning(ReplyDelivery.attempts)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if attempts is None:
        db.session.rollback()
        redis.delete(LEASE_KEY.format(delivery.id))
        return False
    # what the UPDATE wrote, without reading the row back
    for name, value in (("state", D.SENDING.value), ("sending_started_at", now), ("attempts", attempts),
                        ("updated_at", now)):
        set_committed_value(delivery, name, value)
    record_event(delivery.reply.ticket, None, "reply_sending", field="delivery", old=D.QUEUED.value,
                 new=outbox.describe(delivery), reason=f"attempt {delivery.attempts}")
    db.session.commit()
    return True


def _stale_sending(delivery: ReplyDelivery, why: str) -> None:
    outbox.mark_unknown(delivery, why)
    db.session.commit()


#: waits up to this long are slept inside the job: RQ schedules in whole seconds, and a
#: job moved back a second late would waste most of a one-second window (VK, MAX)
SHORT_WAIT = 1.0


_limiters: dict[int, RateLimiter] = {}


def _limiter() -> RateLimiter:
    """One limiter (its Lua script registered once) per Redis client."""
    redis = get_redis()
    limiter = _limiters.get(id(redis))
    if limiter is None or limiter.redis is not redis:
        limiter = _limiters[id(redis)] = RateLimiter(redis)
    return limiter


def _acquire(windows) -> float:
    """A slot in every window (0.0), or the wait to re-enqueue for when it is a long one."""
    limiter = _limiter()
    wait = limiter.acquire(windows)
    for _ in range(3):
        if not 0 < wait <= SHORT_WAIT:
            break
        db.session.rollback()  # hold no transaction while sleeping
        time.sleep(wait)
        wait = limiter.acquire(windows)
    return wait


def post_delivery(delivery_id: int) -> str:
    """Post one outbox row (see the module doc); returns what happened, for the logs.

    The session keeps its objects loaded across this job's commits (``expire_on_commit``
    off): the row's graph is read once, and only the rows that another process may have
    changed meanwhile (the delivery and its tickets) are read again before the outcome
    is written."""
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        return _post_delivery(delivery_id)
    finally:
        session.expire_on_commit = expire_on_commit


def post_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    """Post several outbox rows one after the other, each exactly as :func:`post_delivery`
    (its own claim committed before its own send): one RQ job instead of one per row. A
    row that raises is logged and left to the sweeper; the others still go."""
    outcomes: dict[str, int] = {}
    for delivery_id in delivery_ids:
        try:
            outcome = post_delivery(delivery_id)
        except JobTimeoutException:
            raise  # RQ's job timeout ends the whole batch; the rows left are the sweeper's
        except Exception:  # noqa: BLE001 — one broken row must not strand the rest of the batch
            log.exception("posting reply delivery %s failed", delivery_id)
            db.session.rollback()
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _post_delivery(delivery_id: int) -> str:
    config = current_app.config
    delivery = _load(delivery_id)
    if delivery is None:
        return "missing"
    if delivery.state == D.SENDING.value:
        if _lease_alive(delivery_id):
            return "busy"
        _stale_sending(delivery, "the worker stopped while posting: check the thread, then mark it "
                                 "posted or resend it")
        return "unknown"
    if delivery.state != D.QUEUED.value:
        return delivery.state
    now = utcnow()
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        db.session.rollback()
        enqueue_delivery_in(delivery_id, (delivery.next_attempt_at - now).total_seconds())
        return "later"
    try:
        windows = senders.windows(delivery, config)
    except (PermanentError, ValueError) as exc:
        outbox.mark_failed(delivery, getattr(exc, "description", str(exc)))
        db.session.commit()
        return "failed"
    wait = _acquire(windows)
    if wait > 0:
        db.session.rollback()
        enqueue_delivery_in(delivery_id, wait)
        return "rate-limited"
    if not _claim(delivery):
        return "claimed elsewhere"
    try:
        outcome = _send(delivery, config)
    finally:
        get_redis().delete(LEASE_KEY.format(delivery_id))
    return outcome


def _send(delivery: ReplyDelivery, config) -> str:
    delivery_id = delivery.id
    try:
        posted = senders.send(delivery, config)
    except PermanentError as exc:
        return _finish(delivery_id, "failed", exc.description, code=exc.code)
    except MalformedResponse as exc:
        if delivery.platform in DEDUPED:
            return _finish(delivery_id, "retry", exc.description)
        return _finish(delivery_id, "unknown", f"unreadable answer after sending: {exc.description}")
    except RetryableError as exc:
        return _finish(delivery_id, "retry", exc.description, retry_after=exc.retry_after, code=exc.code)
    except UnknownOutcome as exc:
        return _finish(delivery_id, "unknown", exc.description)
    except Exception as exc:  # noqa: BLE001 — after the request left, anything unexpected is "unknown"
        log.exception("posting reply delivery %s failed unexpectedly", delivery_id)
        return _finish(delivery_id, "unknown", f"{exc.__class__.__name__}: {exc}")
    return _finish(delivery_id, "sent", posted=posted)


def _finish(delivery_id: int, outcome: str, reason: str = "", *, retry_after: float | None = None,
            code=None, posted: senders.Posted | None = None) -> str:
    """Record the call's outcome, unless someone (the echo) already settled the row."""
    db.session.rollback()  # nothing is pending; a fresh transaction sees what others committed
    delivery = _load(delivery_id)
    if outcome == "sent":
        if delivery.state in (D.SENDING.value, D.UNKNOWN.value):
            outbox.mark_posted(delivery, posted.external_id, permalink=posted.permalink)
        db.session.commit()
        return "sent"
    if delivery.state != D.SENDING.value:
        db.session.rollback()
        return delivery.state
    requeue_in = None
    if outcome == "retry":
        if delivery.attempts >= _setting("REPLY_MAX_ATTEMPTS", 8):
            outbox.mark_failed(delivery, f"gave up after {delivery.attempts} attempts: {reason}", code)
        else:
            requeue_in = _backoff(delivery.attempts, retry_after)
            outbox.requeue(delivery, at=utcnow() + timedelta(seconds=requeue_in), reason=reason)
    elif outcome == "failed":
        outbox.mark_failed(delivery, reason, code)
    else:
        outbox.mark_unknown(delivery, reason)
    db.session.commit()
    if requeue_in is not None:
        enqueue_delivery_in(delivery_id, requeue_in)
        return "retry"
    return outcome


def sweep(older_than_seconds: int = 120) -> dict[str, int]:
    """Periodic: re-enqueue queued rows that are due and old enough that their job may be
    lost; rows stuck in ``sending`` past the lease become ``unknown``."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    due = db.session.scalars(db.select(ReplyDelivery.id).where(
        ReplyDelivery.state == D.QUEUED.value, ReplyDelivery.updated_at < cutoff,
        db.or_(ReplyDelivery.next_attempt_at.is_(None), ReplyDelivery.next_attempt_at <= now))
        .order_by(ReplyDelivery.id).limit(1000)).all()
    stuck = db.session.scalars(db.select(ReplyDelivery).where(
        ReplyDelivery.state == D.SENDING.value,
        ReplyDelivery.sending_started_at < now - timedelta(seconds=_lease_seconds()))).all()
    unknown = 0
    for delivery in stuck:
        if not _lease_alive(delivery.id):
            outbox.mark_unknown(delivery, "the worker stopped while posting: check the thread")
            unknown += 1
    db.session.commit()
    lost = [i for i in due if not has_pending_job(i)]
    enqueue_deliveries(lost)
    return {"requeued": len(lost), "unknown": unknown}
