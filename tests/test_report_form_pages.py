"""The web form's other pages: the English UI, the embeddable form and its headers, the
administrators' snippet page, the staff's photo route and its scope, and the catalog."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from desk.extensions import db
from desk.i18n import TRANSLATIONS
from desk.models import Role, Ticket
from desk.models.intake import ResidentContact, SubmissionPhoto
from desk.refusals import DeskError
from desk.report_form import form as form_module
from desk.report_form import photos as photos_module
from desk.report_form import services as report_services
from desk.report_form import views as views_module
from desk.report_form.errors import ReportRefusal
from desk.status_page.tokens import status_link
from desk.tickets import services as tickets
from tests.test_report_form_support import DONE_RE, fields, file_report, jpeg, open_form

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def quick(app):
    app.config["REPORT_MIN_FILL_SECONDS"] = 0
    return app


def text(response) -> str:
    return response.get_data(as_text=True)


# --- English ---------------------------------------------------------------------------------

def test_the_english_switch_speaks_english_everywhere(client, quick):
    page = client.get("/report?lang=en")
    html = text(page)
    assert page.status_code == 200 and '<html lang="en">' in html and "Report a problem" in html
    assert page.headers["Content-Language"] == "en"
    assert 'action="/report?lang=en"' in html
    assert "Under Federal Law No. 152-FZ" in html
    refused = file_report(client, **fields(consent=None))
    assert refused.status_code == 422
    assert "Tick the consent to the processing of personal data" in text(refused)
    filed = file_report(client, **fields())
    assert filed.status_code == 303 and DONE_RE.match(filed.headers["Location"]).group(4) == "en"
    done = text(client.get(filed.headers["Location"]))
    assert "Appeal No." in done and "Thank you!" in done
    assert db.session.scalars(db.select(ResidentContact)).one().locale == "en"
    assert "Сообщить о проблеме" in text(client.get("/report?lang=ru"))


def test_russian_is_the_default(client):
    html = text(client.get("/report"))
    assert '<html lang="ru">' in html and "Сообщить о проблеме" in html and "152-ФЗ" in html
    assert "Я согласен(на) на обработку моих персональных данных" in html


# --- the embedded form --------------------------------------------------------------------------

def test_the_embedded_form_is_framable_only_by_the_configured_sites(client, app):
    page = client.get("/report/embed")
    assert page.status_code == 200
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    app.config["REPORT_FRAME_ANCESTORS"] = "https://city.example  https://*.city.example, javascript:x 'none'; script-src"
    page = client.get("/report/embed")
    csp = page.headers["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors 'self' https://city.example https://*.city.example")
    assert "script-src 'self';" in csp and "javascript" not in csp
    assert page.headers["X-Frame-Options"] == "ALLOWALL"
    # the ordinary form is framed by the desk only
    assert "frame-ancestors 'self'" in client.get("/report").headers["Content-Security-Policy"]
    assert client.get("/report").headers["X-Frame-Options"] == "SAMEORIGIN"


def test_the_embedded_form_has_no_session_and_no_chrome(client):
    page = client.get("/report/embed?lang=en")
    html = text(page)
    assert "Set-Cookie" not in page.headers and "Cookie" not in page.headers.get("Vary", "")
    assert 'name="csrf_token"' not in html and 'name="form_token"' in html
    assert 'class="status-header"' not in html and "report-embed" in html
    assert 'action="/report/embed?lang=en"' in html and "Report a problem" in html
    assert page.headers["Cache-Control"] == "no-store"


def test_the_embedded_form_files_without_cookies_and_confirms_in_the_frame(app, quick, make):
    client = app.test_client(use_cookies=False)
    tokens = open_form(client, "/report/embed")
    response = file_report(client, "/report/embed", tokens=tokens, headers={"Sec-Fetch-Site": "same-origin"},
                           photos=[(jpeg(), "a.jpg", "image/jpeg")], **fields())
    assert response.status_code == 303, text(response)[:3000]
    location = response.headers["Location"]
    assert DONE_RE.match(location).group(1) == "/embed"
    done = client.get(location)
    assert done.status_code == 200 and "frame-ancestors 'self'" in done.headers["Content-Security-Policy"]
    [ticket] = db.session.scalars(db.select(Ticket)).all()
    html = text(done)
    assert status_link(ticket) in html and 'target="_blank" rel="noopener"' in html
    assert "Set-Cookie" not in response.headers and "Set-Cookie" not in done.headers


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "https://evil.example"},
    {"Origin": "null"}, {"Origin": "file://"},
])
def test_the_embedded_form_refuses_posts_from_other_sites(app, quick, headers):
    client = app.test_client(use_cookies=False)
    response = file_report(client, "/report/embed", headers=headers, **fields())
    assert response.status_code == 400
    assert "Откройте форму заново" in text(response) and "Во дворе дома 12" in text(response)
    assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 0


def test_the_embedded_form_accepts_its_own_origin_and_needs_its_token(app, quick):
    client = app.test_client(use_cookies=False)
    own = file_report(client, "/report/embed", headers={"Origin": "http://localhost"}, **fields())
    assert own.status_code == 303
    public = file_report(client, "/report/embed", headers={"Origin": app.config["DESK_PUBLIC_URL"]}, **fields())
    assert public.status_code == 303
    missing = file_report(client, "/report/embed", tokens={"form_token": ""}, **fields())
    assert missing.status_code == 400


def test_a_413_on_the_embedded_form_stays_framable(app, quick):
    app.config["REPORT_MAX_REQUEST_BYTES"] = 10_000
    app.config["REPORT_FRAME_ANCESTORS"] = "https://city.example"
    client = app.test_client(use_cookies=False)
    response = file_report(client, "/report/embed", photos=[(b"x" * 20_000, "a.jpg", "image/jpeg")], **fields())
    assert response.status_code == 413
    assert "https://city.example" in response.headers["Content-Security-Policy"]
    assert 'href="/report/embed?lang=ru"' in text(response)


# --- the administrators' page -------------------------------------------------------------------

def test_the_snippet_page_is_for_administrators(client, quick, make, login_as, app):
    app.config["DESK_PUBLIC_URL"] = "https://desk.city.example"
    file_report(client, photos=[(jpeg(), "a.jpg", "image/jpeg")], **fields())
    assert client.get("/admin/report-form").status_code == 302  # signed out: the login page
    login_as(make.user(Role.OPERATOR))
    assert client.get("/admin/report-form").status_code == 403
    client.post("/logout", data={"csrf_token": open_form(client)["csrf_token"]})
    login_as(make.user(Role.ADMIN))
    page = client.get("/admin/report-form")
    html = text(page)
    assert page.status_code == 200
    assert ('&lt;iframe src="https://desk.city.example/report/embed" width="100%" height="1300" '
            'title="Сообщить о проблеме" loading="lazy"&gt;&lt;/iframe&gt;') in html
    assert 'href="https://desk.city.example/report/embed"' in html and 'href="https://desk.city.example/report"' in html
    assert 'data-test="frame-warning"' in html
    counts = html[html.index('data-test="report-counts"'):]
    assert counts.count('<div class="value">1</div>') == 4
    assert client.get("/queue?platform=web").status_code == 200
    assert 'href="/admin/report-form"' in text(client.get("/admin/"))
    app.config["REPORT_FRAME_ANCESTORS"] = "https://city.example"
    assert 'data-test="frame-warning"' not in text(client.get("/admin/report-form"))


# --- photos for staff -----------------------------------------------------------------------------

@pytest.fixture
def photo_ticket(client, quick, make):
    housing = make.department("ЖКХ")
    roads = make.category("Дороги", default_department=housing, direction="housing")
    assert file_report(client, photos=[(jpeg(), "a.jpg", "image/jpeg")], **fields(roads)).status_code == 303
    ticket = db.session.scalars(db.select(Ticket)).one()
    photo = db.session.scalars(db.select(SubmissionPhoto)).one()
    return ticket, photo, housing, roads


def test_staff_who_see_the_ticket_get_its_photo(app, make, photo_ticket, login_as):
    ticket, photo, housing, roads = photo_ticket
    client = app.test_client()
    assert client.get(f"/report/photos/{photo.id}").status_code == 302  # the login page
    from tests.conftest import login

    assert login(client, make.user(Role.OPERATOR).email).status_code == 302
    response = client.get(f"/report/photos/{photo.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.get_data() == photo_path_bytes(photo)
    with app.test_request_context():
        assert report_services.photos_of_ticket(ticket.id)[0].url == f"/report/photos/{photo.id}"
    assert client.get("/report/photos/99999").status_code == 404
    assert client.get("/report/photos/99999999999999").status_code == 404


def photo_path_bytes(photo: SubmissionPhoto) -> bytes:
    from desk.report_form.photos import stored_path

    return stored_path(photo.stored_name).read_bytes()


def test_a_department_head_sees_only_the_photos_of_their_departments_tickets(app, make, photo_ticket):
    from tests.conftest import login

    ticket, photo, housing, roads = photo_ticket
    other = make.department("Образование")
    stranger, head = app.test_client(), app.test_client()
    login(stranger, make.user(Role.DEPARTMENT_HEAD, department=other).email)
    login(head, make.user(Role.DEPARTMENT_HEAD, department=housing).email)
    assert stranger.get(f"/report/photos/{photo.id}").status_code == 404
    assert head.get(f"/report/photos/{photo.id}").status_code == 404  # not routed yet: triage's
    tickets.route(ticket, None, category=roads)
    db.session.commit()
    assert head.get(f"/report/photos/{photo.id}").status_code == 200
    assert stranger.get(f"/report/photos/{photo.id}").status_code == 404


def test_a_missing_file_is_a_404(app, make, photo_ticket):
    from desk.report_form.photos import stored_path
    from tests.conftest import login

    _ticket, photo, _housing, _roads = photo_ticket
    client = app.test_client()
    login(client, make.user(Role.ADMIN).email)
    stored_path(photo.stored_name).unlink()
    assert client.get(f"/report/photos/{photo.id}").status_code == 404
    photo.stored_name = "../../secret_key"
    db.session.commit()
    assert client.get(f"/report/photos/{photo.id}").status_code == 404


# --- the catalog and the refusals -------------------------------------------------------------

def _messages_of_the_form() -> list[str]:
    """Every text the form's modules and templates translate (Babel's extractor)."""
    config = ROOT / "tests" / ".report_form_babel.cfg"
    pot = ROOT / "tests" / ".report_form_messages.pot"
    config.write_text("[python: **.py]\n[jinja2: **.html]\n")
    try:
        subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", str(config), "-k", "_l",
                        "-o", str(pot), str(ROOT / "desk" / "report_form"), str(ROOT / "templates" / "report_form")],
                       check=True, cwd=ROOT)
        with pot.open("rb") as fh:
            return [str(m.id) for m in read_po(fh) if m.id]
    finally:
        config.unlink(missing_ok=True)
        pot.unlink(missing_ok=True)


def _russian() -> dict[str, str]:
    merged: dict[str, str] = {}
    for po in TRANSLATIONS.glob("*/ru/LC_MESSAGES/messages.po"):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if message.id and message.string:
                    merged.setdefault(str(message.id), str(message.string))
    return merged


def test_every_text_of_the_form_has_a_russian_translation():
    russian = _russian()
    messages = _messages_of_the_form()
    assert len(messages) > 60
    assert [m for m in messages if m not in russian] == []


def test_every_refusal_is_a_desk_error_with_a_lazily_translated_message():
    assert issubclass(ReportRefusal, DeskError)
    russian = _russian()
    for module in (form_module, photos_module, views_module):
        tree = ast.parse(Path(inspect.getfile(module)).read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id in ("ReportRefusal", "add") and node.args:
                message = node.args[-1] if node.func.id == "add" else node.args[0]
                assert not isinstance(message, (ast.JoinedStr, ast.Constant)), (module.__name__, node.lineno)
            if node.func.id == "_l" and isinstance(node.args[0], ast.Constant):
                msgid = node.args[0].value
                assert msgid in russian, msgid
                for placeholder in (k.arg for k in node.keywords):
                    assert f"%({placeholder})s" in russian[msgid], (msgid, placeholder)
