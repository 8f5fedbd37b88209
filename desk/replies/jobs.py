"""Enqueueing the reply posting jobs by name (``desk`` never imports ``workers``); call after commit."""
from __future__ import annotations

from collections.abc import Sequence

from ..outbox.jobs import OutboxJobs

POST_JOB = "workers.replies.post_delivery"
#: several rows in one job: each is still claimed and committed on its own before its send
POST_BATCH_JOB = "workers.replies.post_deliveries"
SWEEP_JOB = "workers.replies.sweep"
#: set while a job for the row is queued or scheduled, so the sweeper leaves it alone
PENDING_KEY = "desk:reply-job:{}"
JOBS = OutboxJobs(POST_JOB, PENDING_KEY, batch_job=POST_BATCH_JOB)


def has_pending_job(delivery_id: int) -> bool:
    return JOBS.has_pending(delivery_id)


def enqueue_deliveries(delivery_ids: Sequence[int]) -> None:
    """One job per batch of rows, in the given order (callers interleave accounts);
    a single row keeps its own job."""
    JOBS.enqueue(delivery_ids)


def enqueue_delivery_in(delivery_id: int, seconds: float) -> None:
    """Run the job again once ``seconds`` have passed (RQ's scheduler moves it)."""
    JOBS.enqueue_in(delivery_id, seconds)
