"""Deadlines stored on tickets: computed on open, recomputed on change, paused and resumed."""
from __future__ import annotations

from datetime import timedelta

from desk.extensions import db
from desk.models import Role, TicketStatus
from desk.models.sla import SlaPolicy
from desk.sla.deadlines import due_today, time_left
from desk.sla.services import record_first_public_reply
from desk.sla.store import get_calendar
from desk.tickets import services
from desk.tickets.workflow import change_status

from .sla_helpers import fake_clock, local  # noqa: F401

S = TicketStatus
H = timedelta(hours=1)


def _ticket(make, at):
    return make.ticket(sent_at=at)


def test_new_ticket_gets_default_deadlines_in_working_time(make):
    # Friday 7 March 2025, 17:30: after the shortened day ended. 7 working days = 56 h:
    # 10–14 March and 17–18 March.
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))
    assert ticket.reaction_due_at == local(2025, 3, 8, 17, 30)  # 24 hours on the clock
    assert ticket.resolution_due_at == local(2025, 3, 18, 18)


def test_priority_change_recomputes(make):
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))
    services.set_priority(ticket, "urgent", None)
    db.session.commit()
    # A quarter: 6 clock hours to react, 14 working hours to resolve (Mon 8 h + Tue 9–13, 14–16).
    assert ticket.reaction_due_at == local(2025, 3, 7, 23, 30)
    assert ticket.resolution_due_at == local(2025, 3, 11, 16)
    services.set_priority(ticket, "normal", None)
    assert ticket.resolution_due_at == local(2025, 3, 18, 18)


def test_category_policy_then_department_then_global(make):
    dept = make.department()
    cat = make.category(default_department=dept)
    other = make.category()
    db.session.add_all([
        SlaPolicy(category_id=cat.id, reaction_minutes=240, reaction_in_working_hours=True, resolution_days=2),
        SlaPolicy(department_id=dept.id, resolution_days=3),
        SlaPolicy(resolution_days=5),
    ])
    db.session.commit()
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))
    assert ticket.resolution_due_at == local(2025, 3, 14, 18)  # global: 5 days
    services.route(ticket, None, category=cat)
    db.session.commit()
    assert ticket.reaction_due_at == local(2025, 3, 10, 13)  # 4 working hours: due as lunch starts
    assert ticket.resolution_due_at == local(2025, 3, 11, 18)  # category: 2 days
    services.set_category(ticket, other, None)
    assert ticket.resolution_due_at == local(2025, 3, 12, 18)  # department of the ticket: 3 days


def test_waiting_for_the_resident_moves_the_deadline_by_the_paused_working_time(make, fake_clock):
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))
    dept = make.department()
    fake_clock.now = local(2025, 3, 10, 10)
    services.route(ticket, None, department=dept)
    fake_clock.now = local(2025, 3, 11, 12)
    change_status(ticket, S.WAITING_RESIDENT, None)
    db.session.commit()
    assert ticket.sla_paused_at == local(2025, 3, 11, 12)
    # Frozen while paused: time left does not shrink.
    left = time_left(ticket, local(2025, 3, 11, 12))
    assert time_left(ticket, local(2025, 3, 14, 12)) == left
    # The resident answers on Monday 17 March at 10:00: paused 12–13, 14–18 on Tue and 3 full
    # days and 1 hour on Monday = 5 + 24 + 1 = 30 working hours.
    fake_clock.now = local(2025, 3, 17, 10)
    change_status(ticket, S.IN_PROGRESS, None, reason="the resident answered")
    db.session.commit()
    assert ticket.sla_paused_at is None
    assert ticket.sla_paused_seconds == 30 * 3600
    assert ticket.resolution_due_at == get_calendar().add_working_time(local(2025, 3, 18, 18), 30 * H)
    assert ticket.resolution_due_at == local(2025, 3, 24, 16)  # Wed–Fri 24 h, Mon 9–13, 14–16
    assert time_left(ticket, local(2025, 3, 17, 10)) == left
    # A later priority change keeps the pause already served.
    services.set_priority(ticket, "low", None)
    assert ticket.resolution_due_at == local(2025, 3, 24, 16)


def test_resolve_stops_and_reopen_resumes(make, fake_clock):
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))
    services.route(ticket, None, department=make.department())
    fake_clock.now = local(2025, 3, 12, 10)
    change_status(ticket, S.RESOLVED, None)
    db.session.commit()
    assert ticket.resolved_at == local(2025, 3, 12, 10) and not ticket.sla_breached
    assert time_left(ticket, local(2025, 3, 13, 10)) is None  # not open: no clock
    fake_clock.now = local(2025, 3, 13, 10)  # reopened a working day later
    change_status(ticket, S.IN_PROGRESS, None, reason="the resident wrote again")
    assert ticket.resolution_due_at == local(2025, 3, 19, 18)


def test_late_resolution_marks_the_ticket_breached(make, fake_clock):
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))
    services.route(ticket, None, department=make.department())
    fake_clock.now = local(2025, 3, 19, 9, 30)
    change_status(ticket, S.RESOLVED, None)
    db.session.commit()
    assert ticket.sla_breached


def test_reaction_stops_at_the_first_public_reply_once(make):
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))
    record_first_public_reply(ticket, local(2025, 3, 8, 12))
    record_first_public_reply(ticket, local(2025, 3, 9, 12))
    db.session.commit()
    assert ticket.first_reply_at == local(2025, 3, 8, 12)
    assert ticket.reacted_at == local(2025, 3, 8, 12) and not ticket.sla_breached


def test_reaction_may_stop_at_routing(make, fake_clock):
    db.session.add(SlaPolicy(reaction_stops_at="routing"))
    db.session.commit()
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))
    fake_clock.now = local(2025, 3, 9, 10)  # Sunday: later than 24 h
    services.route(ticket, None, department=make.department())
    db.session.commit()
    assert ticket.reacted_at == local(2025, 3, 9, 10)
    assert ticket.sla_breached
    record_first_public_reply(ticket, local(2025, 3, 10, 10))
    assert ticket.reacted_at == local(2025, 3, 9, 10)


def test_time_left_in_working_hours_and_due_today(make):
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))  # due Tue 18 March 18:00
    assert time_left(ticket, local(2025, 3, 18, 16)) == 2 * 3600
    assert due_today(ticket, local(2025, 3, 18, 9))
    assert not due_today(ticket, local(2025, 3, 17, 9))
    # Overdue counts working time only: Tuesday 18:00 to Wednesday 10:00 is one hour.
    assert time_left(ticket, local(2025, 3, 19, 10)) == -3600
    assert not due_today(ticket, local(2025, 3, 19, 10))


def test_deadlines_of_tickets_opened_in_production_are_set(make):
    dept = make.department()
    head = make.user(Role.DEPARTMENT_HEAD, department=dept)
    ticket = make.ticket()
    assert ticket.reaction_due_at is not None and ticket.resolution_due_at > ticket.created_at
    services.route(ticket, head, department=dept)
    services.accept(ticket, head)
    db.session.commit()
    assert ticket.status == S.IN_PROGRESS.value and ticket.resolution_due_at is not None


def test_reaction_time_left_on_the_clock_or_in_working_hours(make):
    ticket = _ticket(make, local(2025, 3, 7, 17, 30))  # reaction due Sat 8 March 17:30
    assert time_left(ticket, local(2025, 3, 8, 12), clock="reaction") == 5.5 * 3600
    db.session.add(SlaPolicy(reaction_minutes=120, reaction_in_working_hours=True))
    db.session.commit()
    services.set_priority(ticket, "low", None)  # any change recomputes with the new policy
    assert ticket.reaction_due_at == local(2025, 3, 10, 11)
    assert time_left(ticket, local(2025, 3, 8, 12), clock="reaction") == 2 * 3600
    record_first_public_reply(ticket, local(2025, 3, 10, 9, 30))
    assert time_left(ticket, local(2025, 3, 10, 10), clock="reaction") is None
