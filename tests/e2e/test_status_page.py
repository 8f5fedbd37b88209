"""The public status page in headless Chromium on a phone: it reads without sideways
scrolling, the status sentence is in view, the strict CSP holds (no violations), and the
English switch works."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Role
from desk.models.replies import DeliveryState
from desk.replies import services as replies
from desk.replies.outbox import mark_posted, move
from desk.status_page.tokens import status_path
from desk.tickets import services as tickets
from tests.browser_support import watched_page

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(browser):
    with watched_page(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                      locale="ru-RU") as phone:
        yield phone


@pytest.fixture
def incident(make):
    housing = make.department("Управление жилищно-коммунального хозяйства и благоустройства")
    roads = make.category("Дороги и дворы", default_department=housing)
    operator = make.user(Role.OPERATOR)
    head = make.user(Role.DEPARTMENT_HEAD, department=housing)
    ticket = make.ticket(text="Во дворе дома 12 по ул. Кирова огромная яма уже вторую неделю, машины "
                              "застревают. Звоните +7 (914) 123-45-67. " + "Очень-очень-длинноеслово" * 4,
                         author_name="Иван Петров")
    tickets.route(ticket, operator, category=roads)
    tickets.accept(ticket, head)
    reply = replies.compose(ticket, operator, "Здравствуйте! Бригада выедет до 20.03.2026. "
                                              "Следите за статусом: {status_link}")
    (delivery,) = reply.deliveries
    move(delivery, DeliveryState.SENDING)
    mark_posted(delivery, "777")
    db.session.commit()
    return status_path(ticket)


def test_the_status_page_reads_well_on_a_phone(phone, live_server, incident):
    response = phone.goto(live_server.url + incident)
    assert response.status == 200
    sentence = phone.locator("[data-test=status-sentence]")
    assert sentence.inner_text() == "Отдел работает над решением проблемы."
    assert sentence.is_visible()
    box = sentence.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]  # above the fold
    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal scroll: {widths}"
    font = phone.evaluate("parseFloat(getComputedStyle(document.querySelector('.status-sentence')).fontSize)")
    assert font >= 16
    text = phone.inner_text("body")
    assert "123-45-67" not in text and "Иван" not in text and "Бригада выедет до 20.03.2026" in text

    phone.click("[data-test=lang-en]")
    assert phone.locator("[data-test=status-sentence]").inner_text() == "The department is working on the problem."
    assert phone.evaluate("document.documentElement.lang") == "en"


def test_the_print_layout_hides_the_language_switch(phone, live_server, incident):
    phone.goto(live_server.url + incident)
    phone.emulate_media(media="print")
    assert not phone.locator(".status-header .langs").is_visible()
    assert phone.locator("[data-test=status-sentence]").is_visible()
