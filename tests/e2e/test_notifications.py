"""Notifications in Chromium: a flood of deadline notices is one line per kind with a count;
one click marks a kind read, and the bell's count drops accordingly."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Role
from desk.notify.services import notify
from tests import factories

pytestmark = pytest.mark.e2e


def test_a_flood_of_notices_reads_as_a_few_lines(app, desk):
    operator = factories.user(Role.OPERATOR, email="operator@city.test")
    account = factories.account()
    for i in range(12):
        ticket = factories.ticket(account, f"Обращение {i}")
        notify(operator, ticket, "reaction_breach", 1, f"Обращение №{ticket.id}: пропущен срок реакции")
        if i < 3:
            notify(operator, ticket, "resolution_warning", 0, f"Обращение №{ticket.id}: скоро срок решения")
    db.session.commit()

    page = desk.login(operator.email)
    assert page.locator("[data-test=unread]").inner_text() == "15"
    with page.expect_navigation():
        page.click("[data-test=bell]")
    groups = page.locator("[data-test=notice-groups] li")
    assert groups.count() == 2
    assert groups.nth(0).locator("[data-test=group-count]").inner_text() == "12"
    with page.expect_navigation():
        groups.nth(0).locator("[data-test=mark-kind-read]").click()
    assert page.locator("[data-test=unread]").inner_text() == "3"
    assert page.locator("[data-test=notice-groups] li").count() == 1
    assert desk.page_errors == []
