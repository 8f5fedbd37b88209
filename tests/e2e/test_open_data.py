"""The city's open figures in headless Chromium: /open shows the figures and its SVG charts
render (no script errors, no CSP violations), the month selector works, and the widget
renders inside a frame on another site."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from desk.extensions import db
from desk.models import Ticket, utcnow
from tests.browser_support import watched_page

pytestmark = pytest.mark.e2e
H = timedelta(hours=1)


@pytest.fixture
def page(browser):  # ``browser``: headless Chromium from tests/e2e/conftest.py
    with watched_page(browser, locale="ru-RU", viewport={"width": 1300, "height": 900}) as page:
        yield page


@pytest.fixture
def appeals(make):
    roads = make.department("Дороги")
    pits = make.category("Ямы на дорогах")
    now = utcnow()
    for n in range(5):
        created = now - (n * 30 + 1) * 24 * H
        db.session.add(Ticket(created_at=created, department_id=roads.id, category_id=pits.id, platform="vk",
                              direction="housing", status="resolved", subject="Яма", author_name="Житель",
                              reaction_due_at=created + 24 * H, resolution_due_at=created + 7 * 24 * H,
                              first_reply_at=created + 3 * H, resolved_at=created + 2 * 24 * H))
    db.session.commit()


def test_open_figures_page_renders_its_figures_and_charts(live_server, page, appeals):
    page.goto(f"{live_server.url}/open")
    assert page.locator("h1").inner_text() == "Как город отвечает жителям"
    headline = page.locator("[data-test=headline]")
    assert headline.locator("[data-figure=received] .value").inner_text() == "5"
    assert headline.locator("[data-figure=answered_share] .value").inner_text().replace("\xa0", " ") == "100 %"
    assert "город получил 5 обращений" in page.locator("[data-test=summary]").inner_text()
    chart = page.locator("[data-test=chart-months] svg")
    assert chart.is_visible() and chart.bounding_box()["height"] > 100
    assert page.locator("[data-test=chart-months] rect.bar").count() == 12
    bars = page.locator("[data-test=chart-departments] rect.hbar")
    assert bars.count() == 1 and bars.first.bounding_box()["width"] > 100  # 100 % of the bar area
    # styled by the stylesheet (the CSP allows no inline styles): the bars are filled
    assert page.evaluate("el => getComputedStyle(el).fill", bars.first.element_handle()) != "none"
    month = page.locator("select[name=month] option").nth(1).get_attribute("value")
    page.select_option("select[name=month]", month)
    with page.expect_navigation():
        page.click("[data-test=period-form] button[type=submit]")
    assert f"month={month}" in page.url
    page.goto(f"{live_server.url}/lang/en")
    page.goto(f"{live_server.url}/open")
    assert page.locator("h1").inner_text() == "How the city answers its residents"


@pytest.fixture
def other_site(live_server):
    html = f'<iframe id="open" src="{live_server.url}/open/widget" width="520" height="520"></iframe>'
    server = make_server("127.0.0.1", 0, lambda env, start: Response(html, mimetype="text/html")(env, start))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_widget_renders_framed_by_another_site(live_server, page, appeals, other_site):
    page.goto(other_site)
    page.wait_for_load_state("load")
    widget = next(f for f in page.frames if f.url.startswith(f"{live_server.url}/open/widget"))
    widget.wait_for_selector("[data-test=headline]")
    assert widget.locator("[data-figure=received] .value").inner_text() in {"1", "2"}  # the latest month
    assert widget.locator("svg.trend rect.bar").count() == 12
