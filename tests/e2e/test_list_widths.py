"""The queue and the inbox fit a 1366 px laptop screen without horizontal scrolling, with
long department, category and author names, and the subject keeps the most room."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Role
from desk.tickets import services
from tests import factories

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def busy_city(app):
    department = factories.department("Управление жилищно-коммунального хозяйства и энергетики")
    category = factories.category("Капитальный ремонт многоквартирных домов", default_department=department)
    account = factories.account("vk", "housing", name="Администрация города · ЖКХ")
    operator = factories.user(Role.OPERATOR, email="operator@city.test", name="Екатерина Александровна Воробьёва")
    head = factories.user(Role.DEPARTMENT_HEAD, department=department, email="head@city.test")
    for i in range(8):
        ticket = factories.ticket(account, "Третий день нет горячей воды в доме 12 по улице Героев Танкограда, "
                                  "дети болеют, управляющая компания не отвечает на звонки " * 2,
                                  author_id=str(5000 + i), author_name="Константин Константинович Преображенский")
        if i % 2:
            services.route(ticket, operator, department=department, category=category, priority="urgent")
            ticket.assignee_id = operator.id
    db.session.commit()
    return {"operator": operator, "head": head}


def widths(page) -> tuple[int, int, int]:
    return page.evaluate("""() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,
        Math.round(document.querySelector('table.tickets td.text-clip')?.getBoundingClientRect().width || 0)]""")


def test_queue_and_inbox_fit_a_laptop(busy_city, browser, live_server):
    for who, path in (("operator", "/queue"), ("head", "/inbox")):
        context = browser.new_context(viewport=LAPTOP, locale="ru-RU")
        page = context.new_page()
        page.goto(live_server.url + "/login")
        page.fill("#email", busy_city[who].email)
        page.fill("#password", factories.PASSWORD)
        with page.expect_navigation():
            page.click("form.form button[type=submit]")
        page.goto(live_server.url + path + ("?status=new,triaged" if who == "operator" else ""))
        scroll, client, subject = widths(page)
        table = page.evaluate("document.querySelector('.table-scroll').scrollWidth - "
                              "document.querySelector('.table-scroll').clientWidth")
        context.close()
        assert scroll <= client and table <= 0, f"{path}: page {scroll}/{client}, table overflows by {table}px"
        assert subject >= 220, f"{path}: the subject gets only {subject}px"
