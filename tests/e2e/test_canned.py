"""A department head keeps the department's canned replies where they write: from the
answer box to the list, a new one saved, and back on the card it fills the answer."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Role
from tests import factories

pytestmark = pytest.mark.e2e


def test_head_adds_a_canned_reply_and_uses_it(app, desk):
    department = factories.department("ЖКХ")
    account = factories.account("vk", settings={"group_id": 42})
    ticket = factories.ticket(account, "Когда починят трубу?")
    ticket.department_id, ticket.status = department.id, "in_progress"
    head = factories.user(Role.DEPARTMENT_HEAD, department=department, email="head@city.test")
    db.session.commit()

    page = desk.login(head.email)
    desk.goto(f"/tickets/{ticket.id}")
    with page.expect_navigation():
        page.click("[data-test=manage-canned]")
    page.fill("#title", "Аварийная бригада")
    page.fill("#body", "Здравствуйте, {name}! Бригада выехала.")
    with page.expect_navigation():
        page.click("[data-test=save-canned]")
    assert "Аварийная бригада" in page.locator("[data-test=canned-list]").inner_text()

    desk.goto(f"/tickets/{ticket.id}")
    page.select_option("[data-test=canned]", label="Аварийная бригада")
    assert "Бригада выехала." in page.input_value("[data-test=reply-text]")
    assert desk.page_errors == []
