"""Enqueueing the posting job by name (``desk`` never imports ``workers``); call after commit."""
from __future__ import annotations

from datetime import timedelta

from ..queue import get_queue, get_redis

POST_JOB = "workers.replies.post_delivery"
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
    queue = get_queue()
    for delivery_id in delivery_ids:
        _mark_pending(delivery_id, 0)
        queue.enqueue(POST_JOB, delivery_id, job_timeout=JOB_TIMEOUT, result_ttl=600)


def enqueue_delivery_in(delivery_id: int, seconds: float) -> None:
    """Run the job again once ``seconds`` have passed (RQ's scheduler moves it)."""
    _mark_pending(delivery_id, seconds)
    get_queue().enqueue_in(timedelta(seconds=max(seconds, 0.0)), POST_JOB, delivery_id,
                           job_timeout=JOB_TIMEOUT, result_ttl=600)
