"""Sorting by deadline over several statuses (a per-status UNION ALL underneath) pages
through exactly the tickets and order of one plain ORDER BY."""
from __future__ import annotations

from datetime import timedelta

from desk.extensions import db
from desk.models import Role, Ticket, utcnow
from desk.tickets.queries import QueueFilters, queue_page


def test_deadline_pages_over_several_statuses_match_a_plain_sort(app, make):
    operator = make.user(Role.OPERATOR)
    acc = make.account()
    now = utcnow()
    statuses = ["triaged", "in_progress", "waiting_resident", "closed"]
    for i in range(23):
        t = make.ticket(acc, f"Обращение {i}")
        t.status = statuses[i % 4]
        # Ties on the deadline and tickets without one, spread over the statuses.
        t.resolution_due_at = None if i % 5 == 0 else now + timedelta(hours=(i * 7) % 11)
        t.reacted_at = now  # the resolution's deadline is the running one
    db.session.commit()

    filters = QueueFilters.from_args({"status": "triaged,in_progress,waiting_resident", "sort": "deadline"})
    seen, cursor = [], None
    for _ in range(20):
        page = queue_page(operator, filters, cursor, limit=4)
        seen += [t.id for t in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = db.session.scalars(
        db.select(Ticket.id).where(Ticket.status.in_(filters.status))
        .order_by(Ticket.next_due_at.asc().nulls_last(), Ticket.id.asc())).all()
    assert [db.session.get(Ticket, i).next_due_at for i in expected] == \
        [db.session.get(Ticket, i).resolution_due_at for i in expected]
    assert len(expected) == 18
    assert seen == expected
