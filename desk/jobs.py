"""Every job the desk enqueues, by name, and jobs sent only once their transaction commits.

``desk`` never imports ``workers``: it enqueues a worker function by its dotted name,
and each name is declared here once. The worker function must exist under that name
(``tests/test_jobs_after_commit.py`` imports each one).

A request handler (or a job) that owns a transaction calls :func:`enqueue_after_commit`
*before* its commit: the job is kept in the session's ``info`` and an ``after_commit``
listener sends it, so a job never runs before the rows it loads are visible, and a
rollback (of the transaction, or of the savepoint the job was queued in) discards it.
This is Zulip's ``send_event_on_commit`` and Indico's e-mail queue flushed after commit.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rq import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

# --- job names (dotted paths of worker functions) ----------------------------------------------

PROCESS_DELIVERY = "workers.collectors.base.process_delivery"  # a stored webhook delivery
REPLAY_DEAD_LETTER = "workers.collectors.base.replay_dead_letter"
POLL_ACCOUNT = "workers.collectors.base.poll_account_job"
COLLECT_MENTIONS = "workers.collectors.vk.collect_mentions"
POST_REPLY = "workers.replies.post_delivery"
#: several rows in one job: each is still claimed and committed on its own before its send
POST_REPLIES = "workers.replies.post_deliveries"
POST_ANNOUNCEMENT = "workers.crosspost.post_announcement_delivery"
RECOMPUTE_DEADLINES = "workers.sla.recompute_deadlines"

# periodic jobs (desk.periodic runs them on their intervals)
ESCALATE = "workers.sla.escalate"
POLL_DUE_ACCOUNTS = "workers.collectors.base.poll_due_accounts"
SWEEP_WEBHOOK_DELIVERIES = "workers.collectors.base.sweep_pending_deliveries"
SWEEP_REPLIES = "workers.replies.sweep"
COLLECT_ALL_MENTIONS = "workers.collectors.vk.collect_all_mentions"
SNAPSHOT_SUBSCRIBERS = "workers.stats.snapshot_subscribers"
SWEEP_ANNOUNCEMENTS = "workers.crosspost.sweep"
WEEKLY_DIGEST = "workers.reports.send_weekly_digest_when_due"
# e-mails to residents who filed straight with the desk (web form, Open311)
RESIDENT_FILED = "workers.residents.mail_filed"  # the confirmation with the status link
RESIDENT_ANSWERED = "workers.residents.mail_answer"  # a city answer (a delivery id)
RESIDENT_STATUS = "workers.residents.mail_status"  # the incident's public status changed

#: RQ's retry of a letter the mail server did not take (1 min, 5 min, 30 min, 2 h)
MAIL_RETRY = Retry(max=4, interval=[60, 300, 1800, 7200])

# --- after commit -------------------------------------------------------------------------------

_KEY = "desk_after_commit"


@dataclass(frozen=True)
class _Pending:
    send: Callable[[], Any]
    what: str
    #: a sweeper enqueues the job later if Redis fails now: log the failure and go on
    best_effort: bool
    #: the (sub)transaction the job was queued in: its rollback discards the job
    transaction: SessionTransaction


def _session() -> Session:
    from .extensions import db

    return db.session()


def call_after_commit(send: Callable[[], Any], what: str, *, best_effort: bool = False,
                      session: Session | None = None) -> None:
    """Run ``send()`` (a Redis call) once the session's outermost transaction commits.

    ``best_effort``: a sweeper catches up, so a failure to enqueue is logged and
    swallowed; otherwise it is raised from ``commit()`` once the transaction has closed
    (the rows are committed by then), and the app answers a Redis outage with its 503
    page, as it did when views enqueued after their commit."""
    session = session or _session()
    if not session.in_transaction():
        session.begin()  # begins lazily: no connection until the first statement
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None
    session.info.setdefault(_KEY, []).append(_Pending(send, what, best_effort, transaction))


def enqueue_after_commit(name: str, *args: Any, best_effort: bool = False, queue: str = "default",
                         session: Session | None = None, **options: Any) -> None:
    """Enqueue the job ``name`` (a constant of this module) with ``args`` after the commit;
    ``options`` go to RQ (``job_timeout``, ``result_ttl`` …)."""
    from .queue import enqueue

    call_after_commit(lambda: enqueue(name, *args, queue=queue, **options), f"{name}{args!r}",
                      best_effort=best_effort, session=session)


def pending_jobs(session: Session | None = None) -> list[str]:
    """What the session will send on commit (for tests and debugging)."""
    return [p.what for p in (session or _session()).info.get(_KEY, [])]


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its jobs now wait for the outermost commit
    pending = session.info.pop(_KEY, [])
    failure: Exception | None = None
    for job in pending:
        try:
            job.send()
        except Exception as exc:  # noqa: BLE001 — Redis down, or the server refusing: same answer
            if job.best_effort:
                log.exception("could not enqueue %s; the sweeper will", job.what)
            else:
                log.error("could not enqueue %s after commit: %s", job.what, exc)
                failure = failure or exc
    if failure is not None:
        # Raised once the transaction has closed (raising here would leave the session
        # half-committed); the remaining jobs were still tried.
        session.info["desk_after_commit_failure"] = failure


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_KEY)
    if pending:
        session.info[_KEY] = [p for p in pending if not _within(p.transaction, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(_KEY, None)  # closed without commit (session.close()): nothing is sent
    failure = session.info.pop("desk_after_commit_failure", None)
    if failure is not None:
        raise failure
