"""Helpers shared by the MAX and OK collector tests."""
from __future__ import annotations

from collections.abc import Callable

from rq import SimpleWorker

from desk.channels.errors import ChannelError
from desk.extensions import db
from desk.queue import get_queue
from workers.collectors.base import poll_account


def all_rows(model) -> list:
    return db.session.scalars(db.select(model).order_by(model.id)).all()


def no_sleep(_seconds: float) -> None:
    pass


def drain_queue() -> None:
    """Run every queued job in this process (webhook deliveries, …)."""
    queue = get_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def poll_through_faults(account_id: int, done: Callable[[], bool], rounds: int = 60) -> None:
    """Poll as the periodic job would while the network misbehaves: a round whose
    retries run out just fails, and the next round carries on from the saved cursor."""
    for _ in range(rounds):
        try:
            poll_account(account_id, sleep=no_sleep, attempts=3)
        except ChannelError:
            continue
        if done():
            return
