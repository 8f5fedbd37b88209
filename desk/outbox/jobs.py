"""Enqueueing an outbox's posting job by name (a constant of :mod:`desk.jobs`; ``desk`` never imports ``workers``).

Each outbox (replies, announcements) describes its jobs with one :class:`OutboxJobs`. A
Redis marker is set while a job for a row is queued or scheduled, so the sweeper leaves
that row alone instead of piling up duplicate jobs (a duplicate would be harmless, the
claim lets one through, but it costs a job).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ..queue import get_queue, get_redis

#: rows per batch job; RQ's own bookkeeping costs several milliseconds a job
BATCH = 20
JOB_TIMEOUT = 120
#: the marker outlives the job's planned start by this much
PENDING_GRACE = 120


@dataclass(frozen=True)
class OutboxJobs:
    #: the job that posts one row: ``f(delivery_id)``
    post_job: str
    #: Redis key set while a job for the row is queued or scheduled: ``"…:{}"``
    pending_key: str
    #: the job that posts several rows, each on its own claim: ``f(delivery_ids)``; None: one job a row
    batch_job: str | None = None

    def _mark_pending(self, delivery_id: int, seconds: float) -> None:
        get_redis().set(self.pending_key.format(delivery_id), "1", ex=int(seconds) + PENDING_GRACE)

    def has_pending(self, delivery_id: int) -> bool:
        return bool(get_redis().exists(self.pending_key.format(delivery_id)))

    def enqueue(self, delivery_ids: Sequence[int]) -> None:
        """Run now: one job per :data:`BATCH` rows in the given order (callers interleave
        accounts) where there is a batch job, else one job a row."""
        queue = get_queue()
        for delivery_id in delivery_ids:
            self._mark_pending(delivery_id, 0)
        size = BATCH if self.batch_job else 1
        for start in range(0, len(delivery_ids), size):
            chunk = list(delivery_ids[start:start + size])
            if len(chunk) == 1 or self.batch_job is None:
                queue.enqueue(self.post_job, chunk[0], job_timeout=JOB_TIMEOUT, result_ttl=600)
            else:
                queue.enqueue(self.batch_job, chunk, job_timeout=JOB_TIMEOUT + 30 * len(chunk), result_ttl=600)

    def enqueue_in(self, delivery_id: int, seconds: float) -> None:
        """Run the row's job once ``seconds`` have passed (RQ's scheduler moves it)."""
        self._mark_pending(delivery_id, seconds)
        get_queue().enqueue_in(timedelta(seconds=max(seconds, 0.0)), self.post_job, delivery_id,
                               job_timeout=JOB_TIMEOUT, result_ttl=600)
