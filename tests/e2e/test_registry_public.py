"""The public registry pages in headless Chromium: the directory and its filter, the
printed QR sheet (its codes decoded from the rendered page), and the widget framed by
another site while the directory itself refuses to be framed."""
from __future__ import annotations

import io
import threading

import pytest
import zxingcpp
from PIL import Image
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from desk.extensions import db
from tests.browser_support import watched_page
from tests.registry_support import snap

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser):  # ``browser``: headless Chromium from tests/e2e/conftest.py
    with watched_page(browser, viewport={"width": 1200, "height": 900}) as page:
        yield page


@pytest.fixture
def city(make):
    accounts = [make.account("telegram", "housing", "Управление ЖКХ"), make.account("vk", "housing", "Водоканал"),
                make.account("max", "sport", "Стадион «Амур»")]
    for n, account in enumerate(accounts):
        account.link = f"https://example.org/belogorsk/{n}"
    db.session.commit()
    for n, account in enumerate(accounts):
        snap(account, {29: 1000 * (n + 1), 0: 1000 * (n + 1) + 150})
    return accounts


def test_directory_and_its_network_filter(live_server, page, city):
    page.goto(f"{live_server.url}/lang/en")
    page.goto(f"{live_server.url}/accounts")
    assert page.locator("section.direction").count() == 2
    assert page.locator("[data-test=overall]").inner_text().replace("\xa0", " ").startswith("3 ")
    # two counts 29 days apart with nothing between: two dots, no line drawn across the gap
    trend = page.locator(f"tr[data-account='{city[0].id}'] svg.sparkline")
    assert trend.locator("circle.dot").count() == 2 and trend.locator("polyline").count() == 0
    page.select_option("select[name=network]", "vk")
    with page.expect_navigation():
        page.click("form[data-test=filters] button[type=submit]")
    rows = page.locator("tr[data-account]")
    assert rows.count() == 1 and "Водоканал" in rows.first.inner_text()
    assert "network=vk" in page.url


def test_printed_qr_sheet_codes_decode_to_the_links(live_server, page, city):
    page.goto(f"{live_server.url}/accounts")
    with page.expect_navigation():
        page.click("[data-test=qr-sheet-link]")
    page.goto(f"{live_server.url}/accounts/qr-sheet?direction=housing")
    page.emulate_media(media="print")
    assert page.locator(".public-header").is_hidden()
    cards = page.locator(".qr-card")
    assert cards.count() == 2
    for n in range(2):
        image = cards.nth(n).locator("img")
        image.wait_for()
        assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
        shot = Image.open(io.BytesIO(image.screenshot()))
        link = cards.nth(n).locator(".qr-link").inner_text()
        assert [code.text for code in zxingcpp.read_barcodes(shot)] == [link]
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


@pytest.fixture
def other_site(live_server):
    """A page on another origin that frames the widget and the directory."""
    html = (f'<iframe id="widget" src="{live_server.url}/accounts/widget" width="400" height="300"></iframe>'
            f'<iframe id="directory" src="{live_server.url}/accounts" width="400" height="300"></iframe>')
    server = make_server("127.0.0.1", 0, lambda env, start: Response(html, mimetype="text/html")(env, start))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_widget_is_framed_by_another_site_but_the_directory_is_not(live_server, browser, city, other_site):
    context = browser.new_context()
    page = context.new_page()
    page.goto(other_site)
    page.wait_for_load_state("load")
    frames = {f.name or f.url: f for f in page.frames}
    widget = next(f for f in page.frames if f.url.startswith(f"{live_server.url}/accounts/widget"))
    widget.wait_for_selector("li[data-account]")
    assert widget.locator("li[data-account]").count() == 3
    directory = page.frame_locator("#directory")
    assert directory.locator("section.direction").count() == 0  # blocked by frame-ancestors 'self'
    assert len(frames) == 3
    context.close()
