"""Searching the queue in Chromium: a word in another form finds the tickets, and the
status tabs count what was found."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Role, TicketStatus
from desk.tickets.workflow import change_status
from tests import factories

pytestmark = pytest.mark.e2e


def test_an_operator_finds_word_forms_and_the_tabs_follow(app, desk):
    account = factories.account()
    operator = factories.user(Role.OPERATOR, email="operator@city.test")
    first = factories.ticket(account, "Нет отопления в доме 5", author_id="1")
    second = factories.ticket(account, "Отопление включили, батареи холодные", author_id="2")
    factories.ticket(account, "Спасибо за площадку", author_id="3")
    change_status(second, TicketStatus.SPAM, operator)
    db.session.commit()
    page = desk.login(operator.email)
    page.fill("input[name=q]", "отоплении")
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")
    assert page.locator(f"tr[data-ticket-id='{first.id}']").count() == 1
    assert page.locator("[data-tab=spam] .count").inner_text() == "1"
    assert page.locator("[data-tab=new] .count").inner_text() == "1"
    assert desk.page_errors == []
