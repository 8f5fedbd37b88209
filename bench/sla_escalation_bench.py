"""How long one escalation run takes over many open tickets.

    .venv/bin/python bench/sla_escalation_bench.py [--tickets 20000] [--database-url URL]

Defaults to a temporary SQLite file. Seeds open tickets created over the last 20
working days (deadlines computed by the SLA functions), then times the first run of
``workers.sla.escalate`` (which writes the notices) and a second run (nothing new).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="sla-bench-")
    os.environ.setdefault("DESK_INSTANCE_PATH", tmp)
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"

    from desk import create_app
    from desk.extensions import db
    from desk.models import Department, Role, Ticket, User, utcnow
    from desk.sla.deadlines import compute_reaction_due, compute_resolution_due
    from desk.sla.policies import PolicyTerms
    from desk.sla.store import get_calendar
    from workers.sla import escalate

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_SERVER": "", "TESTING": True})
    with app.app_context():
        db.drop_all()
        db.create_all()
        depts = [Department(name=f"Отдел {i}") for i in range(20)]
        db.session.add_all(depts)
        db.session.flush()
        for i, d in enumerate(depts):
            db.session.add(User(email=f"head{i}@bench", role=Role.DEPARTMENT_HEAD.value, department_id=d.id,
                                password_hash="x"))
        db.session.add(User(email="manager@bench", role=Role.MANAGER.value, password_hash="x"))
        calendar, terms, now = get_calendar(), PolicyTerms(), utcnow()
        rows = []
        for i in range(args.tickets):
            created = now - timedelta(minutes=(i * 37) % (28 * 24 * 60))
            rows.append({"status": "in_progress", "priority": "normal", "platform": "vk", "subject": f"Обращение {i}",
                         "department_id": depts[i % 20].id, "created_at": created, "updated_at": created,
                         "reaction_due_at": compute_reaction_due(created, terms, "normal", calendar),
                         "resolution_due_at": compute_resolution_due(created, terms, "normal", calendar),
                         "reacted_at": created + timedelta(hours=1)})
        db.session.execute(db.insert(Ticket), rows)
        db.session.commit()
        if os.environ.get("SLA_BENCH_PROFILE"):
            escalate()
            import cProfile
            cProfile.runctx("escalate()", globals(), locals(), sort="cumtime")
            return
        for label in ("first run", "second run"):
            started = time.perf_counter()
            result = escalate()
            print(f"{label}: {time.perf_counter() - started:.2f} s over {args.tickets} open tickets: {result}")


if __name__ == "__main__":
    main()
