"""The status transition table and the operations built on it."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import TicketEvent, TicketStatus
from desk.tickets import services
from desk.tickets.workflow import ALLOWED_TRANSITIONS, TransitionError, change_status

S = TicketStatus


def test_every_status_has_a_row_in_the_table():
    assert set(ALLOWED_TRANSITIONS) == set(TicketStatus)


@pytest.mark.parametrize("old,new", [(S.NEW, S.RESOLVED), (S.CLOSED, S.NEW), (S.SPAM, S.TRIAGED),
                                     (S.NEW, S.IN_PROGRESS), (S.MERGED, S.TRIAGED)])
def test_forbidden_transitions_are_refused(make, old, new):
    ticket = make.ticket()
    ticket.status = old.value
    db.session.commit()
    with pytest.raises(TransitionError):
        change_status(ticket, new, None)


def test_full_flow_writes_events(make):
    dept = make.department("ЖКХ")
    operator = make.user("operator")
    head = make.user("department_head", department=dept)
    ticket = make.ticket()
    services.route(ticket, operator, department=dept)
    services.accept(ticket, head)
    change_status(ticket, S.WAITING_RESIDENT, head)
    change_status(ticket, S.IN_PROGRESS, head)
    change_status(ticket, S.RESOLVED, head)
    change_status(ticket, S.CLOSED, operator)
    db.session.commit()
    statuses = [(e.old_value, e.new_value) for e in db.session.scalars(
        db.select(TicketEvent).where(TicketEvent.kind == "status").order_by(TicketEvent.id))]
    assert statuses == [("new", "triaged"), ("triaged", "in_progress"), ("in_progress", "waiting_resident"),
                        ("waiting_resident", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed")]
    assert ticket.assignee_id == head.id
    assert ticket.triaged_at and ticket.resolved_at and ticket.closed_at


def test_return_to_triage_needs_a_reason_and_releases_department(make):
    dept = make.department()
    head = make.user("department_head", department=dept)
    ticket = make.ticket()
    services.route(ticket, None, department=dept)
    with pytest.raises(services.TicketError):
        services.return_to_triage(ticket, head, "  ")
    services.return_to_triage(ticket, head, "Это не наш адрес")
    db.session.commit()
    assert ticket.status == "new" and ticket.department_id is None
    assert ticket.return_reason == "Это не наш адрес"


def test_route_by_category_uses_its_default_department(make):
    dept = make.department("Дороги")
    cat = make.category("Ямы на дорогах", default_department=dept)
    ticket = make.ticket()
    services.route(ticket, None, category=cat, priority="high")
    db.session.commit()
    assert ticket.department_id == dept.id and ticket.status == "triaged" and ticket.priority == "high"


def test_merge_moves_children_and_refuses_self(make):
    a, b, c = make.ticket(), make.ticket(), make.ticket()
    services.merge(b, a, None)
    services.merge(a, c, None)
    db.session.commit()
    assert a.merged_into_id == c.id and b.merged_into_id == c.id
    assert a.status == b.status == "merged"
    with pytest.raises(services.TicketError):
        services.merge(c, b, None)  # b's root is c itself
