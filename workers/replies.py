"""RQ jobs that post public replies, exactly once: entry points to the outbox engine
(:mod:`desk.outbox.engine`, which documents the claim-commit-send-commit protocol) for
the kind :data:`desk.replies.outbox.REPLIES`.

``post_delivery(id)`` posts one row; ``post_deliveries(ids)`` posts several in one RQ
job, each on its own claim; ``sweep()`` (periodic) re-enqueues rows whose job was lost
and turns rows stuck in ``sending`` without a lease into ``unknown``.
"""
from __future__ import annotations

from desk.outbox import engine
from desk.replies.outbox import REPLIES

LEASE_KEY = REPLIES.lease_key


def post_delivery(delivery_id: int) -> str:
    return engine.post(REPLIES, delivery_id)


def post_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    return engine.post_each(REPLIES, delivery_ids)


def sweep(older_than_seconds: int = 120) -> dict[str, int]:
    return engine.sweep(REPLIES, older_than_seconds)
