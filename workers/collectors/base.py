"""The network-independent half of every collector.

Raw updates become events by the network spec's ``normaliser`` (``desk.channels.
<platform>_events.normalize(account, raw_update) -> list[ChannelEvent]``: pure, no
database; it raises on a payload it cannot understand, and that update goes to the dead
letters). Polls, webhook deliveries and dead-letter replays all go through
:func:`normalize` here. A network module (``workers/collectors/<platform>.py``) provides:

- ``fetch(account, cursor, config) -> PollBatch``: one call to the network for updates
  after ``cursor`` (raw update dicts plus the cursor that confirms them); raises
  :mod:`desk.channels.errors` on faults;
- optionally ``parse_delivery(account, payload) -> list[dict]``: the raw updates in one
  webhook body (default: the body is one update).
- optionally ``prepare(account, updates)``: called once per batch before normalising
  (VK resolves the batch's author names with one request); must not raise on faults.
- optionally ``complete(account, raw_update, events) -> list[ChannelEvent]``: what the
  pure normaliser cannot know, from the desk's state (VK and OK: the names ``prepare``
  cached; MAX: whether a sender-less message is a reply the desk posted);
- optionally ``backfill(account, since, progress) -> ApplyCounts``: read history since
  the aware datetime ``since``, committing as it goes; ``progress(done, total=None,
  note="")`` draws the bar of ``flask collect backfill``;
- optionally account ``settings["mode"] = "webhook"``: the periodic poll leaves it alone.

This module applies the events through :mod:`desk.ingest` and keeps the cursor in the
same transaction as the batch it covers: a crash at any point means the batch is read
again, and ingest's idempotency absorbs the repeat.
"""
from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from rq.timeouts import JobTimeoutException
from sqlalchemy.exc import IntegrityError

from desk import jobs
from desk.channels.errors import ChannelError
from desk.channels.events import CommentDeleted, CommentRestored, InboundMessage, PostSeen, Skipped
from desk.channels.http import with_retries
from desk.errors import OUTAGE_ERRORS
from desk.extensions import db
from desk.ingest import ingest_many, mark_deleted, mark_restored, record_post
from desk.models import Account, CollectorState, DeadLetter, WebhookDelivery, utcnow
from desk.networks import spec_for
from desk.replies.echo import match_own_reply
from desk.text import clean_text

log = logging.getLogger(__name__)


@dataclass
class PollBatch:
    updates: list[dict]
    cursor: str | None
    more: bool = False  # the network has more right away (poll again without waiting)


@dataclass
class ApplyCounts:
    created: int = 0
    joined: int = 0
    duplicate: int = 0
    edited: int = 0
    posts: int = 0
    deleted: int = 0
    skipped: int = 0
    dead: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return self.created + self.joined + self.edited

    def add(self, other: ApplyCounts) -> None:
        for name in ("created", "joined", "duplicate", "edited", "posts", "deleted", "skipped", "dead"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.skip_reasons.items():
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + n


def network_module(platform: str):
    """The collector module the network's spec names (KeyError for a platform without one)."""
    return importlib.import_module(spec_for(platform).collector)


def normalize(account: Account, module, raw: Any) -> list:
    """One raw update into events: the spec's normaliser, then the collector's
    ``complete`` (see the module doc); raises what they raise."""
    events = spec_for(account.platform).load("normaliser")(account, raw)
    complete = getattr(module, "complete", None)
    return complete(account, raw, events) if complete is not None else events


def get_state(account_id: int, stream: str = "main") -> CollectorState:
    state = db.session.scalars(
        db.select(CollectorState).where(CollectorState.account_id == account_id, CollectorState.stream == stream)
    ).first()
    if state is None:
        state = CollectorState(account_id=account_id, stream=stream)
        db.session.add(state)
        db.session.flush()
    return state


def dead_letter(account: Account | None, platform: str, source: str, payload: Any, error: str) -> DeadLetter:
    """Keep ``payload`` (raw text or decoded JSON) with its error for an admin (flush-free)."""
    if isinstance(payload, str):
        try:  # JSON as received may escape every Cyrillic letter: store it readable
            decoded = json.loads(payload)
            payload = decoded if isinstance(decoded, (dict, list)) else payload
        except (ValueError, RecursionError):
            pass
    try:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):  # a circular or absurdly deep structure
        text = repr(payload)[:100_000]
    letter = DeadLetter(account_id=account.id if account else None, platform=platform, source=source,
                        payload=clean_text(text), error=clean_text(error)[:4000])
    db.session.add(letter)
    return letter


def describe(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:4000]


#: Failures that say nothing about the message: the database or Redis is away or busy, or
#: the job ran out of time. The work is retried later as a whole; anything else a message
#: raises is that message's own fault and makes it a dead letter, so one bad message
#: never stops the others.
TRANSIENT_ERRORS = (*OUTAGE_ERRORS, JobTimeoutException)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


def _count_results(results: list, counts: ApplyCounts) -> None:
    for result in results:
        if result.outcome == "created":
            counts.created += 1
        elif result.outcome in ("joined", "reopened"):
            counts.joined += 1
        elif result.outcome == "edited":
            counts.edited += 1
        else:
            counts.duplicate += 1


def apply_events(events: list, counts: ApplyCounts) -> None:
    """Apply normalised events through the one door, in order (flush only). Consecutive
    inbound messages go to :func:`desk.ingest.ingest_many` together."""
    run: list[InboundMessage] = []
    for event in [*events, None]:
        if isinstance(event, InboundMessage):
            run.append(event)
            continue
        if run:
            _count_results(ingest_many(run), counts)
            run = []
        if event is None:
            break
        if isinstance(event, PostSeen):
            record_post(event.account_id, event.external_id, event.text, event.posted_at, event.link,
                        event.thread_ref)
            counts.posts += 1
        elif isinstance(event, CommentDeleted):
            mark_deleted(event.account_id, event.external_id, event.deleted_at)
            counts.deleted += 1
        elif isinstance(event, CommentRestored):
            mark_restored(event.account_id, event.external_id)
        elif isinstance(event, Skipped):
            counts.skipped += 1
            counts.skip_reasons[event.reason] = counts.skip_reasons.get(event.reason, 0) + 1
        else:
            raise TypeError(f"unknown event {event!r}")


def apply_updates(account: Account, module, updates: list[dict], source: str, counts: ApplyCounts, *,
                  prepare: bool = True) -> None:
    """Normalise and apply raw updates (flush only); one that cannot be understood
    becomes a dead letter (the rest of the batch still lands). An update that is
    understood but cannot be stored raises: see :func:`apply_isolated`."""
    events: list = []
    skipped_raw: list = []
    if prepare and hasattr(module, "prepare"):
        module.prepare(account, updates)  # e.g. VK: resolve all authors' names in one call
    for raw in updates:
        try:
            normalized = normalize(account, module, raw)
            events.extend(normalized)
        except Exception as exc:  # noqa: BLE001 — any parsing failure is kept, never dropped
            log.warning("dead letter for account %s: %s", account.id, exc)
            dead_letter(account, account.platform, source, raw, f"{exc.__class__.__name__}: {exc}")
            counts.dead += 1
            continue
        if any(isinstance(e, Skipped) for e in normalized):
            skipped_raw.append(raw)
    apply_events(events, counts)
    for raw in skipped_raw:
        match_own_reply(account, raw)  # the city's own reply coming back: settle its outbox row


def apply_isolated(account_id: int, module, updates: list[dict], source: str) -> ApplyCounts:
    """Apply a batch one update at a time, each in its own transaction: what the
    fast path does when the batch as a whole failed. An update that still fails is a
    dead letter with its error; the others are stored. Transient failures (database
    or Redis away) propagate: nothing is lost, the work runs again later."""
    total = ApplyCounts()
    for raw in updates:
        for attempt in range(2):
            account = db.session.get(Account, account_id)
            assert account is not None  # the caller has just read it; accounts are deactivated, not deleted
            counts = ApplyCounts()
            try:
                apply_updates(account, module, [raw], source, counts, prepare=False)
                db.session.commit()
                total.add(counts)
                break
            except Exception as exc:  # noqa: BLE001 — sorted below: transient, race, or poison
                db.session.rollback()
                if is_transient(exc):
                    raise
                if isinstance(exc, IntegrityError) and attempt == 0:
                    continue  # another worker stored the same comment: the repeat sees it
                log.warning("dead letter for account %s: %s", account_id, describe(exc))
                account = db.session.get(Account, account_id)
                assert account is not None  # read a moment ago, in this job
                dead_letter(account, account.platform, source, raw, describe(exc))
                db.session.commit()
                total.dead += 1
                break
    return total


def _record_items(state: CollectorState, counts: ApplyCounts, now: datetime) -> None:
    today = now.date()
    if state.items_day != today:
        state.items_day = today
        state.items_today = 0
    state.items_today += counts.items
    state.items_total += counts.items
    if counts.items:
        state.last_item_at = now


def poll_account(account_id: int, *, max_batches: int = 50, sleep: Callable[[float], None] | None = None,
                 attempts: int = 5) -> ApplyCounts:
    """Poll one account until the network has nothing more (or ``max_batches``).

    Each batch commits together with its cursor. A fault that outlives the retries is
    recorded on the collector state and re-raised; the cursor stays where it was.
    """
    account = db.session.get(Account, account_id)
    if account is None or not account.is_active:
        return ApplyCounts()
    module = network_module(account.platform)
    config = current_app.config
    total = ApplyCounts()
    retry_kwargs: dict[str, Any] = {"attempts": attempts}
    if sleep is not None:
        retry_kwargs["sleep"] = sleep
    for _ in range(max_batches):
        state = get_state(account.id)
        cursor = state.cursor
        now = utcnow()
        try:
            batch: PollBatch = with_retries(lambda: module.fetch(account, cursor, config), **retry_kwargs)
        except Exception as exc:  # noqa: BLE001 — a network fault or an answer we cannot read
            db.session.rollback()
            _record_poll_failure(account_id, exc, now)
            if isinstance(exc, ChannelError) or is_transient(exc):
                raise
            raise ChannelError(describe(exc)) from exc
        counts = ApplyCounts()
        try:
            apply_updates(account, module, batch.updates, "poll", counts)
            _advance(account.id, batch, counts, now)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 — one bad update must not stop the account
            db.session.rollback()
            if is_transient(exc):
                _record_poll_failure(account_id, exc, now)
                raise
            log.info("batch of account %s failed (%s); applying it update by update", account_id, describe(exc))
            counts = apply_isolated(account_id, module, batch.updates, "poll")
            account = db.session.get(Account, account_id)
            assert account is not None  # read at the top of this job
            _advance(account.id, batch, counts, now)
            db.session.commit()
        total.add(counts)
        if not batch.more or not batch.updates:
            break
    return total


def _advance(account_id: int, batch: PollBatch, counts: ApplyCounts, now: datetime) -> None:
    """Move the cursor past the batch and record a successful run (flush only)."""
    state = get_state(account_id)
    state.cursor = batch.cursor if batch.cursor is not None else state.cursor
    state.last_run_at = now
    state.last_success_at = now
    state.last_error = None
    state.consecutive_failures = 0
    _record_items(state, counts, now)


def _record_poll_failure(account_id: int, exc: BaseException, now: datetime) -> None:
    """Show a failed poll on the collectors page; the cursor stays where it was."""
    try:
        state = get_state(account_id)
        state.last_run_at = now
        description = exc.description if isinstance(exc, ChannelError) else str(exc)
        state.last_error = clean_text(f"{exc.__class__.__name__}: {description}")[:4000]
        state.last_error_at = now
        state.consecutive_failures += 1
        db.session.commit()
    except Exception:  # noqa: BLE001 — the database itself is away: the raise that follows says so
        db.session.rollback()
        log.exception("could not record the failed poll of account %s", account_id)


def process_delivery(delivery_id: int) -> ApplyCounts:
    """RQ job: parse and ingest one stored webhook delivery (idempotent).

    The attempt is counted before the work starts, so even a job that dies (killed,
    timed out) counts. An update that cannot be understood or stored becomes a dead
    letter at once; a delivery that keeps failing for other reasons becomes one after
    ``WEBHOOK_MAX_ATTEMPTS`` attempts (the sweeper retries it until then).
    """
    delivery = db.session.get(WebhookDelivery, delivery_id)
    counts = ApplyCounts()
    if delivery is None or delivery.processed_at is not None:
        return counts
    delivery.attempts += 1
    db.session.commit()
    max_attempts = int(current_app.config["WEBHOOK_MAX_ATTEMPTS"])
    if delivery.attempts > max_attempts:  # earlier attempts died without a word
        return _give_up(delivery, delivery.attempts - 1,
                        delivery.last_error or "the job stopped before it could finish")
    account = db.session.get(Account, delivery.account_id)
    assert account is not None  # the foreign key cascades: a delivery outlives no account
    module = network_module(delivery.platform)
    try:
        body = json.loads(delivery.payload)
        updates = module.parse_delivery(account, body) if hasattr(module, "parse_delivery") else [body]
    except Exception as exc:  # noqa: BLE001 — kept as a dead letter with its error
        dead_letter(account, delivery.platform, "webhook", delivery.payload, describe(exc))
        delivery.processed_at = utcnow()
        delivery.last_error = describe(exc)
        counts.dead += 1
        db.session.commit()
        return counts
    try:
        apply_updates(account, module, updates, "webhook", counts)
        _finish_delivery(delivery, counts)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 — sorted: transient (retry later) or a bad update
        db.session.rollback()
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert delivery is not None  # its attempt was committed above
        if is_transient(exc):
            log.warning("webhook delivery %s failed (attempt %s): %s", delivery_id, delivery.attempts,
                        describe(exc))
            delivery.last_error = describe(exc)
            if delivery.attempts >= max_attempts:
                return _give_up(delivery, delivery.attempts, describe(exc))
            db.session.commit()
            return counts
        counts = apply_isolated(delivery.account_id, module, updates, "webhook")
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        _finish_delivery(delivery, counts)
        db.session.commit()
    return counts


def _finish_delivery(delivery: WebhookDelivery, counts: ApplyCounts) -> None:
    delivery.processed_at = utcnow()
    state = get_state(delivery.account_id, "webhook")
    state.last_run_at = state.last_success_at = delivery.processed_at
    _record_items(state, counts, delivery.processed_at)


def _give_up(delivery: WebhookDelivery, failed: int, error: str) -> ApplyCounts:
    """The delivery failed too often: keep it as a dead letter an admin can replay."""
    message = f"gave up after {failed} failed attempts: {error}"
    dead_letter(db.session.get(Account, delivery.account_id), delivery.platform, "webhook", delivery.payload,
                message)
    delivery.processed_at = utcnow()
    delivery.last_error = clean_text(message)[:4000]
    db.session.commit()
    return ApplyCounts(dead=1)


def sweep_pending_deliveries(older_than_seconds: int = 60) -> int:
    """Periodic job: re-enqueue webhook deliveries whose job was lost (Redis restarted)."""
    from desk.queue import enqueue

    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(
        db.select(WebhookDelivery.id).where(WebhookDelivery.processed_at.is_(None),
                                            WebhookDelivery.received_at < cutoff).limit(1000)
    ).all()
    for delivery_id in ids:
        enqueue(jobs.PROCESS_DELIVERY, delivery_id)
    return len(ids)


def replay_dead_letter(letter_id: int) -> ApplyCounts:
    """Apply a dead letter's payload again (after a fix in the parser).

    If it still fails, the letter stays pending with the new error (and ``dead`` = 1
    in the counts) so the admin page shows why.
    """
    letter = db.session.get(DeadLetter, letter_id)
    counts = ApplyCounts()
    if letter is None or letter.status != "pending" or letter.account is None:
        return counts
    module = network_module(letter.platform)
    try:
        raw = json.loads(letter.payload)
        updates = module.parse_delivery(letter.account, raw) \
            if letter.source == "webhook" and hasattr(module, "parse_delivery") else [raw]
        events = [e for u in updates for e in normalize(letter.account, module, u)]
        apply_events(events, counts)
    except Exception as exc:  # noqa: BLE001 — still broken: keep it, with the new error
        db.session.rollback()
        letter = db.session.get(DeadLetter, letter_id)
        assert letter is not None  # read at the top of this job
        letter.error = f"{exc.__class__.__name__}: {exc}"[:4000]
        letter.replay_count += 1
        db.session.commit()
        return ApplyCounts(dead=1)
    letter.status = "replayed"
    letter.replayed_at = utcnow()
    letter.replay_count += 1
    db.session.commit()
    return counts


# --- periodic jobs (registered in desk.periodic.PERIODIC_JOBS) --------------------------

LOCK_PREFIX = "desk:collect-lock:"


def is_polling(account: Account) -> bool:
    """Whether the account is collected by polling: its network module has ``fetch`` and
    the account is not switched to webhook delivery (``settings["mode"] == "webhook"``)."""
    if (account.settings or {}).get("mode") == "webhook":
        return False
    try:
        return hasattr(network_module(account.platform), "fetch")
    except (KeyError, ModuleNotFoundError):
        return False


def poll_interval(account: Account) -> int:
    configured = (account.settings or {}).get("poll_interval_seconds")
    return int(configured or current_app.config["COLLECT_INTERVAL_SECONDS"])


def poll_due_accounts(now: datetime | None = None) -> list[int]:
    """Periodic job: enqueue a poll of every active polling account whose interval has
    passed since its last run. Returns the account ids enqueued."""
    from desk.queue import enqueue

    now = now or utcnow()
    last_runs = dict(db.session.execute(
        db.select(CollectorState.account_id, CollectorState.last_run_at).where(CollectorState.stream == "main")
    ).all())
    due = []
    for account in db.session.scalars(db.select(Account).where(Account.is_active.is_(True), Account.on_networks())).all():
        last = last_runs.get(account.id)
        if not is_polling(account):
            continue
        if last is None or (now - last).total_seconds() >= poll_interval(account) - 1:
            due.append(account.id)
    db.session.rollback()  # read-only; nothing to keep open while enqueueing
    for account_id in due:
        enqueue(jobs.POLL_ACCOUNT, account_id, job_timeout=600)
    return due


def poll_account_job(account_id: int) -> dict:
    """RQ job: poll one account, never two polls of the same account at once (a second
    getUpdates would cut the first one off with 409). A network fault is recorded on
    the collector state and shown on the admin page; the job itself ends normally."""
    from desk.queue import get_redis

    lock = get_redis().lock(f"{LOCK_PREFIX}{account_id}", timeout=600, blocking=False)
    if not lock.acquire(blocking=False):
        return {"skipped": "another poll of this account is running"}
    try:
        counts = poll_account(account_id)
        return {"created": counts.created, "joined": counts.joined, "duplicate": counts.duplicate,
                "posts": counts.posts, "skipped": counts.skipped, "dead": counts.dead}
    except ChannelError as exc:
        return {"error": exc.description}
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 — expired lock: nothing to release
            pass
