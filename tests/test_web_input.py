"""What the desk accepts at its edge (desk/web_input.py): NUL and lone surrogates become
U+FFFD wherever people type, ids beyond the database's range are 404 or a refusal, JSON
depth and request size are bounded, and the webhooks take any JSON value without a 500.
Each test fails on the desk as it was before (on PostgreSQL at least, where NUL and ids
of 2**31 and more used to be database errors)."""
from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from desk.extensions import db
from desk.models import DeadLetter, Note, User, WebhookDelivery
from desk.models.replies import Reply
from desk.web_input import DB_INT_MAX, json_depth_exceeds, parse_id

from .collect_helpers import drain_queue
from .conftest import TEST_SECRET, csrf_from
from .ticket_helpers import english, fresh, log_out, post_action, post_bulk

NUL_TEXT = "Ямы\x00во дворе"
CLEANED = "Ямы\ufffdво дворе"
SECRET = "sweep-secret"
DEEP = "[" * 10_000 + "]" * 10_000
ROOT = Path(__file__).resolve().parent.parent


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def token_of(client, path: str = "/login") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


# --- NUL in what people type ---------------------------------------------------------------

def test_nul_in_the_login_form_is_a_wrong_password_not_an_error(client, make):
    make.user("operator", email="op@city.test")
    response = client.post("/login", data={"email": "op@city.test\x00", "password": "x\x00y",
                                           "csrf_token": token_of(client)})
    assert response.status_code in (200, 401)  # a wrong password, whatever its status code
    assert 'name="password"' in response.get_data(as_text=True)  # the form again, with its error


def test_nul_in_a_note_and_a_reply_is_stored_as_a_replacement_character(make, login_as, client):
    roads = make.department("Дороги")
    operator = make.user("operator")
    ticket = make.ticket()
    login_as(operator)
    assert post_action(client, ticket.id, "note", {"text": NUL_TEXT}, follow=False).status_code == 302
    assert db.session.scalar(db.select(Note.text).where(Note.ticket_id == ticket.id)) == CLEANED

    post_action(client, ticket.id, "route", {"department_id": roads.id, "priority": "normal"})
    assert post_action(client, ticket.id, "replies", {"text": NUL_TEXT}, follow=False).status_code == 302
    assert db.session.scalar(db.select(Reply.text).where(Reply.ticket_id == ticket.id)) == CLEANED


def test_nul_in_a_new_users_name_and_e_mail(make, login_as, client):
    login_as(make.user("admin"))
    response = client.post("/admin/users/new", data={
        "email": "ivan\x00@city.test", "name": "Иван\x00Петров", "role": "operator", "department": "0",
        "locale": "", "password": "long-enough-password-1", "csrf_token": token_of(client, "/admin/users/new")})
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.name == "Иван\ufffdПетров"))
    assert user is not None and user.email == "ivan\ufffd@city.test"


def test_nul_in_the_search_box(make, login_as, client):
    make.ticket(text="Ямы во дворе дома 5")
    login_as(make.user("operator"))
    assert client.get("/queue?q=%D1%8F%D0%BC%D1%8B%00&status=all").status_code == 200


# --- ids beyond the database's range ---------------------------------------------------------

def test_an_id_beyond_the_database_is_the_usual_not_found_page(make, login_as, client):
    login_as(make.user("operator"))
    for path in (f"/tickets/{DB_INT_MAX + 1}", f"/tickets/{2 ** 63}", f"/tickets/{'9' * 5000}"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Здесь ничего нет" in response.get_data(as_text=True)
    assert client.get(f"/tickets/{DB_INT_MAX}").status_code == 404  # the largest id is looked up
    english(client)
    assert "Nothing here" in client.get(f"/tickets/{DB_INT_MAX + 1}").get_data(as_text=True)


def test_a_filter_id_beyond_the_database_is_a_400_with_the_filter_message(make, login_as, client):
    login_as(make.user("operator"))
    for arg in (f"department={DB_INT_MAX + 1}", f"category={2 ** 63}"):
        response = client.get(f"/queue?{arg}")
        assert response.status_code == 400
        assert "Некоторые фильтры заданы неверно" in response.get_data(as_text=True)
    log_out(client)
    login_as(make.user("manager"))
    assert client.get(f"/reports/tickets?department={DB_INT_MAX + 1}").status_code == 400
    assert client.get(f"/reports/tickets?before={2 ** 63}").status_code == 200  # ignored: first page


def test_ids_beyond_the_database_in_forms_are_refused_with_a_message(make, login_as, client):
    ticket = make.ticket()
    login_as(make.user("operator"))
    page = post_action(client, ticket.id, "merge", {"target_id": str(DB_INT_MAX + 1)}).get_data(as_text=True)
    assert f"Значение должно быть между 1 и {DB_INT_MAX}" in page
    page = post_bulk(client, {"ticket_ids": [str(ticket.id), str(2 ** 63)], "action": "spam"}).get_data(as_text=True)
    assert "Отметьте хотя бы одно обращение" in page  # the impossible id is no ticket
    assert fresh(ticket).status == "new"


def test_parse_id_takes_only_what_a_row_can_have():
    assert [parse_id(v) for v in ("42", 42, " 7 ", str(DB_INT_MAX))] == [42, 42, 7, DB_INT_MAX]
    assert [parse_id(v) for v in ("0", "-1", str(DB_INT_MAX + 1), "٣", "1e3", "", None, True, 4.0)] == [None] * 9


# --- size and shape of bodies -----------------------------------------------------------------

@pytest.fixture
def hook_accounts(make):
    secrets = {"webhook_secret": SECRET, "callback_secret": SECRET, "confirmation_code": "c0de",
               "webhook_token": "ok-path-token"}
    return {p: make.account(p, settings={"group_id": 42}, credentials=secrets) for p in ("telegram", "vk", "max", "ok")}


def hook_url(accounts, platform: str) -> str:
    account = accounts[platform]
    return f"/hooks/ok/{account.id}/ok-path-token" if platform == "ok" else f"/hooks/{platform}/{account.id}"


HOOK_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "X-Max-Bot-Api-Secret": SECRET,
                "Content-Type": "application/json"}


def test_a_two_megabyte_webhook_body_is_413_and_not_stored(client, hook_accounts):
    body = json.dumps({"update_id": 1, "secret": SECRET, "type": "wall_reply_new", "text": "я" * 1_100_000})
    for platform in hook_accounts:
        response = client.post(hook_url(hook_accounts, platform), data=body, headers=HOOK_HEADERS)
        assert response.status_code == 413 and response.is_json, platform
    assert count(WebhookDelivery) == 0


def test_a_page_refuses_a_body_over_the_limit_in_russian(client):
    response = client.post("/login", data={"email": "x" * 3_000_000, "csrf_token": token_of(client)})  # limit 2 MB
    assert response.status_code == 413
    assert "слишком большой" in response.get_data(as_text=True)


def test_deep_json_is_kept_as_a_dead_letter_and_vk_refuses_it(client, hook_accounts):
    for platform in ("telegram", "max", "ok"):
        assert client.post(hook_url(hook_accounts, platform), data=DEEP, headers=HOOK_HEADERS).status_code == 200
    response = client.post(hook_url(hook_accounts, "vk"), data='{"type": "wall_reply_new", "x": ' + DEEP + "}",
                           headers=HOOK_HEADERS)
    assert response.status_code == 400  # without a readable body there is no secret to check
    drain_queue()
    deliveries = [(d.platform, d.attempts, d.processed_at is not None, d.last_error)
                  for d in db.session.scalars(db.select(WebhookDelivery))]
    assert sorted(db.session.scalars(db.select(DeadLetter.platform))) == ["max", "ok", "telegram"], deliveries


def test_any_json_value_on_the_webhooks_is_stored_or_refused(client, hook_accounts):
    bodies = ["5", '"text"', "null", "[1, 2]", '{"update_id": true}', '{"message": {"mid": [1]}}',
              '{"update_type": "message_created", "message": {"body": "text"}}',
              '{"update_type": "message_created", "message": {"body": [1]}}', '"\\ud800"',
              '{"update_id": 7, "message": {"mid": "\\ud800"}, "update_type": "message_created", "timestamp": 1}']
    for platform in ("telegram", "max", "ok"):
        for body in bodies:
            response = client.post(hook_url(hook_accounts, platform), data=body, headers=HOOK_HEADERS)
            assert response.status_code == 200, (platform, body)
    for body in bodies:
        assert client.post(hook_url(hook_accounts, "vk"), data=body, headers=HOOK_HEADERS).status_code == 400
    keys = db.session.scalars(db.select(WebhookDelivery.event_key).where(WebhookDelivery.event_key.is_not(None)))
    assert all("\ud800" not in key for key in keys)  # a lone surrogate never reaches the database


@pytest.mark.parametrize("secret", [12345, ["sweep-secret"], {"a": 1}, None, True, 1.5])
def test_a_vk_secret_that_is_not_text_is_refused(client, hook_accounts, secret):
    body = {"type": "wall_reply_new", "event_id": "e1", "group_id": 42, "secret": secret, "object": {}}
    response = client.post(hook_url(hook_accounts, "vk"), json=body)
    assert response.status_code == 403
    assert count(WebhookDelivery) == 0


@pytest.mark.parametrize("group_id, answered", [(42, True), ("42", True), (-42, True), (43, False), ([42], False),
                                                ({"id": 42}, False), (True, False), (None, False), (42.0, False)])
def test_vk_confirmation_with_a_group_id_of_any_type(client, hook_accounts, group_id, answered):
    response = client.post(hook_url(hook_accounts, "vk"), json={"type": "confirmation", "group_id": group_id})
    assert (response.status_code, response.get_data(as_text=True) == "c0de") == ((200, True) if answered else
                                                                                 (403, False))


def test_vk_confirmation_when_the_configured_community_is_not_a_number(client, make):
    account = make.account("vk", settings={"group_id": "club42"}, credentials={"confirmation_code": "c0de"})
    assert client.post(f"/hooks/vk/{account.id}", json={"type": "confirmation", "group_id": 42}).status_code == 403


def test_a_json_body_on_a_page_is_refused(client):
    response = client.post("/login", json={"email": 5, "password": True}, headers={"X-CSRFToken": token_of(client)})
    assert response.status_code == 415


def test_the_depth_scan_counts_brackets_outside_strings_only():
    assert not json_depth_exceeds('{"a": "[[[[[[[[", "b": "\\"[[["}', 2)
    assert json_depth_exceeds('{"a": [[{"b": 1}]]}', 3)
    assert not json_depth_exceeds('{"a": [[{"b": 1}]]}', 4)


# --- the OK webhook token stays out of access logs ---------------------------------------------

def test_the_dev_server_request_log_hides_the_ok_token(live_server, hook_accounts, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        response = httpx.post(live_server.url + hook_url(hook_accounts, "ok"), content=b'{"message": {"mid": "m1"}}')
        assert response.status_code == 200
        deadline = time.monotonic() + 10
        while "/hooks/ok/" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)  # the server thread writes its line after answering
    assert f"/hooks/ok/{hook_accounts['ok'].id}/***" in caplog.text
    assert "ok-path-token" not in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_access_log_hides_the_ok_token(hook_accounts, database_url, redis_url, instance_path, tmp_path):
    access_log, port = tmp_path / "access.log", _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": TEST_SECRET,
           "DESK_INSTANCE_PATH": instance_path}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access_log), "wsgi:app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}{hook_url(hook_accounts, 'ok')}"
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.post(url, content=b'{"message": {"mid": "m2"}}', timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
                time.sleep(0.2)
        assert response.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = access_log.read_text()
    assert f"/hooks/ok/{hook_accounts['ok'].id}/***" in log and "ok-path-token" not in log
