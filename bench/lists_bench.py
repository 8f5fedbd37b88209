"""How fast the ticket list queries are at a million tickets (PostgreSQL).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_lists \
        .venv/bin/python bench/lists_bench.py [--tickets 1000000]

Seeds the database once (server-side ``generate_series``), then prints the median time
of each list query over several runs. Counts are timed uncached (the pages cache them
for 15 s in Redis).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

SEEDED_COLUMNS = ("status", "priority", "subject", "platform", "direction", "author_name",
                  "author_external_id", "department_id", "category_id", "assignee_id", "resolution_due_at",
                  "created_at", "updated_at", "message_count", "is_mention", "sla_breached", "escalation_level")
SEED_SQL = """
INSERT INTO tickets ({columns})
SELECT
  CASE WHEN g % 100 < 3 THEN 'new' WHEN g % 100 < 6 THEN 'triaged' WHEN g % 100 < 9 THEN 'in_progress'
       WHEN g % 100 < 10 THEN 'waiting_resident' WHEN g % 100 < 20 THEN 'resolved'
       ELSE (ARRAY['closed','not_appeal','spam','merged'])[1 + g % 4] END,
  (ARRAY['low','normal','normal','normal','high','urgent'])[1 + g % 6],
  'Обращение ' || g || ': ' || (ARRAY['яма во дворе','нет света в подъезде','холодные батареи',
      'не вывозят мусор','автобус не пришёл','сломана горка','шумные соседи'])[1 + g % 7],
  (ARRAY['telegram','vk','max','ok'])[1 + g % 4],
  (ARRAY['housing','education','culture','sport','social','authorities'])[1 + g % 6],
  'Житель ' || (g % 50000), (g % 50000)::text,
  CASE WHEN g % 100 < 3 THEN NULL ELSE :first_dept + g % :depts END,
  :first_cat + g % :cats,
  NULL,
  CASE WHEN g % 100 < 10 THEN now() + ((g % 240) - 60) * interval '1 hour' END,
  now() - (:n - g) * interval '30 seconds', now(), 1, false, false, 0{extra_values}
FROM generate_series(1, :n) AS g
"""


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def seed(db, n: int) -> None:
    from desk.models import Category, Department, Ticket, User

    if db.session.scalar(db.select(db.func.count()).select_from(Ticket)) >= n:
        return
    db.session.rollback()
    db.drop_all()  # the models may have changed since the last seed
    db.create_all()
    depts = [Department(name=f"Отдел {i}") for i in range(12)]
    db.session.add_all(depts)
    db.session.flush()
    cats = [Category(name=f"Категория {i}", default_department_id=depts[i % 12].id) for i in range(30)]
    db.session.add_all(cats)
    head = User(email="head@bench.test", name="Head", role="department_head", department_id=depts[0].id)
    operator = User(email="operator@bench.test", name="Operator", role="operator")
    for u in (head, operator):
        u.set_password("bench-password")
    db.session.add_all([head, operator])
    db.session.flush()
    started = time.perf_counter()
    # Other required columns (added by other features) get their scalar defaults.
    extra = {c.name: c.default.arg for c in Ticket.__table__.columns
             if not c.nullable and not c.primary_key and c.name not in SEEDED_COLUMNS
             and c.default is not None and c.default.is_scalar}
    sql = SEED_SQL.format(columns=", ".join((*SEEDED_COLUMNS, *extra)),
                          extra_values="".join(f", :x_{c}" for c in extra))
    db.session.execute(text(sql), {"n": n, "first_dept": depts[0].id, "depts": 12, "first_cat": cats[0].id,
                                   "cats": 30, **{f"x_{c}": v for c, v in extra.items()}})
    db.session.commit()
    # As autovacuum would: statistics, and the visibility map for index-only scans.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE tickets"))
    print(f"seeded {n} tickets in {time.perf_counter() - started:.1f} s")


def timed(label: str, fn, runs: int = 7) -> None:
    fn()  # warm the cache of the database
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    print(f"{label:<48} median {statistics.median(samples):7.1f} ms   max {max(samples):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_lists")
    ensure_database(url)

    from desk import create_app
    from desk.extensions import db
    from desk.models import User
    from desk.tickets import counts
    from desk.tickets.queries import QueueFilters, queue_page

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        db.create_all()
        seed(db, args.tickets)
        operator = db.session.scalars(db.select(User).where(User.role == "operator")).first()
        head = db.session.scalars(db.select(User).where(User.role == "department_head")).first()

        def page(user, query: dict, pages: int = 1):
            def run():
                filters = QueueFilters.from_args(query)
                cursor = None
                for _ in range(pages):
                    result = queue_page(user, filters, cursor, 50)
                    cursor = result.next_cursor
                    db.session.expunge_all()
            return run

        timed("queue: new, newest", page(operator, {"status": "new"}))
        timed("queue: new, newest, 20 pages deep", page(operator, {"status": "new"}, pages=20))
        timed("queue: all statuses, newest", page(operator, {}))
        timed("queue: open, by deadline", page(operator, {"status": "triaged,in_progress", "sort": "deadline"}))
        timed("queue: vk + urgent", page(operator, {"platform": "vk", "priority": "urgent"}))
        timed("queue: overdue", page(operator, {"overdue": "1"}))
        timed("queue: full text 'батареи'", page(operator, {"q": "батареи", "status": "all"}))
        timed("queue: full text rare 'Житель 4242'", page(operator, {"q": "Житель 4242", "status": "all"}))
        timed("inbox: triaged", page(head, {"status": "triaged"}))
        timed("inbox: in progress, by deadline", page(head, {"status": "in_progress", "sort": "deadline"}))
        timed("counts by status (uncached)", lambda: _uncached(counts.status_counts, operator))
        timed("counts by status, one department (uncached)", lambda: _uncached(counts.status_counts, head))
        timed("counts by department (uncached)", lambda: _uncached(counts.department_counts))
        timed("20 oldest open", lambda: counts.oldest_open(operator))


def _uncached(fn, *args):
    from desk.tickets import counts

    original = counts.cached
    counts.cached = lambda key, compute, seconds=0: compute()
    try:
        return fn(*args)
    finally:
        counts.cached = original


if __name__ == "__main__":
    main()
