"""``flask worker [--burst]``: an RQ worker inside the app context, with the scheduler."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Queue, Worker

from .periodic import Ticker
from .queue import get_redis


class AppWorker(Worker):
    """Runs every job inside the Flask app context (jobs use the app's db and config)."""

    app: Flask | None = None

    def perform_job(self, job, queue, *args, **kwargs):
        # RQ 3 passes an ``execution`` too; without it every work horse exits with 1.
        with self.app.app_context():
            return super().perform_job(job, queue, *args, **kwargs)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Drain the queues and exit.")
@click.option("--queues", default="default", help="Comma-separated queue names.")
@with_appcontext
def worker_command(burst: bool, queues: str) -> None:
    """Run an RQ worker for the desk's queues."""
    app = current_app._get_current_object()
    conn = get_redis()
    AppWorker.app = app
    worker = AppWorker([Queue(q.strip(), connection=conn) for q in queues.split(",") if q.strip()],
                       connection=conn)
    click.echo(f"worker listening on {queues} ({'burst' if burst else 'continuous'})")
    if not burst:  # periodic jobs: each slot is enqueued once across all workers
        Ticker(conn).start()
    worker.work(burst=burst, with_scheduler=True)


def init_cli(app: Flask) -> None:
    app.cli.add_command(worker_command)
