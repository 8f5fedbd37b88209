"""The web form in headless Chromium: a resident on a phone reports a problem with a photo
and follows the status link; the embedded form works inside the city's site (another
origin, where the browser sends the desk no cookies). No script errors, no CSP violations."""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from desk.extensions import db
from desk.models import Platform, Ticket
from desk.models.intake import SubmissionPhoto
from desk.report_form.photos import stored_path
from tests.browser_support import watched_page
from tests.test_report_form_support import gps_exif

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def form_ready(app, make, live_server):
    # The test fills the form at machine speed: no minimum fill time (the protection itself
    # is tested over HTTP in tests/test_report_form.py).
    app.config.update(REPORT_MIN_FILL_SECONDS=0, DESK_PUBLIC_URL=live_server.url)
    housing = make.department("Управление ЖКХ")
    make.category("Дороги и дворы", default_department=housing, direction="housing")
    make.category("Уличное освещение", default_department=housing, direction="housing")
    return live_server


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "yard.jpg"
    Image.new("RGB", (320, 240), (90, 120, 60)).save(path, "JPEG", exif=gps_exif().tobytes())
    return path


def test_a_resident_reports_a_problem_on_a_phone_and_opens_its_status_page(browser, form_ready, photo_file):
    base = form_ready.url
    with watched_page(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                      locale="ru-RU") as page:
        page.goto(base + "/report")
        assert page.evaluate("document.documentElement.lang") == "ru"
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"horizontal scroll: {widths}"

        page.get_by_label("Категория").select_option(label="Дороги и дворы")
        page.get_by_label("В чём проблема?").fill("Во дворе дома 7 огромная яма, звоните +7 914 123-45-67.")
        assert "символов осталось" in page.locator(".rf-counter").inner_text()
        page.get_by_label("Адрес или место").fill("ул. Ленина, 7")
        page.get_by_label("Фотографии").set_input_files(str(photo_file))
        assert page.locator("[data-test=photos-live]").is_hidden()  # the photo passed the browser's check
        page.get_by_label("Электронная почта для ответа").fill("resident@example.ru")
        page.get_by_label("Я согласен(на) на обработку моих персональных данных").check()
        assert page.locator(".rf-hp").bounding_box()["x"] < 0  # the honeypot is off-screen
        with page.expect_navigation():
            page.get_by_role("button", name="Отправить обращение").click()

        confirmation = page.locator("[data-test=confirmation]")
        assert confirmation.is_visible()
        [ticket] = db.session.scalars(db.select(Ticket)).all()
        assert f"Обращение № {ticket.id}" in page.locator("h1").inner_text()
        assert "туда же придут ответы города" in page.locator("[data-test=email-note]").inner_text()
        assert page.locator("[data-print]").is_visible()  # the script showed the print button
        page.emulate_media(media="print")
        assert page.locator("[data-print]").is_hidden() and page.locator("[data-test=status-link]").is_visible()
        page.emulate_media(media="screen")
        assert ticket.platform == Platform.WEB.value and ticket.category.name == "Дороги и дворы"
        photo = db.session.scalars(db.select(SubmissionPhoto)).one()
        with Image.open(stored_path(photo.stored_name)) as stored:
            assert stored.getexif().get_ifd(0x8825) == {}  # the location was not kept

        with page.expect_navigation():
            page.locator("[data-test=status-link]").click()
        assert re.search(rf"/status/{ticket.id}-[0-9a-f]+$", page.url)
        sentence = page.locator("[data-test=status-sentence]")
        assert sentence.is_visible()
        body = page.inner_text("body")
        assert "Во дворе дома 7 огромная яма" in body and "123-45-67" not in body


def test_a_refusal_keeps_the_text_and_points_at_the_field(browser, form_ready):
    with watched_page(browser, locale="ru-RU") as page:
        page.goto(form_ready.url + "/report?lang=en")
        page.get_by_label("Category").select_option(label="Уличное освещение")
        page.get_by_label("What is the problem?").fill("The lamp at the bus stop has been off for a week.")
        page.get_by_label("E-mail for the answer").fill("not-an-address@")
        # the browser would stop a malformed e-mail itself: send the form as a script would
        page.evaluate("document.querySelector('form.rf-form').noValidate = true")
        page.get_by_label("I agree to the processing of my personal data").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Send the appeal").click()
        summary = page.locator("[data-test=form-errors]")
        assert summary.is_visible() and "Check the e-mail address" in summary.inner_text()
        assert page.evaluate("document.activeElement.dataset.test") == "form-errors"
        assert page.get_by_label("What is the problem?").input_value() == \
            "The lamp at the bus stop has been off for a week."
        assert page.get_by_label("E-mail for the answer").get_attribute("aria-invalid") == "true"
        assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 0


@pytest.fixture
def city_site(form_ready):
    """The city's own site: another origin (``localhost`` against the desk's ``127.0.0.1``,
    so another site too) whose page frames the embedded form. A real server on loopback:
    Chromium blocks a page it cannot place on the network from framing a loopback one."""
    page = (f'<!doctype html><meta charset="utf-8"><title>Город</title><h1>Сайт города</h1>'
            f'<iframe src="{form_ready.url}/report/embed" width="100%" height="1300" '
            f'title="Сообщить о проблеме"></iframe>').encode()

    class CityPage(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 — http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), CityPage)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_the_embedded_form_works_inside_the_citys_site(browser, app, city_site, photo_file):
    app.config["REPORT_FRAME_ANCESTORS"] = city_site
    with watched_page(browser, locale="ru-RU") as page:
        page.goto(city_site + "/")
        frame = page.frame_locator("iframe")
        frame.get_by_label("Категория").select_option(label="Дороги и дворы")
        frame.get_by_label("В чём проблема?").fill("Не горит фонарь у остановки «Школа».")
        frame.get_by_label("Фотографии").set_input_files(str(photo_file))
        frame.get_by_label("Сохранить место съёмки в моих фото").check()
        frame.get_by_label("Я согласен(на) на обработку моих персональных данных").check()
        frame.get_by_role("button", name="Отправить обращение").click()
        confirmation = frame.locator("[data-test=confirmation]")
        confirmation.wait_for()
        [ticket] = db.session.scalars(db.select(Ticket)).all()
        assert f"№ {ticket.id}" in confirmation.inner_text()
        assert frame.locator("[data-test=status-link]").get_attribute("target") == "_blank"
        assert page.url == city_site + "/"
        assert page.context.cookies() == []  # the frame had no session: nothing to send
        photo = db.session.scalars(db.select(SubmissionPhoto)).one()
        with Image.open(stored_path(photo.stored_name)) as stored:
            assert stored.getexif().get_ifd(0x8825)[1] == "N"  # kept, as the resident asked
