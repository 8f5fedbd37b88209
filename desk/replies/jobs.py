"""Enqueueing the posting job by name (``desk`` never imports ``workers``); call after commit."""
from __future__ import annotations

from datetime import timedelta

from ..queue import get_queue, get_redis

POST_JOB = "workers.replies.post_delivery"
#: several rows in one job: each is still claimed and committed on its own before its send
POST_BATCH_JOB = "workers.replies.post_deliveries"
#: rows per job; RQ's own bookkeeping costs several milliseconds a job
BATCH = 20
SWEEP_JOB = "workers.replies.sweep"
JOB_TIMEOUT = 120
#: set while a job for the row is queued or scheduled, so the sweeper leaves it alone
PENDING_KEY = "desk:reply-job:{}"
PENDING_GRACE = 120


def _mark_pending(delivery_id: int, seconds: float) -> None:
    get_redis().set(PENDING_KEY.format(delivery_id), "1", ex=int(seconds) + PENDING_GRACE)


def has_pending_job(delivery_id: int) -> bool:
    return bool(get_redis().exists(PENDING_KEY.format(delivery_id)))


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """One job per :data:`BATCH` rows, in the given order (callers interleave accounts);
    a single row keeps its own job."""
    queue = get_queue()
    for delivery_id in delivery_ids:
        _mark_pending(delivery_id, 0)
    for start in range(0, len(delivery_ids), BATCH):
        chunk = list(delivery_ids[start:start + BATCH])
        if len(chunk) == 1:
            queue.enqueue(POST_JOB, chunk[0], job_timeout=JOB_TIMEOUT, result_ttl=600)
        else:
            queue.enqueue(POST_BATCH_JOB, chunk, job_timeout=JOB_TIMEOUT + 30 * len(chunk), result_ttl=600)


def enqueue_delivery_in(delivery_id: int, seconds: float) -> None:
    """Run the job again once ``seconds`` have passed (RQ's scheduler moves it)."""
    _mark_pending(delivery_id, seconds)
    get_queue().enqueue_in(timedelta(seconds=max(seconds, 0.0)), POST_JOB, delivery_id,
                           job_timeout=JOB_TIMEOUT, result_ttl=600)
