"""The escalation job against a fake clock: warnings at 75%, breach, no duplicates, e-mail."""
from __future__ import annotations

import email
import email.policy

import pytest

from desk.extensions import db
from desk.models import Role, TicketStatus
from desk.models.notifications import Notification
from desk.sla.services import record_first_public_reply
from desk.tickets import services
from desk.tickets.workflow import change_status
from workers.sla import escalate

from .mail_support import smtp_server  # noqa: F401  (fixture)
from .sla_helpers import local


def notices(**where):
    query = db.select(Notification).order_by(Notification.id)
    for key, value in where.items():
        query = query.where(getattr(Notification, key) == value)
    return list(db.session.scalars(query))


@pytest.fixture
def routed(make):
    """A ticket of Fri 7 March 2025 17:30, reacted to, routed, assigned to an operator.
    Its resolution deadline is Tue 18 March 18:00 (56 working hours); 75% is Mon 17 March 11:00."""
    dept = make.department()
    people = {
        "head": make.user(Role.DEPARTMENT_HEAD, department=dept, email="head@city.test"),
        "assignee": make.user(Role.OPERATOR, email="assignee@city.test"),
        "manager": make.user(Role.MANAGER, email="manager@city.test"),
        "other_head": make.user(Role.DEPARTMENT_HEAD, department=make.department(), email="other@city.test"),
    }
    ticket = make.ticket(sent_at=local(2025, 3, 7, 17, 30))
    record_first_public_reply(ticket, local(2025, 3, 8, 10))
    services.route(ticket, None, department=dept)
    services.assign(ticket, people["assignee"], None)
    db.session.commit()
    return ticket, people


def test_warning_at_75_percent_then_breach_each_sent_once(routed):
    ticket, people = routed
    assert escalate(local(2025, 3, 17, 10).isoformat())["notifications"] == 0  # 73%

    first = escalate(local(2025, 3, 17, 12).isoformat())
    again = escalate(local(2025, 3, 17, 12, 5).isoformat())
    warnings = notices(kind="resolution_warning")
    assert first["warned"] == 1 and again["notifications"] == 0
    assert {n.user_id for n in warnings} == {people["assignee"].id, people["head"].id}
    assert ticket.escalation_level == 1 and not ticket.sla_breached

    escalate(local(2025, 3, 19, 10).isoformat())
    escalate(local(2025, 3, 19, 10).isoformat())
    breaches = notices(kind="resolution_breach")
    assert {n.user_id for n in breaches} == {people["head"].id, people["manager"].id}
    db.session.refresh(ticket)
    assert ticket.sla_breached and ticket.escalation_level == 2
    assert len(notices()) == 4
    assert not notices(user_id=people["other_head"].id)
    assert f"№{ticket.id}" in breaches[0].text and "нарушен срок решения" in breaches[0].text


def test_paused_and_closed_tickets_are_not_escalated(routed):
    ticket, _ = routed
    change_status(ticket, TicketStatus.WAITING_RESIDENT, None)
    db.session.commit()
    assert escalate(local(2025, 4, 30, 10).isoformat())["notifications"] == 0
    assert not ticket.sla_breached


def test_unrouted_ticket_missing_its_reaction_reaches_operators_and_managers(make):
    operator = make.user(Role.OPERATOR)
    manager = make.user(Role.MANAGER)
    ticket = make.ticket(sent_at=local(2025, 3, 7, 17, 30))  # reaction due Sat 8 March 17:30
    escalate(local(2025, 3, 8, 12).isoformat())  # 77% of 24 h
    assert [n.user_id for n in notices(kind="reaction_warning")] == [operator.id]
    escalate(local(2025, 3, 8, 18).isoformat())
    assert {n.user_id for n in notices(kind="reaction_breach")} == {operator.id, manager.id}
    db.session.refresh(ticket)
    assert ticket.sla_breached


def test_notifications_are_emailed_once_through_a_real_smtp_server(routed, smtp_server):
    ticket, people = routed
    result = escalate(local(2025, 3, 17, 12).isoformat())
    escalate(local(2025, 3, 17, 12).isoformat())
    assert result["emailed"] == 2
    assert sorted(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos) == \
        ["assignee@city.test", "head@city.test"]
    mail = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default)
    assert f"№{ticket.id}" in mail["Subject"] and mail["From"] == "desk@city.test"
    assert ticket.subject[:30] in mail.get_content()
    assert all(n.emailed_at is not None for n in notices())


def test_without_a_mail_server_notices_stay_in_the_desk(routed, app):
    app.config["MAIL_SERVER"] = ""
    result = escalate(local(2025, 3, 17, 12).isoformat())
    assert result["notifications"] == 2 and result["emailed"] == 0


def test_notice_speaks_the_recipients_language(routed, make):
    ticket, people = routed
    english = make.user(Role.DEPARTMENT_HEAD, department=ticket.department, locale="en")
    escalate(local(2025, 3, 17, 12).isoformat())
    by_user = {n.user_id: n.text for n in notices(kind="resolution_warning")}
    assert "подходит срок решения" in by_user[people["head"].id]
    assert "17.03.2025" in by_user[people["head"].id] or "18.03.2025 18:00" in by_user[people["head"].id]
    assert "resolution deadline is near" in by_user[english.id]
