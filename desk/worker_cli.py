"""``flask worker [--burst] [--no-fork]``: an RQ worker inside the app context, with the scheduler.

By default RQ forks a work horse per job, so a job starts from the worker's memory:
the worker configures the ORM's mappers before its first fork, or every job would pay
for it. ``--no-fork`` runs jobs in the worker process itself (RQ's SimpleWorker): its
database connections, compiled statements and HTTP clients stay warm from job to job,
which matters when thousands of small jobs (posting replies) run back to back; a job
that crashes the interpreter then takes the worker down with it.
"""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Queue, SimpleWorker, Worker
from sqlalchemy.orm import configure_mappers

from .periodic import Ticker
from .queue import get_redis


def _bound(app: Flask | None) -> Flask:
    if app is None:
        raise RuntimeError("set the worker class's app before it runs jobs")
    return app


class AppWorker(Worker):
    """Runs every job inside the Flask app context (jobs use the app's db and config)."""

    app: Flask | None = None

    def perform_job(self, job, queue, *args, **kwargs):
        # RQ 3 passes an ``execution`` too; without it every work horse exits with 1.
        with _bound(self.app).app_context():
            return super().perform_job(job, queue, *args, **kwargs)


class AppSimpleWorker(SimpleWorker):
    """Runs every job in the worker process, inside the Flask app context."""

    app: Flask | None = None

    def perform_job(self, job, queue, *args, **kwargs):
        with _bound(self.app).app_context():
            return super().perform_job(job, queue, *args, **kwargs)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Drain the queues and exit.")
@click.option("--queues", default="default", help="Comma-separated queue names.")
@click.option("--no-fork", is_flag=True, help="Run jobs in the worker process (no fork per job).")
@click.option("--no-periodic", is_flag=True, help="Only drain the queues; enqueue no periodic jobs (benches).")
@with_appcontext
def worker_command(burst: bool, queues: str, no_fork: bool, no_periodic: bool) -> None:
    """Run an RQ worker for the desk's queues."""
    # current_app is typed as Flask but is a werkzeug LocalProxy; the worker keeps the real app.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    conn = get_redis()
    configure_mappers()  # once here, not in every forked work horse
    worker_class = AppSimpleWorker if no_fork else AppWorker
    worker_class.app = app
    worker = worker_class([Queue(q.strip(), connection=conn) for q in queues.split(",") if q.strip()],
                          connection=conn)
    click.echo(f"worker listening on {queues} ({'burst' if burst else 'continuous'})")
    if not burst and not no_periodic:  # periodic jobs: each slot is enqueued once across all workers
        Ticker(conn).start()
    worker.work(burst=burst, with_scheduler=True)


def init_cli(app: Flask) -> None:
    app.cli.add_command(worker_command)
