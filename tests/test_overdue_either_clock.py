"""Overdue means either clock: a missed reaction counts like a missed resolution in the
queue's filter, the overview and the digest; the deadline sort follows the nearest running
deadline, and the list says which clock it is."""
from __future__ import annotations

from datetime import timedelta

from desk.extensions import db
from desk.models import Role, Ticket, TicketStatus, utcnow
from desk.reports.digest import worst_overdue
from desk.tickets import services
from desk.tickets.counts import department_counts
from desk.tickets.queries import QueueFilters, queue_page
from desk.tickets.workflow import change_status


def test_next_due_follows_the_running_clock(make):
    account = make.account()
    ticket = make.ticket(account, "Нет света в подъезде")
    assert ticket.reaction_due_at is not None and ticket.reacted_at is None
    assert ticket.next_due_at == ticket.reaction_due_at and ticket.next_clock == "reaction"
    department = make.department()
    operator = make.user(Role.OPERATOR)
    services.route(ticket, operator, department=department)
    ticket.reacted_at = utcnow()  # the city reacted (by a reply or by routing, per policy)
    db.session.commit()
    assert ticket.next_due_at == ticket.resolution_due_at and ticket.next_clock == "resolution"
    change_status(ticket, TicketStatus.WAITING_RESIDENT, operator)
    db.session.commit()
    assert ticket.next_due_at is None  # paused: no clock runs


def test_a_missed_reaction_is_overdue_everywhere(make):
    account = make.account()
    operator = make.user(Role.OPERATOR)
    department = make.department()
    now = utcnow()
    missed = make.ticket(account, "Третий день не вывозят мусор")
    missed.reaction_due_at = now - timedelta(hours=2)
    missed.resolution_due_at = now + timedelta(days=5)
    fine = make.ticket(account, "Спасибо за новую площадку")
    fine.reaction_due_at = now + timedelta(hours=20)
    late_fix = make.ticket(account, "Яма на дороге")
    services.route(late_fix, operator, department=department)
    late_fix.reacted_at = now - timedelta(days=3)
    late_fix.resolution_due_at = now - timedelta(hours=1)
    db.session.commit()

    page = queue_page(operator, QueueFilters.from_args({"overdue": "1", "sort": "deadline"}))
    assert [t.id for t in page.rows] == [missed.id, late_fix.id]
    assert [t.next_clock for t in page.rows] == ["reaction", "resolution"]
    assert {t.id for t in worst_overdue(now)} == {missed.id, late_fix.id}
    assert department_counts()[department.id]["overdue"] == 1  # by department: the routed one


def test_the_queue_shows_which_clock(make, login_as):
    account = make.account()
    ticket = make.ticket(account, "Не горят фонари")
    ticket.reaction_due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    client = login_as(make.user(Role.OPERATOR))
    html = client.get("/queue?overdue=1").get_data(as_text=True)
    assert f'data-ticket-id="{ticket.id}"' in html and 'data-clock="reaction"' in html
    assert "реакция" in html
    assert db.session.get(Ticket, ticket.id).next_due_at < utcnow()
