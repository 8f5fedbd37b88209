"""Enqueueing the reply posting jobs by name (``desk`` never imports ``workers``).

Views and jobs that own a transaction call :func:`enqueue_deliveries_after_commit`
before their commit; the outbox engine, after its own commit, calls the immediate
:func:`enqueue_deliveries` / :func:`enqueue_delivery_in`."""
from __future__ import annotations

from collections.abc import Sequence

from .. import jobs
from ..outbox.jobs import OutboxJobs

POST_JOB = jobs.POST_REPLY
POST_BATCH_JOB = jobs.POST_REPLIES
SWEEP_JOB = jobs.SWEEP_REPLIES
#: set while a job for the row is queued or scheduled, so the sweeper leaves it alone
PENDING_KEY = "desk:reply-job:{}"
JOBS = OutboxJobs(POST_JOB, PENDING_KEY, batch_job=POST_BATCH_JOB)


def has_pending_job(delivery_id: int) -> bool:
    return JOBS.has_pending(delivery_id)


def enqueue_deliveries(delivery_ids: Sequence[int]) -> None:
    """Now: one job per batch of rows, in the given order (callers interleave accounts);
    a single row keeps its own job."""
    JOBS.enqueue(delivery_ids)


def enqueue_deliveries_after_commit(delivery_ids: Sequence[int]) -> None:
    """:func:`enqueue_deliveries` once the current transaction commits (nothing on a
    rollback). A Redis failure then surfaces as before: the web answers 503."""
    ids = list(delivery_ids)
    if ids:
        jobs.call_after_commit(lambda: JOBS.enqueue(ids), f"{POST_JOB}{ids!r}")


def enqueue_delivery_in(delivery_id: int, seconds: float) -> None:
    """Run the job again once ``seconds`` have passed (RQ's scheduler moves it)."""
    JOBS.enqueue_in(delivery_id, seconds)
