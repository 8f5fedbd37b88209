"""The web form /report: filing through the one door, the confirmation, and every
protection (CSRF, the form token, the honeypot, the fill time, the rate limits, the sizes),
each refusal in the resident's language with what they typed kept."""
from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from desk.extensions import db
from desk.models import Message, Platform, Ticket, TicketStatus
from desk.models.intake import ResidentContact, Submission, SubmissionPhoto
from desk.report_form import guard
from desk.status_page.tokens import status_link, status_path
from desk.text import is_clean
from desk.tickets.workflow import change_status
from tests.test_report_form_support import DONE_RE, fields, file_report, jpeg, open_form

DESCRIPTION = "Во дворе дома 12 по ул. Кирова яма, машины застревают."


@pytest.fixture
def quick(app):
    """No minimum fill time (the test posts at once); the fill-time tests set it back."""
    app.config["REPORT_MIN_FILL_SECONDS"] = 0
    return app


@pytest.fixture
def roads(make):
    housing = make.department("ЖКХ")
    return make.category("Дороги и дворы", default_department=housing, direction="housing")


def tickets() -> list[Ticket]:
    return db.session.scalars(db.select(Ticket).order_by(Ticket.id)).all()


def text(response) -> str:
    return response.get_data(as_text=True)


def test_filing_opens_a_new_web_ticket_and_redirects_to_its_confirmation(client, quick, roads):
    response = file_report(client, **fields(roads, email="Ivan.Petrov@Example.RU"))
    assert response.status_code == 303
    match = DONE_RE.match(response.headers["Location"])
    assert match and match.group(4) == "ru"

    [ticket] = tickets()
    assert ticket.platform == Platform.WEB.value and ticket.status == TicketStatus.NEW.value
    assert ticket.category_id == roads.id and ticket.direction == "housing"
    assert ticket.author_name == "Иван Петров"
    assert int(match.group(2)) == ticket.id and status_path(ticket).endswith(f"{ticket.id}-{match.group(3)}")
    [message] = db.session.scalars(db.select(Message).where(Message.ticket_id == ticket.id)).all()
    assert message.text == DESCRIPTION
    submission = db.session.scalars(db.select(Submission).where(Submission.ticket_id == ticket.id)).one()
    assert submission.channel == "web" and submission.address == "ул. Кирова, 12"
    assert submission.category_id == roads.id and submission.consent_at is not None
    assert submission.photo_location_kept is False and submission.photos == []
    contact = db.session.scalars(db.select(ResidentContact).where(ResidentContact.ticket_id == ticket.id)).one()
    assert contact.email == "Ivan.Petrov@example.ru" and contact.locale == "ru" and contact.name == "Иван Петров"

    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = text(page)
    assert f"Обращение № {ticket.id}" in html and status_link(ticket) in html
    assert "туда же придут ответы города" in html
    assert "Set-Cookie" not in page.headers  # the confirmation reads no session


def test_the_status_link_of_the_confirmation_opens_the_status_page(client, quick, roads):
    response = file_report(client, **fields(roads, description="Яма у дома, звоните +7 914 123-45-67"))
    [ticket] = tickets()
    status = client.get(status_path(ticket))
    assert status.status_code == 200
    assert "Яма у дома" in text(status) and "123-45-67" not in text(status)
    assert response.status_code == 303


def test_without_an_e_mail_there_is_no_contact_and_the_confirmation_says_so(client, quick, roads):
    response = file_report(client, **fields(roads, email="", name="", address=""))
    [ticket] = tickets()
    assert db.session.scalar(db.select(db.func.count(ResidentContact.id))) == 0
    assert ticket.author_name in ("", None)
    assert "Вы не указали электронную почту" in text(client.get(response.headers["Location"]))


def test_other_means_no_category_for_the_operator_to_choose(client, quick, roads):
    assert file_report(client, **fields("other")).status_code == 303
    [ticket] = tickets()
    assert ticket.category_id is None and ticket.status == TicketStatus.NEW.value


def test_the_form_lists_active_categories_by_direction(client, make, roads):
    make.category("Школьное питание", direction="education")
    make.category("Закрытая категория", direction="housing", is_active=False)
    make.category("Без направления")
    html = text(client.get("/report"))
    order = [html.index(part) for part in ('<optgroup label="ЖКХ">', "Дороги и дворы", '<optgroup label="Образование">',
                                           "Школьное питание", '<optgroup label="Другие проблемы">', "Без направления",
                                           'value="other"')]
    assert order == sorted(order)
    assert "Закрытая категория" not in html
    assert 'for="rf-description"' in html and 'id="rf-description"' in html  # labelled fields
    assert 'type="hidden" name="website"' not in html and 'name="website"' in html  # honeypot is not hidden-typed


# --- the form shown again -------------------------------------------------------------------

@pytest.mark.parametrize("changes, field, message", [
    ({"consent": None}, "consent", "Отметьте согласие на обработку персональных данных"),
    ({"category": "999999"}, "category", "Выберите категорию из списка"),
    ({"category": "99999999999999999999"}, "category", "Выберите категорию из списка"),
    ({"category": "-1"}, "category", "Выберите категорию из списка"),
    ({"category": ""}, "category", "Выберите категорию"),
    ({"description": "   "}, "description", "Опишите проблему."),
    ({"description": "Яма"}, "description", "не меньше 5 символов"),
    ({"description": "я" * 5001}, "description", "не больше 5000 символов"),
    ({"email": "not an address"}, "email", "Проверьте адрес электронной почты"),
    ({"email": "a@" + "b" * 300 + ".ru"}, "email", "слишком длинный"),
    ({"name": "Иван" * 60}, "name", "Имя слишком длинное"),
    ({"address": "ул. " * 200}, "address", "Адрес слишком длинный"),
])
def test_a_refused_field_shows_the_form_again_with_the_text_kept(client, quick, roads, changes, field, message):
    data = {**fields(roads, description="Сломан фонарь у подъезда <b>2</b>"), **changes}
    data = {k: v for k, v in data.items() if v is not None}
    response = file_report(client, **data)
    assert response.status_code == 422
    html = text(response)
    assert message in html and f'data-test="error-{field}"' in html and 'aria-invalid="true"' in html
    assert "прикрепите их снова" not in html  # no photo was attached: nothing to attach again
    assert tickets() == []
    if field != "description":
        assert "Сломан фонарь у подъезда &lt;b&gt;2&lt;/b&gt;</textarea>" in html  # kept, escaped
    assert 'value="ул. Кирова, 12"' in html or field == "address"
    assert 'value="ivan@example.ru"' in html or field == "email"


def test_an_inactive_category_is_refused(client, quick, make):
    closed = make.category("Закрыто", is_active=False)
    response = file_report(client, **fields(closed))
    assert response.status_code == 422 and "Выберите категорию из списка" in text(response)


def test_odd_bodies_never_break_the_form(client, quick, roads):
    cases = [
        {"category": [str(roads.id), "other"], "description": ["Первое описание проблемы", "второе"],
         "consent": ["yes", "no"]},
        {"description": (io.BytesIO(b"file as text"), "d.txt", "text/plain"), "consent": "yes", "category": "other"},
        {"photos": "not a file", "category": "other", "description": "Нет света в подъезде", "consent": "1"},
        {"email": "иван@почта.рф", "category": "other", "description": "Нет света в подъезде", "consent": "1"},
    ]
    statuses = [client.post("/report", data={**open_form(client), **data}, content_type="multipart/form-data")
                .status_code for data in cases]
    assert statuses == [303, 422, 303, 303]  # the first value of a repeated field counts; a file is no text
    assert len(tickets()) == 3
    assert db.session.scalars(db.select(ResidentContact.email)).all() == ["иван@почта.рф"]

    # NUL and a lone surrogate (a browser cannot send them, a script can): replaced, stored.
    tokens = open_form(client)
    raw = (f"form_token={tokens['form_token']}&csrf_token={tokens['csrf_token']}&category=other&consent=%00"
           "&description=%ED%A0%80%00+%D1%8F%D0%BC%D0%B0+%D0%B2%D0%BE+%D0%B4%D0%B2%D0%BE%D1%80%D0%B5"
           "&address=%00&name=%ED%A0%80")
    response = client.post("/report", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    message = db.session.scalars(db.select(Message).order_by(Message.id.desc())).first()
    assert message.text.endswith("\ufffd яма во дворе") and is_clean(message.text)


def test_a_description_of_exactly_the_limit_with_windows_line_breaks_is_accepted(client, quick, roads):
    body = "\r\n".join(["а" * 99] * 50) + "я"  # 5,000 characters as the browser counts them (LF), 5,049 as sent
    assert len(body) == 5049
    assert file_report(client, **fields(roads, description=body)).status_code == 303
    assert file_report(client, **fields(roads, description=body + "я")).status_code == 422


# --- CSRF, the form token and the honeypot ---------------------------------------------------

def test_a_post_without_the_csrf_token_is_400_with_the_text_kept(client, quick, roads):
    tokens = open_form(client)
    response = file_report(client, tokens={"form_token": tokens["form_token"]}, **fields(roads))
    assert response.status_code == 400
    assert "Срок действия формы истёк" in text(response) and DESCRIPTION in text(response)
    assert tickets() == []
    again = file_report(client, tokens={"form_token": tokens["form_token"], "csrf_token": "forged"}, **fields(roads))
    assert again.status_code == 400 and tickets() == []


def test_a_missing_or_forged_form_token_is_400_with_a_fresh_one(client, quick, roads):
    tokens = open_form(client)
    for token in ("", "forged.token.value", tokens["form_token"][:-3] + "abc"):
        response = file_report(client, tokens={**tokens, "form_token": token}, **fields(roads))
        assert response.status_code == 400 and DESCRIPTION in text(response)
        assert tokens["form_token"] not in text(response)
    assert tickets() == []


def test_a_filled_honeypot_gets_the_neutral_refusal_and_no_ticket(client, quick, roads):
    response = file_report(client, **fields(roads, website="http://spam.example"))
    assert response.status_code == 422
    html = text(response)
    assert "Обращение не отправлено: проверьте форму и отправьте ещё раз." in html
    assert "http://spam.example" not in html and DESCRIPTION in html
    assert tickets() == []
    assert file_report(client, **fields(roads)).status_code == 303  # a person sends again: it goes through


def test_the_same_form_sent_twice_opens_one_ticket(client, quick, roads):
    tokens = open_form(client)
    first = file_report(client, tokens=tokens, **fields(roads))
    second = file_report(client, tokens=tokens, **fields(roads))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(tickets()) == 1


# --- the minimum fill time -----------------------------------------------------------------------

def test_a_form_sent_too_fast_is_refused_with_the_text_kept_and_goes_through_later(client, app, roads, monkeypatch):
    app.config["REPORT_MIN_FILL_SECONDS"] = 3
    tokens = open_form(client)
    response = file_report(client, tokens=tokens, **fields(roads))
    assert response.status_code == 422
    html = text(response)
    assert "Форма отправлена слишком быстро" in html and DESCRIPTION in html
    assert tokens["form_token"] in html  # the same token: its clock keeps running
    assert tickets() == []

    later = time.time() + 5
    monkeypatch.setattr(guard.time, "time", lambda: later)
    assert file_report(client, tokens=tokens, **fields(roads)).status_code == 303
    assert len(tickets()) == 1


def test_an_expired_form_token_is_refused(client, quick, roads, monkeypatch):
    tokens = open_form(client)
    later = time.time() + guard.TOKEN_MAX_AGE + 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = file_report(client, tokens=tokens, **fields(roads))
    assert response.status_code == 400 and "Срок действия формы истёк" in text(response)


# --- rate limits -----------------------------------------------------------------------------

def test_the_rate_limit_per_address_answers_429_in_russian_with_the_text_kept(client, quick, app, roads):
    app.config.update(REPORT_RATE_LIMIT=2, REPORT_RATE_WINDOW_SECONDS=600)
    first_ip = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(2):
        assert file_report(client, environ_base=first_ip, **fields(roads)).status_code == 303
    refused = file_report(client, environ_base=first_ip, **fields(roads))
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    html = text(refused)
    assert "Слишком много обращений из вашей сети" in html and DESCRIPTION in html
    assert len(tickets()) == 2
    other_ip = {"REMOTE_ADDR": "198.51.100.9"}
    assert file_report(client, environ_base=other_ip, **fields(roads)).status_code == 303


def test_the_daily_limit_counts_ipv6_by_its_64_block(client, quick, app, roads):
    app.config.update(REPORT_RATE_LIMIT=100, REPORT_DAILY_LIMIT=1)
    assert file_report(client, environ_base={"REMOTE_ADDR": "2001:db8:1:2::10"}, **fields(roads)).status_code == 303
    refused = file_report(client, environ_base={"REMOTE_ADDR": "2001:db8:1:2::99"}, **fields(roads))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 600
    assert file_report(client, environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}, **fields(roads)).status_code == 303


def test_honeypot_hits_count_against_the_limit(client, quick, app, roads):
    app.config.update(REPORT_RATE_LIMIT=2)
    for _ in range(2):
        assert file_report(client, **fields(roads, website="x")).status_code == 422
    assert file_report(client, **fields(roads)).status_code == 429


# --- sizes -------------------------------------------------------------------------------------

def test_a_body_above_the_form_limit_is_a_russian_413_page(client, quick, app, roads):
    app.config["REPORT_MAX_REQUEST_BYTES"] = 64 * 1024
    response = file_report(client, photos=[(b"\xff" * 100_000, "big.jpg", "image/jpeg")], **fields(roads))
    assert response.status_code == 413
    html = text(response)
    assert "Обращение слишком большое" in html and "Открыть форму заново" in html
    assert tickets() == []


def test_photos_above_the_sites_general_limit_are_accepted_on_the_form(client, quick, app, roads):
    assert app.config["MAX_CONTENT_LENGTH"] <= 2 * 1024 * 1024
    noise = Image.frombytes("RGB", (1100, 1000), bytes(range(256)) * (1100 * 1000 * 3 // 256) + b"\0" * 232)
    buffer = io.BytesIO()
    noise.save(buffer, "PNG", compress_level=0)
    big = buffer.getvalue()
    assert len(big) > 2 * 1024 * 1024
    response = file_report(client, photos=[(big, "big.png", "image/png")], **fields(roads))
    assert response.status_code == 303, text(response)[:2000]
    assert db.session.scalar(db.select(db.func.count(SubmissionPhoto.id))) == 1


def test_too_many_photos_are_refused(client, quick, app, roads):
    app.config["REPORT_MAX_PHOTOS"] = 2
    response = file_report(client, photos=[(jpeg(), f"p{i}.jpg", "image/jpeg") for i in range(3)], **fields(roads))
    assert response.status_code == 422
    assert "Можно прикрепить не больше 2 фото" in text(response)
    assert "прикрепите их снова" in text(response)
    assert tickets() == []


def test_a_photo_above_its_size_limit_is_refused(client, quick, app, roads):
    app.config["REPORT_PHOTO_MAX_BYTES"] = 2000
    response = file_report(client, photos=[(jpeg((400, 400), quality=100), "p.jpg", "image/jpeg")], **fields(roads))
    assert response.status_code == 422 and "Фото 1 больше" in text(response) and tickets() == []


# --- the confirmation is the filer's -------------------------------------------------------------

def test_the_confirmation_needs_the_right_token_and_a_web_ticket(client, quick, make, roads):
    location = file_report(client, **fields(roads)).headers["Location"]
    [ticket] = tickets()
    path = location.split("?")[0]
    assert client.get(path).status_code == 200
    wrong = path[:-4] + ("0000" if not path.endswith("0000") else "1111")
    assert client.get(wrong).status_code == 404
    assert client.get(f"/report/done/{ticket.id}-" + "a" * 5000).status_code == 404
    assert client.get("/report/done/99999-abcdef123456").status_code == 404

    network_ticket = make.ticket()
    assert client.get("/report/done/" + status_path(network_ticket).split("/status/")[1]).status_code == 404

    change_status(ticket, TicketStatus.SPAM, None)
    db.session.commit()
    assert client.get(path).status_code == 404


def test_the_confirmation_is_printable(client, quick, roads):
    location = file_report(client, **fields(roads)).headers["Location"]
    html = text(client.get(location))
    assert "data-print" in html and "report_form.js" in html and "<script>" not in html
