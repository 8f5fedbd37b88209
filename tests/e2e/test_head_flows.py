"""A department head's everyday flows in Chromium: returning a ticket that is not theirs
lands on the inbox with the confirmation (not on a 404), and the card says when the
deadline clock is paused while the city waits for the resident."""
from __future__ import annotations

import pytest

from desk.models import Role
from tests import factories

from .test_ticket_flow import fresh

pytestmark = pytest.mark.e2e


@pytest.fixture
def housing(app):
    department = factories.department("ЖКХ")
    head = factories.user(Role.DEPARTMENT_HEAD, department=department, email="head.housing@city.test")
    operator = factories.user(Role.OPERATOR, email="operator@city.test")
    account = factories.account("vk", "housing", name="Белогорск · ЖКХ")
    return {"department": department, "head": head, "operator": operator, "account": account}


def routed_ticket(housing, text: str):
    from desk.extensions import db
    from desk.tickets import services

    ticket = factories.ticket(housing["account"], text)
    services.route(ticket, housing["operator"], department=housing["department"])
    db.session.commit()
    return ticket


def test_head_returns_a_ticket_and_lands_on_the_inbox(housing, desk):
    ticket = routed_ticket(housing, "Упало дерево на Школьной улице, перегородило проезд")
    page = desk.login(housing["head"].email)
    desk.goto(f"/tickets/{ticket.id}")
    page.fill("#return-reason", "Это участок дорожной службы")
    with page.expect_navigation():
        page.click("button[data-action=return]")
    assert page.url.endswith("/inbox")
    assert f"Обращение №{ticket.id} возвращено на разбор" in page.locator(".flash").first.inner_text()
    assert page.locator(f"tr[data-ticket-id='{ticket.id}']").count() == 0
    assert fresh(ticket.id).status == "new"
    assert desk.page_errors == []


def test_the_card_shows_the_paused_clock(housing, desk):
    ticket = routed_ticket(housing, "Течёт крыша над пятым этажом, дом 8")
    page = desk.login(housing["head"].email)
    desk.goto(f"/tickets/{ticket.id}")
    assert page.locator("[data-test=sla-paused]").count() == 0
    page.select_option("#status-status", value="waiting_resident")
    with page.expect_navigation():
        page.click("button[data-action=status]")
    paused = page.locator("[data-test=sla-paused]")
    assert "на паузе" in paused.inner_text() and "ждём ответа жителя" in paused.inner_text()
    assert fresh(ticket.id).sla_paused_at is not None
    assert desk.page_errors == []
