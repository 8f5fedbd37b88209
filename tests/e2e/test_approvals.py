"""Approving a head's answer in Chromium: the top bar counts the answers waiting, and the
approver reads the text as the resident will (placeholders filled in), not the template."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Role
from desk.replies import services as replies
from tests import factories

pytestmark = pytest.mark.e2e


def test_operator_sees_the_count_and_the_residents_text(app, desk):
    department = factories.department("ЖКХ", answers_need_approval=True)
    account = factories.account("vk", settings={"group_id": 42})
    ticket = factories.ticket(account, "Когда починят трубу?", author_name="Ольга Смирнова")
    ticket.department_id, ticket.status = department.id, "in_progress"
    head = factories.user(Role.DEPARTMENT_HEAD, department=department)
    db.session.commit()
    replies.compose(ticket, head, "Здравствуйте, {name}! Трубу заменят до пятницы.")
    db.session.commit()
    operator = factories.user(Role.OPERATOR, email="operator@city.test")

    page = desk.login(operator.email)
    assert page.locator("[data-test=pending-approvals]").inner_text() == "1"
    with page.expect_navigation():
        page.click("[data-nav=approvals]")
    assert page.locator("[data-test=approve-preview]").inner_text() == \
        "Здравствуйте, Ольга Смирнова! Трубу заменят до пятницы."
    with page.expect_navigation():
        page.click("button[data-action=approve]")
    assert page.locator("[data-test=pending-approvals]").count() == 0
    assert desk.page_errors == []


def test_head_is_told_of_a_failed_answer_and_finds_it_in_the_outbox(app, desk):
    from desk.models.replies import Reply, ReplyDelivery
    from desk.replies import outbox

    department = factories.department("ЖКХ")
    account = factories.account("vk", settings={"group_id": 42})
    ticket = factories.ticket(account, "Когда починят трубу?", thread_ref="-42_5")
    ticket.department_id, ticket.status = department.id, "in_progress"
    head = factories.user(Role.DEPARTMENT_HEAD, department=department, email="head@city.test")
    reply = Reply(ticket_id=ticket.id, author_id=head.id, text="Трубу заменят", state="approved")
    row = ReplyDelivery(reply=reply, ticket_id=ticket.id, account_id=account.id, platform="vk",
                        thread_ref="-42_5", outbox_key="k-e2e", text="Трубу заменят", state="sending")
    db.session.add_all([reply, row])
    db.session.flush()
    outbox.mark_failed(row, "VK error 15: access denied", 15)
    db.session.commit()

    page = desk.login(head.email)
    assert page.locator("[data-test=unread]").inner_text() == "1"
    with page.expect_navigation():
        page.click("[data-nav=outbox]")
    assert page.locator("[data-test=delivery]").count() == 1
    assert "Трубу заменят" in page.locator("[data-test=delivery]").inner_text()
    assert desk.page_errors == []
