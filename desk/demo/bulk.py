"""``flask seed-bulk``: a large volume of tickets for benchmarks, fast.

Rows go in with Core ``insert()`` executemany, one transaction per batch, bypassing
the ORM and ingest (no events): this is load for measuring list pages and reports,
not a story. Ids are assigned here so each ticket's message can point at it; the
PostgreSQL sequences are moved past them at the end.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..extensions import db
from ..models import Account, Category, Message, Ticket, TicketStatus, utcnow
from ..models.tickets import next_due
from . import data

S = TicketStatus
SPAN_DAYS = 365
STATUS_WEIGHTS = {
    S.CLOSED: 46, S.RESOLVED: 12, S.NOT_APPEAL: 12, S.SPAM: 4, S.MERGED: 4,
    S.IN_PROGRESS: 9, S.TRIAGED: 5, S.WAITING_RESIDENT: 3, S.NEW: 5,
}
PRIORITIES = (["low"] * 15) + (["normal"] * 65) + (["high"] * 15) + (["urgent"] * 5)
ROUTED = {S.TRIAGED, S.IN_PROGRESS, S.WAITING_RESIDENT, S.RESOLVED, S.CLOSED}
DONE = {S.RESOLVED, S.CLOSED}
CLOSED_AT = {S.CLOSED, S.NOT_APPEAL, S.SPAM, S.MERGED}


def _texts(rng: random.Random, n: int = 400) -> list[str]:
    """A pool of comment texts (formatting every row would dominate the run time)."""
    pool = []
    for _ in range(n):
        _name, _direction, _dept, texts = rng.choice(data.CATEGORIES)
        pool.append(rng.choice(data.OPENERS) + rng.choice(texts).format(
            street=rng.choice(data.STREETS), house=rng.randint(1, 120), place=rng.choice(data.PLACES),
            route=rng.randint(1, 24), school=rng.randint(1, 17)) + rng.choice(data.CLOSERS))
    return pool


def _rows(start_id: int, count: int, accounts: Sequence[Account], categories: Sequence[Category],
          rng: random.Random, now: datetime) -> Iterator[tuple[dict, dict]]:
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    texts = _texts(rng)
    names = [f"{first} {last}" for first in data.FIRST_NAMES for last in data.LAST_NAMES]
    acc = [(a.id, a.platform, a.direction) for a in accounts]
    cats = [(c.id, c.default_department_id) for c in categories]
    for ticket_id in range(start_id, start_id + count):
        status = rng.choices(statuses, weights)[0]
        # Newer tickets are more often still open: open ones fall in the last 30 days.
        age = rng.uniform(0, 30 if status not in DONE and status not in CLOSED_AT else SPAN_DAYS)
        created = now - timedelta(days=age)
        account_id, platform, direction = acc[rng.randrange(len(acc))]
        category_id, department_id = cats[rng.randrange(len(cats))]
        routed = status in ROUTED
        reaction_due = created + timedelta(hours=24)
        resolution_due = created + timedelta(days=rng.choice((7, 9, 10, 30)))
        triaged = created + timedelta(minutes=rng.randint(5, 600)) if routed else None
        resolved = None
        if status in DONE:
            resolved = min(created + timedelta(hours=rng.uniform(2, 24 * 14)), now)
        closed = None
        if status in CLOSED_AT:
            closed = min((resolved or created) + timedelta(hours=rng.uniform(0.2, 72)), now)
        finished = resolved or closed
        breached = (resolved is not None and resolved > resolution_due) or \
            (finished is None and routed and now > resolution_due)
        text = texts[rng.randrange(len(texts))]
        author_id = str(rng.randint(10_000_000, 99_999_999))
        author = names[rng.randrange(len(names))]
        thread = f"bulk-thread-{rng.randint(1, 500)}"
        yield ({
            "id": ticket_id, "status": status.value, "priority": PRIORITIES[rng.randrange(100)],
            "subject": text[:200], "category_id": category_id if status not in (S.SPAM, S.NOT_APPEAL) else None,
            "department_id": department_id if routed else None, "assignee_id": None,
            "account_id": account_id, "platform": platform, "direction": direction, "post_id": None,
            "thread_ref": thread, "author_external_id": author_id, "author_name": author,
            "is_mention": False, "merged_into_id": None, "return_reason": None, "draft_answer": None,
            "message_count": 1, "reaction_due_at": reaction_due if routed or status is S.NEW else None,
            "resolution_due_at": resolution_due if routed else None, "sla_paused_at": None,
            "sla_breached": breached, "escalation_level": 0, "created_at": created,
            "updated_at": finished or triaged or created, "last_message_at": created,
            "triaged_at": triaged, "first_reply_at": resolved, "resolved_at": resolved, "closed_at": closed,
            "reacted_at": triaged,
            "next_due_at": next_due(reaction_due if routed or status is S.NEW else None, triaged,
                                    resolution_due if routed else None, finished),
        }, {
            "ticket_id": ticket_id, "direction": "inbound", "platform": platform, "account_id": account_id,
            "external_id": f"bulk-{ticket_id}", "post_id": None, "thread_ref": thread,
            "reply_to_external_id": None, "author_external_id": author_id, "author_name": author,
            "text": text, "sent_at": created, "is_edited": False, "edited_at": None, "is_deleted": False,
            "deleted_at": None, "permalink": "", "created_at": created,
        })


def _next_id(model) -> int:
    return (db.session.scalar(db.select(db.func.max(model.id))) or 0) + 1


def _fix_sequences() -> None:
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("tickets", "messages"):
        db.session.execute(db.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
    db.session.commit()


def seed_bulk(count: int, batch: int, accounts: Sequence[Account], categories: Sequence[Category],
              on_batch: Callable[[int], None] | None = None, seed: int = 1) -> int:
    """Insert ``count`` tickets with one inbound message each; returns the first new id."""
    rng = random.Random(seed)
    now = utcnow()
    first = max(_next_id(Ticket), 1)
    message_id = _next_id(Message)
    db.session.commit()  # release the read transaction before the batches
    tickets_table, messages_table = Ticket.__table__, Message.__table__
    tickets: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal message_id
        for m in messages:
            m["id"] = message_id
            message_id += 1
        with db.engine.begin() as conn:
            conn.execute(tickets_table.insert(), tickets)
            conn.execute(messages_table.insert(), messages)
        if on_batch is not None:
            on_batch(len(tickets))
        tickets.clear()
        messages.clear()

    for ticket_row, message_row in _rows(first, count, accounts, categories, rng, now):
        tickets.append(ticket_row)
        messages.append(message_row)
        if len(tickets) >= batch:
            flush()
    if tickets:
        flush()
    _fix_sequences()
    return first
