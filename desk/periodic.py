"""Periodic jobs, enqueued by every ``flask worker`` but exactly once per time slot.

RQ 3's ``CronScheduler`` keeps its schedule in the memory of each process and takes no
lock, so two workers each running one would enqueue every job twice. Instead each
worker runs a small ticker thread; for a job due in slot ``floor(now / interval)`` the
ticker first claims the key ``desk:periodic:<job>:<slot>`` with ``SET NX``; only the
worker that wins the claim enqueues. The jobs are idempotent anyway.
"""
from __future__ import annotations

import logging
import threading
import time

from redis import Redis
from rq import Queue

from . import jobs

log = logging.getLogger(__name__)

# (job name, interval in seconds); the names are declared in desk.jobs.
PERIODIC_JOBS: list[tuple[str, int]] = [
    (jobs.ESCALATE, 300),
    (jobs.POLL_DUE_ACCOUNTS, 30),  # each account per COLLECT_INTERVAL_SECONDS
    (jobs.SWEEP_WEBHOOK_DELIVERIES, 60),
    (jobs.SWEEP_REPLIES, 60),  # re-enqueue replies whose job was lost
    (jobs.COLLECT_ALL_MENTIONS, 600),  # VK newsfeed.search per account
    (jobs.SNAPSHOT_SUBSCRIBERS, 10800),  # accounts still missing today's count
    (jobs.SWEEP_ANNOUNCEMENTS, 60),  # announcements whose posting job was lost
    (jobs.WEEKLY_DIGEST, 3600),  # Monday 08:00 city time, once a week
]
TICK_SECONDS = 20


def slot_key(job: str, slot: int) -> str:
    return f"desk:periodic:{job}:{slot}"


def enqueue_due(conn: Redis, queue: str = "default", now: float | None = None,
                jobs: list[tuple[str, int]] | None = None) -> list[str]:
    """Enqueue every job whose current slot nobody has claimed yet; returns the enqueued names."""
    now = time.time() if now is None else now
    enqueued = []
    for dotted, interval in (PERIODIC_JOBS if jobs is None else jobs):
        slot = int(now // interval)
        if conn.set(slot_key(dotted, slot), "1", nx=True, ex=interval * 2):
            Queue(queue, connection=conn).enqueue(dotted, job_timeout=max(interval, 60), result_ttl=interval * 4)
            enqueued.append(dotted)
    return enqueued


class Ticker(threading.Thread):
    """Calls :func:`enqueue_due` every :data:`TICK_SECONDS` until stopped."""

    def __init__(self, conn: Redis, queue: str = "default") -> None:
        super().__init__(name="desk-periodic", daemon=True)
        self.conn, self.queue = conn, queue
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                enqueue_due(self.conn, self.queue)
            except Exception:  # a Redis hiccup must not kill the ticker
                log.exception("periodic enqueue failed")
            self.stopped.wait(TICK_SECONDS)
