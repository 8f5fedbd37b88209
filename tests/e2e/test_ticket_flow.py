"""A resident's comment from the queue to "resolved", through the real pages in Chromium:
the operator routes it, the Housing head works it, the Education head never sees it."""
from __future__ import annotations

import re

import pytest

from desk.extensions import db
from desk.models import Role, Ticket, User
from tests import factories

pytestmark = pytest.mark.e2e

COMPLAINT = "Третий день нет горячей воды в доме 12 на улице Ленина"


@pytest.fixture
def city(app):
    housing = factories.department("ЖКХ")
    education = factories.department("Образование")
    factories.department("Дороги")
    hot_water = factories.category("Горячая и холодная вода", default_department=education)
    factories.category("Школы", default_department=education)
    people = {
        "operator": factories.user(Role.OPERATOR, email="operator@city.test"),
        "housing": factories.user(Role.DEPARTMENT_HEAD, department=housing, email="head.housing@city.test"),
        "education": factories.user(Role.DEPARTMENT_HEAD, department=education, email="head.education@city.test"),
    }
    acc = factories.account("vk", "housing", name="Белогорск · ЖКХ")
    return {"housing": housing, "education": education, "hot_water": hot_water, "people": people, "account": acc}


def fresh(ticket_id: int) -> Ticket:
    """The ticket as the server committed it (and no read transaction left open)."""
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    db.session.commit()
    return ticket


def status_badge(page) -> str:
    return page.locator("[data-test=status]").inner_text().strip()


def test_operator_routes_head_resolves_other_head_never_sees(city, desk, new_desk):
    ticket = factories.ticket(city["account"], COMPLAINT, author_name="Ольга Смирнова")
    other = factories.ticket(city["account"], "Спасибо за новую площадку!")

    # (a) The operator finds the new ticket in the queue and routes it to Housing.
    page = desk.login(city["people"]["operator"].email)
    assert page.url.endswith("/queue")
    row = page.locator(f"tr[data-ticket-id='{ticket.id}']")
    assert COMPLAINT in row.inner_text()
    assert page.locator(f"tr[data-ticket-id='{other.id}']").count() == 1
    with page.expect_navigation():
        row.locator("a", has_text=COMPLAINT[:20]).click()
    assert page.url.endswith(f"/tickets/{ticket.id}")
    assert status_badge(page) == "Новое"
    # The category's default department is Education: the operator overrides it.
    page.select_option("#route-category_id", label="Горячая и холодная вода")
    page.select_option("#route-department_id", label="ЖКХ")
    with page.expect_navigation():
        page.click("[data-test=route-form] button[data-action=route]")
    assert "error" not in (page.locator(".flash").first.get_attribute("class") or "")
    routed = fresh(ticket.id)
    assert (routed.status, routed.department_id, routed.category_id) == \
        ("triaged", city["housing"].id, city["hot_water"].id)
    assert status_badge(page) == "Передано в отдел"

    # (b) The Housing head sees it in the inbox and works it to "resolved".
    head = new_desk()
    page = head.login(city["people"]["housing"].email)
    assert page.url.endswith("/inbox")
    assert page.locator(f"tr[data-ticket-id='{ticket.id}']").count() == 1
    assert page.locator(f"tr[data-ticket-id='{other.id}']").count() == 0
    with page.expect_navigation():
        page.click(f"tr[data-ticket-id='{ticket.id}'] td.num a")
    with page.expect_navigation():
        page.click("button[data-action=accept]")
    assert fresh(ticket.id).status == "in_progress"
    assert status_badge(page) == "В работе"

    page.fill("#note-text", "Позвонили в управляющую компанию, ждём аварийную бригаду.")
    with page.expect_navigation():
        page.click("button[data-action=note]")
    assert "аварийную бригаду" in page.locator("[data-test=note]").inner_text()

    for status, badge in (("waiting_resident", "Ждём ответа жителя"), ("in_progress", "В работе"),
                          ("resolved", "Решено")):
        page.select_option("#status-status", status)
        with page.expect_navigation():
            page.click("button[data-action=status]")
        assert status_badge(page) == badge, head.flash()
        assert fresh(ticket.id).status == status
    events = [e.kind for e in fresh(ticket.id).events]
    assert events.count("status") >= 4, events  # accept + three changes, all in the audit trail

    # The operator sees it resolved, in the queue's "resolved" tab and on the card.
    page = desk.page
    desk.goto("/queue?status=resolved")
    assert "Решено" in page.locator(f"tr[data-ticket-id='{ticket.id}']").inner_text()
    desk.goto(f"/tickets/{ticket.id}")
    assert status_badge(page) == "Решено"
    assert "аварийную бригаду" in page.locator("[data-test=notes]").inner_text()

    # (c) The Education head never sees it: not in any inbox tab, and the card is a 404.
    stranger = new_desk()
    page = stranger.login(city["people"]["education"].email)
    for tab in ("triaged", "in_progress", "waiting_resident", "resolved", "all"):
        stranger.goto(f"/inbox?status={tab}")
        assert page.locator(f"tr[data-ticket-id='{ticket.id}']").count() == 0, tab
        assert COMPLAINT not in page.content()
    response = stranger.goto(f"/tickets/{ticket.id}")
    assert response.status == 404
    assert COMPLAINT not in page.content()
    assert not desk.page_errors and not head.page_errors and not stranger.page_errors


def test_bulk_route_two_selected_tickets(city, desk):
    first = factories.ticket(city["account"], "Прорвало трубу в подвале дома 3")
    second = factories.ticket(city["account"], "Не работает лифт в доме 7")
    untouched = factories.ticket(city["account"], "Когда покрасят забор у школы?")

    page = desk.login(city["people"]["operator"].email)
    for t in (first, second):
        page.check(f"tr[data-ticket-id='{t.id}'] input.row-select")
    bar = page.locator("[data-test=bulkbar]")
    bar.locator("select[name=department_id]").select_option(label="ЖКХ")
    with page.expect_navigation():
        bar.locator("button[name=action][value=route]").click()
    assert page.locator(".flash-success, .flash-info").count() == 1, desk.flash()

    for t in (first, second):
        routed = fresh(t.id)
        assert (routed.status, routed.department_id) == ("triaged", city["housing"].id)
        # Routed tickets leave the "new" queue the page returned to.
        assert page.locator(f"tr[data-ticket-id='{t.id}']").count() == 0
    assert fresh(untouched.id).status == "new"
    assert page.locator(f"tr[data-ticket-id='{untouched.id}']").count() == 1


def test_login_throttle_refuses_the_right_password_after_five_failures(city, desk):
    email = city["people"]["operator"].email
    for _ in range(5):
        page = desk.login(email, "wrong-password")
        assert page.url.endswith("/login")
        assert "Неверный e-mail или пароль" in desk.flash()

    page = desk.login(email)
    assert page.url.endswith("/login"), "the right password must be refused while locked"
    assert "Неверный e-mail или пароль" in desk.flash()
    assert page.locator("[data-test=logout]").count() == 0
    desk.goto("/queue")
    assert "/login" in page.url

    user = db.session.scalars(db.select(User).where(User.email == email)).one()
    db.session.refresh(user)
    assert user.locked_until is not None
    db.session.commit()


def test_russian_by_default_english_after_switch(city, desk):
    factories.ticket(city["account"], COMPLAINT)
    desk.goto("/login")
    page = desk.page
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text() == "Вход"

    desk.login(city["people"]["operator"].email)
    assert page.locator("h1").inner_text() == "Очередь оператора"
    assert page.locator("[data-tab=new]").inner_text().startswith("Новое")

    with page.expect_navigation():
        page.click(".langs a:text-is('EN')")
    assert page.url.endswith("/queue"), "the switch returns to the same page"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Operator queue"
    assert page.locator("[data-tab=new]").inner_text().startswith("New")
    assert re.search(r"\bLog out\b", page.locator("[data-test=logout]").inner_text())

    desk.goto("/queue?status=all")  # the choice sticks for the session
    assert page.locator("h1").inner_text() == "Operator queue"
