"""One engine for everything the desk posts, exactly once: public replies and announcements.

Each kind of delivery (:class:`OutboxKind`: :data:`desk.replies.outbox.REPLIES`,
:data:`desk.registry.crosspost.ANNOUNCEMENTS`) says how to load its row with what posting
needs, its rate windows and call, and how to mark the row; this module runs the protocol:

``post(kind, id)`` waits for the row's time, takes a slot from the shared rate limiter
(or re-enqueues itself for the earliest allowed time), claims the row ``queued ->
sending`` with a conditional UPDATE and a Redis lease, **commits**, and only then calls
the network. Whatever the call ends in is committed right after: ``sent``, ``queued``
again with backoff (nothing reached the network, or the network dedupes our key),
``failed`` (a person must fix something) or ``unknown`` (the network may have it: never
resent automatically). The echo of our own message may settle the row first; then the
engine leaves it be. A job that finds its row ``sending`` with no live lease knows a
worker died mid-call: the row becomes ``unknown``.

``post_each(kind, ids)`` posts several rows in one RQ job, each on its own claim.
``sweep(kind)`` (periodic) re-enqueues due queued rows whose job was lost and turns rows
stuck in ``sending`` without a lease into ``unknown``.

Settings, from the app config only (:func:`setting`), per kind as ``<prefix>_<name>``
(prefix ``REPLY`` or ``CROSSPOST``): ``_BACKOFF_BASE`` (2.0 s), ``_BACKOFF_MAX`` (300 s),
``_MAX_ATTEMPTS`` (8), ``_LEASE_SECONDS`` (2 × ``REPLY_HTTP_TIMEOUT`` + 30; the HTTP
timeout, 10 s, is shared by both kinds' clients).
"""
from __future__ import annotations

import logging
import math
import os
import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from rq.timeouts import JobTimeoutException
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from ..channels.errors import MalformedResponse, PermanentError, RetryableError, UnknownOutcome
from ..extensions import db
from ..models import utcnow
from ..models.replies import DeliveryState
from ..networks import spec_for
from ..queue import get_redis
from ..replies.ratelimit import Window, limiter_for
from .jobs import OutboxJobs

log = logging.getLogger(__name__)
D = DeliveryState
#: waits up to this long are slept inside the job: RQ schedules in whole seconds, and a
#: job moved back a second late would waste most of a one-second window (VK, MAX)
SHORT_WAIT = 1.0
_OWNER = f"{socket.gethostname()}:{os.getpid()}"


class Posted(Protocol):
    """What the network answered to a successful write."""

    @property
    def external_id(self) -> str: ...

    @property
    def permalink(self) -> str: ...


class OutboxKind(Protocol):
    """One kind of delivery: its outbox table and what is particular to it."""

    #: the mapped outbox table (id, platform, state, attempts, next_attempt_at,
    #: sending_started_at, updated_at)
    model: type[Any]
    #: loader options for what :meth:`prepare` and the ``mark_*`` methods read
    load_options: tuple[Any, ...]
    #: Redis key of a row's lease while a worker is on it: ``"…:{}"``
    lease_key: str
    #: config names are ``f"{settings_prefix}_BACKOFF_BASE"`` and so on
    settings_prefix: str
    jobs: OutboxJobs
    #: the reason left on a row whose worker died mid-call
    stopped: str

    def prepare(self, row: Any, config: Mapping[str, Any]) -> tuple[list[Window], Callable[[], Posted]]:
        """The rate windows one send counts against, and the call (run after the claim's
        commit); raises PermanentError or ValueError when it cannot be posted at all."""

    def claimed(self, row: Any) -> None:
        """The row is ``sending`` (flushed in the claim's commit)."""

    def mark_sent(self, row: Any, posted: Posted) -> None: ...

    def requeue(self, row: Any, at: datetime, reason: str) -> None: ...

    def mark_failed(self, row: Any, reason: str, code: str | int | None = None) -> None: ...

    def mark_unknown(self, row: Any, reason: str) -> None: ...


def setting(kind: OutboxKind, name: str) -> Any:
    """The kind's ``<PREFIX>_<name>`` setting (declared in desk/config.py)."""
    return current_app.config[f"{kind.settings_prefix}_{name}"]


def _lease_seconds(kind: OutboxKind) -> int:
    configured = setting(kind, "LEASE_SECONDS")
    if configured is None:  # long enough for a call that runs to its timeout, twice
        configured = 2 * float(current_app.config["REPLY_HTTP_TIMEOUT"]) + 30
    return max(math.ceil(float(configured)), 0)


def _backoff(kind: OutboxKind, attempts: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return max(float(retry_after), 0.0)
    base, ceiling = float(setting(kind, "BACKOFF_BASE")), float(setting(kind, "BACKOFF_MAX"))
    return random.uniform(0.5, 1.0) * min(ceiling, base * 2.0 ** (attempts - 1))


def _lease_alive(kind: OutboxKind, delivery_id: int) -> bool:
    return bool(get_redis().exists(kind.lease_key.format(delivery_id)))


def load(kind: OutboxKind, delivery_id: int) -> Any:
    """The row with what posting it reads, in one SELECT, overwriting whatever the session held."""
    model = kind.model
    return db.session.scalars(db.select(model).where(model.id == delivery_id).options(*kind.load_options)
                              .execution_options(populate_existing=True)).first()


def claim(kind: OutboxKind, row: Any) -> bool:
    """queued -> sending, atomically across workers; commits before any network call."""
    redis, key, model = get_redis(), kind.lease_key.format(row.id), kind.model
    if not redis.set(key, _OWNER, nx=True, ex=_lease_seconds(kind)):
        return False
    now = utcnow()
    attempts = db.session.execute(
        update(model).where(model.id == row.id, model.state == D.QUEUED.value)
        .values(state=D.SENDING.value, sending_started_at=now, attempts=model.attempts + 1, updated_at=now)
        .returning(model.attempts)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if attempts is None:
        db.session.rollback()
        redis.delete(key)
        return False
    # what the UPDATE wrote, without reading the row back
    for name, value in (("state", D.SENDING.value), ("sending_started_at", now), ("attempts", attempts),
                        ("updated_at", now)):
        set_committed_value(row, name, value)
    kind.claimed(row)
    db.session.commit()
    return True


def _acquire(windows: list[Window]) -> float:
    """A slot in every window (0.0), or the wait to re-enqueue for when it is a long one."""
    limiter = limiter_for(get_redis())
    wait = limiter.acquire(windows)
    for _ in range(3):
        if not 0 < wait <= SHORT_WAIT:
            break
        db.session.rollback()  # hold no transaction while sleeping
        time.sleep(wait)
        wait = limiter.acquire(windows)
    return wait


def post(kind: OutboxKind, delivery_id: int) -> str:
    """Post one outbox row (see the module doc); returns what happened, for the logs.

    The session keeps its objects loaded across this job's commits (``expire_on_commit``
    off): the row's graph is read once, and only the row (with what it loads) is read
    again before the outcome is written."""
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        return _post(kind, delivery_id)
    finally:
        session.expire_on_commit = expire_on_commit


def post_each(kind: OutboxKind, delivery_ids: Sequence[int]) -> dict[str, int]:
    """Post several rows one after the other, each exactly as :func:`post` (its own claim
    committed before its own send). A row that raises is logged and left to the sweeper."""
    outcomes: dict[str, int] = {}
    for delivery_id in delivery_ids:
        try:
            outcome = post(kind, delivery_id)
        except JobTimeoutException:
            raise  # RQ's job timeout ends the whole batch; the rows left are the sweeper's
        except Exception:  # noqa: BLE001 — one broken row must not strand the rest of the batch
            log.exception("posting %s %s failed", kind.model.__tablename__, delivery_id)
            db.session.rollback()
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _post(kind: OutboxKind, delivery_id: int) -> str:
    row = load(kind, delivery_id)
    if row is None:
        return "missing"
    if row.state == D.SENDING.value:
        if _lease_alive(kind, delivery_id):
            return "busy"
        kind.mark_unknown(row, kind.stopped)
        db.session.commit()
        return "unknown"
    if row.state != D.QUEUED.value:
        return str(row.state)
    now = utcnow()
    if row.next_attempt_at is not None and row.next_attempt_at > now:
        db.session.rollback()
        kind.jobs.enqueue_in(delivery_id, (row.next_attempt_at - now).total_seconds())
        return "later"
    try:
        windows, call = kind.prepare(row, current_app.config)
    except (PermanentError, ValueError) as exc:
        kind.mark_failed(row, getattr(exc, "description", str(exc)))
        db.session.commit()
        return "failed"
    wait = _acquire(windows)
    if wait > 0:
        db.session.rollback()
        kind.jobs.enqueue_in(delivery_id, wait)
        return "rate-limited"
    if not claim(kind, row):
        return "claimed elsewhere"
    try:
        return _send(kind, row, call)
    finally:  # only once the outcome is committed: until then the row is ours
        get_redis().delete(kind.lease_key.format(delivery_id))


def classify(platform: str, exc: Exception) -> tuple[str, str]:
    """What a failed call means: ``(outcome, reason)``, outcome one of retry / failed / unknown."""
    if isinstance(exc, PermanentError):
        return "failed", exc.description
    if isinstance(exc, MalformedResponse):
        # a network that dedupes repeated writes by our key (VK's guid) makes a retry harmless;
        # a timeout on such a write is already retryable at the transport, and UnknownOutcome
        # means a write without a key: never retried
        if spec_for(platform).deduped:
            return "retry", exc.description
        return "unknown", f"unreadable answer after sending: {exc.description}"
    if isinstance(exc, RetryableError):
        return "retry", exc.description
    if isinstance(exc, UnknownOutcome):
        return "unknown", exc.description
    # after the request left, anything unexpected is "unknown": never guess "not posted"
    return "unknown", f"{exc.__class__.__name__}: {exc}"


def _send(kind: OutboxKind, row: Any, call: Callable[[], Posted]) -> str:
    delivery_id, platform = row.id, row.platform
    try:
        posted = call()
    except Exception as exc:  # noqa: BLE001 — classified below; nothing may escape unrecorded
        if not isinstance(exc, (PermanentError, RetryableError, UnknownOutcome)):
            log.exception("posting %s %s failed unexpectedly", kind.model.__tablename__, delivery_id)
        outcome, reason = classify(platform, exc)
        retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
        return _finish(kind, delivery_id, outcome, reason, retry_after=retry_after, code=getattr(exc, "code", None))
    return _finish(kind, delivery_id, "sent", posted=posted)


def _finish(kind: OutboxKind, delivery_id: int, outcome: str, reason: str = "", *,
            retry_after: float | None = None, code: str | int | None = None, posted: Posted | None = None) -> str:
    """Record the call's outcome, unless someone (the echo) already settled the row."""
    db.session.rollback()  # nothing is pending; a fresh transaction sees what others committed
    row = load(kind, delivery_id)
    if posted is not None:
        # the sweeper may have given up on a slow call: the network's answer still wins
        if row.state in (D.SENDING.value, D.UNKNOWN.value):
            kind.mark_sent(row, posted)
        db.session.commit()
        return "sent"
    if row.state != D.SENDING.value:
        db.session.rollback()
        return str(row.state)
    requeue_in = None
    if outcome == "retry":
        if row.attempts >= int(setting(kind, "MAX_ATTEMPTS")):
            kind.mark_failed(row, f"gave up after {row.attempts} attempts: {reason}", code)
        else:
            requeue_in = _backoff(kind, row.attempts, retry_after)
            kind.requeue(row, utcnow() + timedelta(seconds=requeue_in), reason)
    elif outcome == "failed":
        kind.mark_failed(row, reason, code)
    else:
        kind.mark_unknown(row, reason)
    db.session.commit()
    if requeue_in is not None:
        kind.jobs.enqueue_in(delivery_id, requeue_in)
        return "retry"
    return outcome


def sweep(kind: OutboxKind, older_than_seconds: int = 120) -> dict[str, int]:
    """Periodic: re-enqueue queued rows that are due and old enough that their job may be
    lost (none is pending); rows stuck in ``sending`` past the lease become ``unknown``."""
    model, now = kind.model, utcnow()
    due = db.session.scalars(db.select(model.id).where(
        model.state == D.QUEUED.value, model.updated_at < now - timedelta(seconds=older_than_seconds),
        db.or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now))
        .order_by(model.id).limit(1000)).all()
    stuck = db.session.scalars(db.select(model).where(
        model.state == D.SENDING.value,
        model.sending_started_at < now - timedelta(seconds=_lease_seconds(kind)))
        .options(*kind.load_options)).all()
    unknown = 0
    for row in stuck:
        if not _lease_alive(kind, row.id):
            kind.mark_unknown(row, kind.stopped)
            unknown += 1
    db.session.commit()
    lost = [i for i in due if not kind.jobs.has_pending(i)]
    kind.jobs.enqueue(lost)
    return {"requeued": len(lost), "unknown": unknown}
