"""The public status page: the link a reply carries opens, shows the incident in plain
words and no personal data, caches well, and every link that shows nothing is one 404."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from desk.extensions import db
from desk.models import Role, Ticket, TicketEvent, TicketStatus
from desk.models.replies import DeliveryState
from desk.replies import services as replies
from desk.replies import text as texts
from desk.replies.outbox import mark_posted, move
from desk.serve_cli import served_public_url
from desk.status_page.services import STATUS_SENTENCES
from desk.status_page.tokens import status_token
from desk.tickets import services as tickets
from desk.tickets.workflow import change_status
from tests.ticket_helpers import fresh, post_action

S = TicketStatus
PUBLIC = "https://city.example"
RESIDENT_TEXT = ("Во дворе дома 12 кв. 5 яма с 12.03.2026. Звоните +7 (914) 123-45-67, "
                 "пишите ivan.petrov@mail.ru, паспорт 9814 123456")


@pytest.fixture
def city(app, make):
    app.config["DESK_PUBLIC_URL"] = PUBLIC
    housing = make.department("ЖКХ")
    roads = make.category("Дороги и дворы", default_department=housing)
    operator = make.user(Role.OPERATOR, name="Ольга Операторова")
    head = make.user(Role.DEPARTMENT_HEAD, department=housing, name="Пётр Начальников")
    return housing, roads, operator, head


def _answered(make, city, reply_text: str, **ticket_kw) -> tuple[Ticket, str]:
    """A routed ticket in work with a posted reply; returns it and the link in the reply."""
    housing, roads, operator, head = city
    ticket = make.ticket(text=RESIDENT_TEXT, author_name="Иван Петров", **ticket_kw)
    tickets.route(ticket, operator, category=roads)
    tickets.accept(ticket, head)
    tickets.add_note(ticket, operator, "Внутреннее: житель звонил дважды, не публиковать")
    reply = replies.compose(ticket, operator, reply_text)
    (delivery,) = reply.deliveries
    move(delivery, DeliveryState.SENDING)  # what the outbox engine does before it posts
    mark_posted(delivery, "501")
    db.session.commit()
    link = re.search(r"https?://\S+", delivery.text).group(0)
    return ticket, link


def _path(link: str) -> str:
    assert link.startswith(PUBLIC + "/status/")
    return urlsplit(link).path


def test_the_link_in_a_reply_opens_the_page_with_status_answer_and_no_personal_data(make, client, city):
    ticket, link = _answered(make, city, "Бригада выедет 13.03.2026, телефон мастера 8 914 7654321. "
                                         "Статус: {status_link}")
    assert link == texts.status_link(ticket) == f"{PUBLIC}/status/{ticket.id}-{status_token(ticket.id)}"
    response = client.get(_path(link))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Обращение № {ticket.id}" in html
    assert "Отдел работает над решением проблемы." in html  # the sentence for residents
    assert "В работе" in html and "ЖКХ" in html and "Дороги и дворы" in html
    assert "Бригада выедет 13.03.2026" in html  # the answer as posted ...
    assert "7654321" not in html and "[телефон скрыт]" in html  # ... with phones masked
    # The resident's text, masked; the name as initials.
    assert "Во дворе дома 12 кв. 5 яма с 12.03.2026" in html
    for secret in ("123-45-67", "ivan.petrov@mail.ru", "123456", "Иван", "Петров"):
        assert secret not in html, secret
    assert "И. П." in html
    # Never internal: notes, operators' and heads' names, assignment.
    for internal in ("Внутреннее", "Операторова", "Начальников", "Ольга", "Исполнитель"):
        assert internal not in html, internal
    # The public steps of the log.
    steps = re.findall(r'data-test="step">.*?<span>(.*?)</span>', html, re.S)
    assert steps == ["Обращение получено", "Передано в отдел: ЖКХ", "В работе"]
    assert 'http-equiv' not in html and "<script" not in html and "style=" not in html


def test_every_status_a_resident_may_see_has_a_sentence():
    assert set(STATUS_SENTENCES) == set(S.having("public"))
    assert not S.SPAM.public and not S.NOT_APPEAL.public


def test_resolved_shows_the_date_in_the_city_zone(make, client, city):
    housing, roads, operator, head = city
    ticket, link = _answered(make, city, "Готово. {status_link}")
    ticket.created_at = datetime(2026, 3, 12, 20, 30, tzinfo=UTC)  # 05:30 on the 13th in Yakutsk (UTC+9)
    change_status(ticket, S.RESOLVED, head)
    ticket.resolved_at = datetime(2026, 3, 14, 15, 5, tzinfo=UTC)
    db.session.commit()
    html = client.get(_path(link)).get_data(as_text=True)
    assert "13.03.2026 05:30" in html and "15.03.2026 00:05" in html
    assert "Отдел сообщает, что проблема решена." in html
    assert "Решено" in html


def _not_found(client, path: str):
    response = client.get(path)
    assert response.status_code == 404
    headers = {k: v for k, v in response.headers.items() if k.lower() != "date"}
    return response.get_data(as_text=True), headers


def test_wrong_token_missing_ticket_and_spam_are_the_same_404(make, client, city):
    housing, roads, operator, head = city
    ticket, link = _answered(make, city, "{status_link}")
    spam = make.ticket(text="Купите слона")
    change_status(spam, S.SPAM, operator)
    not_appeal = make.ticket(text="Спасибо!")
    change_status(not_appeal, S.NOT_APPEAL, operator)
    db.session.commit()
    wrong = _not_found(client, f"/status/{ticket.id}-{'0' * 12}")
    answers = [
        wrong,
        _not_found(client, f"/status/{ticket.id}-{status_token(ticket.id)[:-1]}"),
        _not_found(client, f"/status/999999-{status_token(999999)}"),
        _not_found(client, f"/status/{spam.id}-{status_token(spam.id)}"),
        _not_found(client, f"/status/{not_appeal.id}-{status_token(not_appeal.id)}"),
    ]
    for answer in answers:
        assert answer == wrong
    assert "Страница не найдена" in wrong[0] and "Купите" not in wrong[0]


def test_a_merged_ticket_link_shows_the_incident_it_joined(make, client, city):
    housing, roads, operator, head = city
    root, _link = _answered(make, city, "{status_link}")
    other = make.ticket(text="Та же яма, мой номер 89141112233", author_name="Мария Сидорова")
    tickets.merge(other, root, operator)
    db.session.commit()
    html = client.get(f"/status/{other.id}-{status_token(other.id)}").get_data(as_text=True)
    assert f"Обращение № {root.id}" in html
    assert f"Обращение № {other.id} присоединено к этому инциденту" in html
    assert "Та же яма" in html and "89141112233" not in html and "М. С." in html
    assert "Во дворе дома" not in html  # not the other resident's message
    root_html = client.get(_path(_link)).get_data(as_text=True)
    assert "Та же яма" not in root_html and "присоединено" not in root_html
    assert "Ещё один житель сообщил о той же проблеме" in root_html


def test_an_admin_rotates_the_link_and_the_old_one_stops_working(make, client, city, login_as):
    housing, roads, operator, head = city
    ticket, link = _answered(make, city, "{status_link}")
    assert client.get(_path(link)).status_code == 200
    admin = make.user(Role.ADMIN)
    login_as(admin)
    card = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Сменить ссылку на страницу статуса" in card
    response = post_action(client, ticket.id, "status_link")
    assert "новая ссылка" in response.get_data(as_text=True)
    ticket = fresh(ticket)
    assert ticket.status_link_version == 1
    assert db.session.scalar(db.select(TicketEvent.kind).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "status_link")) == "status_link"
    assert client.get(_path(link)).status_code == 404
    new_link = texts.status_link(ticket)
    assert new_link != link and client.get(_path(new_link)).status_code == 200
    # Operators do not have the action.
    assert ACTION_NAME not in _operator_card(make, client, ticket)


ACTION_NAME = "Сменить ссылку на страницу статуса"


def _operator_card(make, client, ticket) -> str:
    from tests.ticket_helpers import log_out

    log_out(client)
    from tests.conftest import login

    operator = make.user(Role.OPERATOR)
    login(client, operator.email)
    return client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_cache_headers_and_304(make, client, city):
    ticket, link = _answered(make, city, "{status_link}")
    response = client.get(_path(link))
    assert response.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert "Set-Cookie" not in response.headers
    assert "cookie" not in response.headers.get("Vary", "").lower()
    again = client.get(_path(link), headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(_path(link), headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert since.status_code == 304
    # A change shows at once to a browser that asks.
    change_status(ticket, S.WAITING_RESIDENT, None)
    db.session.commit()
    changed = client.get(_path(link), headers={"If-None-Match": response.headers["ETag"]})
    assert changed.status_code == 200 and "Городу нужны уточнения" in changed.get_data(as_text=True)


def test_the_page_does_not_vary_by_session_even_signed_in(make, client, city, login_as):
    ticket, link = _answered(make, city, "{status_link}")
    login_as(make.user(Role.OPERATOR))
    client.get("/lang/en")
    response = client.get(_path(link))
    assert response.status_code == 200 and "Отдел работает" in response.get_data(as_text=True)
    assert "cookie" not in response.headers.get("Vary", "").lower()
    assert "Set-Cookie" not in response.headers


def test_english_switch(make, client, city):
    ticket, link = _answered(make, city, "{status_link}")
    html = client.get(_path(link)).get_data(as_text=True)
    assert 'href="?lang=en"' in html
    response = client.get(_path(link) + "?lang=en")
    english = response.get_data(as_text=True)
    assert '<html lang="en">' in english and response.headers["Content-Language"] == "en"
    assert "The department is working on the problem." in english and "In progress" in english
    assert f"Appeal No. {ticket.id}" in english
    assert "[phone hidden]" in english or "[number hidden]" in english
    assert client.get(_path(link) + "?lang=xx").get_data(as_text=True) == html


def test_the_page_needs_a_handful_of_queries(make, client, city):
    from sqlalchemy import event

    ticket, link = _answered(make, city, "{status_link}")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(_path(link)).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 6, statements


def test_version_zero_is_the_token_links_already_carry(app):
    import hashlib
    import hmac

    expected = hmac.new(app.config["SECRET_KEY"].encode(), b"status:42", hashlib.sha256).hexdigest()[:12]
    assert status_token(42) == status_token(42, 0) == expected
    assert status_token(42, 1) != expected


def test_flask_serve_links_to_the_address_it_serves():
    default = "http://127.0.0.1:5000"
    assert served_public_url(default, "127.0.0.1", 8080, {}) == "http://127.0.0.1:8080"
    assert served_public_url(default, "0.0.0.0", 8000, {}) == "http://127.0.0.1:8000"
    assert served_public_url(default, "desk.local", 80, {}) == "http://desk.local:80"
    assert served_public_url(default, "::", 5000, {}) == "http://[::1]:5000"
    # Set in the environment (even to the default) or in instance/config.py: kept.
    assert served_public_url(default, "0.0.0.0", 8000, {"DESK_PUBLIC_URL": default}) == default
    assert served_public_url("https://desk.city.ru/", "0.0.0.0", 8000, {}) == "https://desk.city.ru"


def test_the_card_gives_staff_the_residents_link_and_none_for_spam(make, client, city, login_as):
    housing, roads, operator, head = city
    ticket, link = _answered(make, city, "Отремонтируем до пятницы. {status_link}")
    spam = make.ticket(text="Купите слона")
    change_status(spam, S.SPAM, operator)
    db.session.commit()
    login_as(operator)
    card = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    [shown] = re.findall(r'href="([^"]+)"[^>]*data-test="public-status-link"', card)
    assert shown == link and client.get(_path(shown)).status_code == 200
    assert 'data-test="public-status-link"' not in client.get(f"/tickets/{spam.id}").get_data(as_text=True)
