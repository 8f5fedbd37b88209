"""RQ jobs that publish announcements, once per account: entry points to the outbox
engine (:mod:`desk.outbox.engine`) for the kind :data:`desk.registry.crosspost.ANNOUNCEMENTS`,
whose calls are :mod:`desk.registry.publishers`.
"""
from __future__ import annotations

from desk.outbox import engine
from desk.registry.crosspost import ANNOUNCEMENTS

LEASE_KEY = ANNOUNCEMENTS.lease_key


def post_announcement_delivery(delivery_id: int) -> str:
    return engine.post(ANNOUNCEMENTS, delivery_id)


def sweep(older_than_seconds: int = 120) -> dict[str, int]:
    return engine.sweep(ANNOUNCEMENTS, older_than_seconds)
