"""How fast the SLA report is over a year of 1,000,000 tickets, and how much memory an
XLSX export of 100,000 rows takes.

    .venv/bin/python bench/sla_report.py --url postgresql://postgres@127.0.0.1:5432/bench_reports
    .venv/bin/python bench/sla_report.py --url sqlite:////tmp/bench_reports.sqlite3

Seeds the database once with ``flask seed-bulk``'s Core bulk insert (tickets spread over
the last 365 days), then prints the median of several runs of: the compliance query
(all four dimensions, one grouped scan), the percentiles, the trends, and the whole
report. The export runs in a fresh child process so that its peak RSS is not the seeding's.

Measured on 26.11.2026 (2 cores shared with other work, load average 8–10; 800,125
appeals in the year), median of 5 runs:

    PostgreSQL 15: compliance 651 ms; percentiles 1.4 s; trends 1.1 s; whole page 3.5 s
    SQLite 3.40:   compliance 2.8 s wall (1.8 s CPU); percentiles 3.6 s; trends 1.2 s;
                   whole page 10.8 s (6.1 s CPU)
    XLSX of 100,000 rows: 14.3 MB in 26-28 s, peak RSS 106-112 MB, 4-8 MB above the
    loaded app (XlsxWriter constant_memory, rows by yield_per)
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lists_bench import ensure_database  # noqa: E402  (creates the PostgreSQL database)


def make_app(url: str):
    os.environ.setdefault("DESK_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-reports-"))
    from desk import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "REDIS_URL": "redis://127.0.0.1:6379/11"})


def seed(n: int) -> None:
    from desk.demo.bulk import seed_bulk
    from desk.demo.loader import ensure_reference_data
    from desk.extensions import db
    from desk.models import Ticket

    db.create_all()
    have = db.session.scalar(db.select(db.func.count()).select_from(Ticket))
    if have >= n:
        print(f"{have} tickets already there")
        return
    ref = ensure_reference_data()
    db.session.commit()
    started = time.perf_counter()
    seed_bulk(n - have, 20_000, ref.accounts, ref.categories)
    print(f"seeded {n - have} tickets in {time.perf_counter() - started:.0f} s")
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


def timed(label: str, fn, runs: int = 5) -> float:
    """Median wall time; also the median CPU time of this process, which on SQLite is
    the query's own cost even when other work competes for the machine's cores."""
    fn()  # warm the cache: the report is read repeatedly, not once after boot
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    median = statistics.median(walls)
    print(f"{label:<46} median {median * 1000:7.0f} ms wall, {statistics.median(cpus) * 1000:6.0f} ms CPU here"
          f"  (wall min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f})")
    return median


def bench_report() -> None:
    from datetime import timedelta

    from desk.extensions import db
    from desk.models import Ticket, utcnow
    from desk.reports.figures import build_report, compliance, trends
    from desk.reports.filters import ReportFilters, city_tz
    from desk.reports.percentiles import durations
    from desk.reports.periods import Period, local_today

    tz, now = city_tz(), utcnow()
    today = local_today(now, tz)
    year = ReportFilters(Period(today - timedelta(days=365), today + timedelta(days=1)))
    in_year = db.session.scalar(db.select(db.func.count()).select_from(Ticket).where(*year.conditions(tz)))
    print(f"{db.engine.dialect.name}: {in_year} appeals in the year's report; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    timed("SLA compliance (4 dimensions, one scan)", lambda: compliance(year, now, tz))
    timed("median and p90 of reaction and resolution", lambda: durations(year, tz))
    timed("trends by week and month", lambda: trends(year, now, tz))
    timed("whole report page data", lambda: build_report(year, now, tz), runs=3)
    db.session.rollback()


def export_child(url: str, rows: int) -> None:
    """Runs in a fresh process: XLSX of ``rows`` tickets through the export code path."""
    app = make_app(url)
    with app.test_request_context("/reports/tickets.xlsx"):
        from desk.extensions import db
        from desk.models import Ticket
        from desk.reports.export import xlsx_response
        from desk.reports.filters import city_tz
        from desk.reports.tables import ticket_table

        top = db.session.scalar(db.select(db.func.max(Ticket.id)))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        response = xlsx_response([ticket_table([Ticket.id > top - rows], city_tz(), "Tickets")], "bench.xlsx")
        size = sum(len(chunk) for chunk in response.response)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"XLSX export of {rows} rows: {elapsed:.1f} s, {size / 1e6:.1f} MB; peak RSS {peak / 1024:.0f} MB "
          f"(app loaded: {before / 1024:.0f} MB, growth {(peak - before) / 1024:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(args.url, args.export_rows)
        return
    if args.url.startswith("postgresql"):
        ensure_database(args.url)
    app = make_app(args.url)
    with app.app_context():
        seed(args.tickets)
        bench_report()
    subprocess.run([sys.executable, __file__, "--url", args.url, "--export-rows", str(args.export_rows),
                    "--export-child"], check=True)


if __name__ == "__main__":
    main()
