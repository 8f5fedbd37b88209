"""Issue 11's journey in Chromium, end to end: a resident files through the web form and
gets the status link by page and by e-mail; an operator routes the appeal; the department
head answers; the resident's status page and mailbox show the answer (and never the phone
number the resident typed). Resident letters are sent by running their queued jobs here,
in order: no worker to race."""
from __future__ import annotations

import re

import pytest

from desk.extensions import db
from desk.models import Role, Ticket
from tests import factories
from tests.browser_support import watched_page
from tests.mail_support import smtp_server  # noqa: F401  (fixture)
from tests.test_intake import run_resident_mail

from .test_ticket_flow import fresh

pytestmark = pytest.mark.e2e

PROBLEM = "Во дворе дома 7 по улице Ленина огромная яма, звоните +7 914 123-45-67."
ANSWER = "Здравствуйте! Яму во дворе дома 7 заделаем до 12 декабря. Следить: {status_link}"


@pytest.fixture
def city(app, live_server):
    app.config.update(REPORT_MIN_FILL_SECONDS=0, DESK_PUBLIC_URL=live_server.url)
    roads = factories.department("Дороги и благоустройство")
    factories.category("Ямы и ремонт дорог", default_department=roads, direction="authorities")
    return {
        "roads": roads,
        "operator": factories.user(Role.OPERATOR, email="operator@city.test"),
        "head": factories.user(Role.DEPARTMENT_HEAD, department=roads, email="head.roads@city.test"),
    }


def test_a_web_appeal_from_the_form_to_the_answer(browser, city, live_server, desk, new_desk, smtp_server):
    base = live_server.url
    with watched_page(browser, viewport={"width": 390, "height": 800}, is_mobile=True, locale="ru-RU") as resident:
        # (a) The resident files the appeal and lands on the confirmation with the status link.
        resident.goto(base + "/report")
        resident.get_by_label("Категория").select_option(label="Ямы и ремонт дорог")
        resident.get_by_label("В чём проблема?").fill(PROBLEM)
        resident.get_by_label("Адрес или место").fill("ул. Ленина, 7")
        resident.get_by_label("Электронная почта для ответа").fill("resident@example.ru")
        resident.get_by_label("Я согласен(на) на обработку моих персональных данных").check()
        with resident.expect_navigation():
            resident.get_by_role("button", name="Отправить обращение").click()
        status_link = resident.locator("[data-test=status-link]").get_attribute("href")
        [ticket] = db.session.scalars(db.select(Ticket)).all()
        db.session.commit()
        assert re.search(rf"/status/{ticket.id}-[0-9a-f]+$", status_link)
        run_resident_mail()
        [filed] = smtp_server.letters("resident@example.ru")
        assert status_link in filed.get_content()

        # (b) The operator routes it from the queue.
        page = desk.login(city["operator"].email)
        desk.goto(f"/tickets/{ticket.id}")
        assert "ул. Ленина, 7" in page.locator("[data-test=submission]").inner_text()
        page.select_option("#route-department_id", label="Дороги и благоустройство")
        with page.expect_navigation():
            page.click("[data-test=route-form] button[data-action=route]")
        assert fresh(ticket.id).department_id == city["roads"].id

        # (c) The head answers on the card; the answer is published at once.
        head = new_desk()
        page = head.login(city["head"].email)
        head.goto(f"/tickets/{ticket.id}")
        page.fill("[data-test=reply-text]", ANSWER)
        with page.expect_navigation():
            page.click("button[data-action=send-reply]")
        assert fresh(ticket.id).first_reply_at is not None

        # (d) The resident's status page and mailbox show the answer, never their phone.
        resident.goto(status_link)
        text = resident.locator("body").inner_text()
        assert "Яму во дворе дома 7 заделаем до 12 декабря" in text
        assert "914 123" not in text and "Дороги и благоустройство" in text
        run_resident_mail()
        answered = [m for m in smtp_server.letters("resident@example.ru") if "Ответ города" in m["Subject"]]
        assert len(answered) == 1
        assert "заделаем до 12 декабря" in answered[0].get_content()
        assert "/unsubscribe/" in answered[0]["List-Unsubscribe"]
    assert desk.page_errors == [] and head.page_errors == []
