"""The queue pages over real HTTP at a million tickets, on SQLite and on PostgreSQL.

    .venv/bin/python bench/queue_pages.py [--tickets 1000000] [--backends sqlite,postgresql]
        [--reps 300] [--depth 200] [--out bench/results/queue_pages.md] [--keep] [--reuse]

For each backend: a fresh database (a file under /tmp, or the PostgreSQL database
``bench_queue`` on 127.0.0.1:5432, dropped at the end), the schema, ``flask seed-bulk``
(one message per ticket), statistics, an operator from ``flask users create``. The
backends are seeded in parallel, then measured one after the other: gunicorn with 2 sync
workers serves ``wsgi:app`` and one logged-in HTTP client times each page ``--reps`` times
after a warm-up. The status-count cache (15 s in Redis)
is left on, as in production, so a few requests per case pay the uncached GROUP BY: they
show up in ``max``, not in p95. ``--keep`` leaves the databases in place and ``--reuse``
measures them again without seeding (for trying a fix).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "bench_queue"
EMAIL, PASSWORD = "bench-operator@city.test", "bench-password-1"
GOAL_MS = 25.0
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEXT_RE = re.compile(r'href="([^"]+)"\s+rel="next"')
CARD_RE = re.compile(r'href="(/tickets/\d+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)


def pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def prepare(env: dict, tickets: int) -> float:
    """Schema, bulk tickets, statistics and the operator; returns the seeding seconds."""
    subprocess.run([PYTHON, "-c", "from desk import create_app; from desk.extensions import db\n"
                    "app = create_app()\nwith app.app_context(): db.create_all()"],
                   cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    flask(env, "seed-bulk", "--tickets", str(tickets))
    seconds = time.perf_counter() - started
    # What autovacuum / a DBA would do after a bulk load: planner statistics and, on
    # PostgreSQL, the visibility map for index-only scans.
    subprocess.run([PYTHON, "-c", "from desk import create_app; from desk.extensions import db\n"
                    "app = create_app()\n"
                    "with app.app_context():\n"
                    "    with db.engine.connect().execution_options(isolation_level='AUTOCOMMIT') as c:\n"
                    "        c.exec_driver_sql('VACUUM ANALYZE' if db.engine.dialect.name == 'postgresql'"
                    " else 'ANALYZE')"], cwd=ROOT, env=env, check=True)
    flask(env, "users", "create", "--email", EMAIL, "--password", PASSWORD, "--role", "operator")
    return seconds


def start_server(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.kill()
    raise RuntimeError("gunicorn did not answer in 60 s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def login(client: httpx.Client) -> None:
    page = client.get("/login")
    token = CSRF_RE.search(page.text).group(1)
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code}")


def follow_next(client: httpx.Client, url: str, pages: int) -> str:
    for _ in range(pages):
        response = client.get(url)
        found = NEXT_RE.search(response.text)
        if not found:
            break
        url = unescape(found.group(1))
    return url


def timed(client: httpx.Client, url: str, reps: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return samples


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(base_url: str, reps: int, depth: int) -> list[tuple[str, str, list[float]]]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        login(client)
        first = "/queue"
        filtered = "/queue?status=new&platform=vk"
        deep_all = follow_next(client, "/queue?status=all", depth)
        deep_new = follow_next(client, "/queue", depth)
        card = CARD_RE.search(client.get(deep_all).text).group(1)
        cases = [
            ("queue, first page (new)", first),
            ("queue, filtered (status=new&platform=vk)", filtered),
            (f"queue, {depth} pages deep (all statuses)", deep_all),
            (f"queue, {depth} pages deep (new)", deep_new),
            ("queue, first page by deadline (open)", "/queue?status=triaged&status=in_progress&sort=deadline"),
            ("ticket card", card),
        ]
        return [(name, url, timed(client, url, reps)) for name, url in cases]


SQLITE_PATH = Path(tempfile.gettempdir()) / "bench_queue.sqlite3"


def backend_env(backend: str, work: Path) -> dict:
    env = dict(os.environ)
    instance = work / f"instance-{backend}"
    instance.mkdir(parents=True, exist_ok=True)
    env.update({"DESK_INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-" + "x" * 40,
                "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
                "FLASK_DEBUG": "0"})
    env["DATABASE_URL"] = (f"sqlite:///{SQLITE_PATH}" if backend == "sqlite"
                           else f"postgresql://postgres@127.0.0.1:5432/{PG_BENCH_DB}")
    return env


def create_database(backend: str) -> None:
    if backend == "sqlite":
        SQLITE_PATH.unlink(missing_ok=True)
    else:
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{PG_BENCH_DB}"')


def drop_database(backend: str) -> None:
    if backend == "sqlite":
        SQLITE_PATH.unlink(missing_ok=True)
    else:
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')


def seed_backend(backend: str, tickets: int, env: dict, out: dict) -> None:
    try:
        create_database(backend)
        print(f"[{backend}] seeding {tickets} tickets", flush=True)
        out["seed_seconds"] = prepare(env, tickets)
        print(f"[{backend}] seeded in {out['seed_seconds']:.0f} s", flush=True)
    except Exception as exc:  # reported by the main thread
        out["error"] = exc


def measure_backend(backend: str, env: dict, reps: int, depth: int) -> list:
    port = free_port()
    server = start_server(env, port)
    try:
        print(f"[{backend}] measuring", flush=True)
        return measure(f"http://127.0.0.1:{port}", reps, depth)
    finally:
        stop_server(server)


def report(runs: list[dict], tickets: int, reps: int) -> str:
    lines = [
        "# Queue pages over HTTP",
        "",
        f"Generated by `bench/queue_pages.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{tickets:,} tickets with one message each (`flask seed-bulk`), gunicorn with 2 sync workers, "
        f"one logged-in operator client, {reps} sequential requests per case after 5 warm-up requests; "
        f"times are the whole HTTP round trip including rendering. {os.cpu_count()} CPUs. "
        f"Goal: p95 < {GOAL_MS:.0f} ms.",
        "",
    ]
    for run in runs:
        seeded = f"seeded in {run['seed_seconds']:.0f} s" if run["seed_seconds"] else "database reused"
        lines += [f"## {run['backend']} ({seeded})", "",
                  "| case | URL | p50 ms | p95 ms | max ms | goal |", "|---|---|---:|---:|---:|---|"]
        for name, url, samples in run["results"]:
            p95 = percentile(samples, 95)
            short = url if len(url) < 60 else url[:57] + "..."
            lines.append(f"| {name} | `{short}` | {statistics.median(samples):.1f} | {p95:.1f} | "
                         f"{max(samples):.1f} | {'ok' if p95 < GOAL_MS else 'MISSED'} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--depth", type=int, default=200, help="How many `next` links to follow.")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "queue_pages.md"))
    parser.add_argument("--keep", action="store_true", help="Leave the databases in place.")
    parser.add_argument("--reuse", action="store_true", help="Measure kept databases without seeding.")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    work = Path(tempfile.mkdtemp(prefix="bench_queue_"))
    runs = [{"backend": b, "env": backend_env(b, work), "seed_seconds": None} for b in backends]
    try:
        if not args.reuse:
            threads = [threading.Thread(target=seed_backend, args=(r["backend"], args.tickets, r["env"], r))
                       for r in runs]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for r in runs:
                if "error" in r:
                    raise r["error"]
        for r in runs:
            r["results"] = measure_backend(r["backend"], r["env"], args.reps, args.depth)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            for b in backends:
                drop_database(b)
    text = report(runs, args.tickets, args.reps)
    print(text)
    if args.out != "-":
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
