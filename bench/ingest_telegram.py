"""Ingest throughput: comments from the fake Telegram Bot API through ``getUpdates``
(100 updates a call) into tickets, end to end (HTTP, normalisation, ingest, commit with
the cursor).

    .venv/bin/python bench/ingest_telegram.py [--count 100000] [--database URL]

Without ``--database`` a fresh SQLite file in a temporary directory is used; pass
``postgresql://postgres@127.0.0.1:5432/bench_ingest`` for PostgreSQL (the database is
created if missing and its tables are recreated). Every comment is by a different
resident, so each one opens a ticket: the most expensive path.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _ensure_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def _backend_pid() -> int | None:
    """The PostgreSQL server process of this session's connection (same machine)."""
    from desk.extensions import db

    if db.engine.dialect.name != "postgresql":
        return None
    pid = db.session.scalar(db.text("SELECT pg_backend_pid()"))
    return pid if os.path.exists(f"/proc/{pid}/stat") else None


def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--database", default="")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-ingest-")
    os.environ.setdefault("DESK_INSTANCE_PATH", tmp)
    database = args.database or f"sqlite:///{tmp}/bench.sqlite3"
    if database.startswith("postgresql"):
        _ensure_postgres(database)

    from desk import create_app
    from desk.extensions import db
    from desk.models import Account, Message, Ticket
    from tests.fakes.telegram import FakeTelegram
    from workers.collectors.base import poll_account

    fake = FakeTelegram().start()
    bot = fake.add_bot()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench-" + "x" * 40,
                      "REDIS_URL": args.redis, "TELEGRAM_API_BASE": fake.url, "TESTING": True})
    with app.app_context():
        db.drop_all()
        db.create_all()
        account = Account(platform="telegram", name="Bench", direction="housing",
                          settings={"channel_id": bot.channel_id, "discussion_chat_id": bot.discussion_chat_id,
                                    "username": bot.channel_username})
        account.set_credentials({"bot_token": bot.token})
        db.session.add(account)
        db.session.commit()
        account_id = account.id

        per_post = args.count // args.posts
        for p in range(args.posts):
            _, forward = bot.publish(f"Пост {p}", channel_post_update=False)
            for i in range(per_post):
                n = p * per_post + i
                bot.comment(forward, f"Комментарий {n}: когда починят дорогу?", user=bot.user(10_000_000 + n))
        total_updates = len(bot.updates)
        print(f"{database.split('://')[0]}: {args.count} comments under {args.posts} posts "
              f"({total_updates} updates) queued in the fake")

        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        backend = _backend_pid()
        server_cpu = _cpu_seconds(backend)
        started, cpu_started = time.perf_counter(), time.process_time()
        while fake.pending(bot):
            poll_account(account_id, max_batches=1_000_000)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        server_cpu = _cpu_seconds(backend) - server_cpu
        if backend and _backend_pid() != backend:  # the pool handed out another connection
            backend = None
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        messages = db.session.scalar(db.select(db.func.count()).select_from(Message))
        tickets = db.session.scalar(db.select(db.func.count()).select_from(Ticket))
        calls = len(fake.calls("getUpdates"))
        print(f"ingested {messages} comments into {tickets} tickets in {elapsed:.1f} s "
              f"over {calls} getUpdates calls: {messages / elapsed:,.0f} comments/s")
        # Wall time depends on what else the machine runs; CPU time does not (much).
        # This process (collector + fake Telegram) runs on one core, PostgreSQL on the other.
        print(f"cpu: this process {cpu:.1f} s ({messages / cpu:,.0f} comments per CPU second)"
              + (f", PostgreSQL backend {server_cpu:.1f} s" if backend else ""))
        assert messages == args.count and tickets == args.count
    fake.stop()


if __name__ == "__main__":
    main()
