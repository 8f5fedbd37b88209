"""When the database or Redis is away, people and networks get a 503 that says "try again"
(in the user's language, with Retry-After), never a 500 — and the page itself renders
without either service."""
from __future__ import annotations

import pytest
from redis import Redis
from sqlalchemy.exc import OperationalError

from desk.auth import throttle
from desk.extensions import login_manager
from desk.models import Role
from tests.auth_support import new_browser, sign_in
from tests.conftest import csrf_from


def _database_away(*_args, **_kwargs):
    raise OperationalError("SELECT", {}, Exception("could not connect to server: Connection refused"))


@pytest.fixture
def database_away(monkeypatch):
    """Every signed-in request fails at its first query: loading the user."""
    def switch():
        monkeypatch.setattr(login_manager, "_user_callback", _database_away)
    return switch


def test_a_page_during_a_database_outage_is_a_russian_503(app, make, database_away):
    browser = new_browser(app)
    assert sign_in(browser, make.user(Role.OPERATOR).email).status_code == 302
    database_away()
    answer = browser.get("/queue")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert "Сервис временно недоступен" in page and 'http-equiv="refresh"' in page


def test_the_outage_page_keeps_the_chosen_language(app, make, database_away):
    browser = new_browser(app)
    assert sign_in(browser, make.user(Role.OPERATOR).email).status_code == 302
    browser.get("/lang/en")
    token = csrf_from(browser.get("/queue").get_data(as_text=True))
    database_away()
    answer = browser.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "The desk is briefly unavailable" in page and 'http-equiv="refresh"' not in page  # not for a POST


def test_the_api_answers_503_in_its_own_shape(app, client, make, monkeypatch):
    from desk.api import auth as api_auth
    from tests.test_api import issue_token

    token = issue_token(make.user(Role.OPERATOR))
    monkeypatch.setattr(api_auth, "authenticate_token", _database_away)
    answer = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert answer.get_json()["error"] == "unavailable"


def test_login_while_redis_is_down_is_a_503_not_a_500(app, make, monkeypatch):
    user = make.user(Role.OPERATOR)
    browser = new_browser(app)
    monkeypatch.setattr(throttle, "_redis", lambda: Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.5))
    answer = sign_in(browser, user.email)
    assert answer.status_code == 503 and "Сервис временно недоступен" in answer.get_data(as_text=True)


def test_a_webhook_during_an_outage_is_a_503_the_network_retries(app, client, make, monkeypatch):
    from desk.hooks import views as hooks

    account = make.account("telegram", credentials={"bot_token": "1:x", "webhook_secret": "s3cret"})
    monkeypatch.setattr(hooks, "accept_delivery", _database_away)
    answer = client.post(f"/hooks/telegram/{account.id}", json={"update_id": 1},
                         headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"


def test_an_error_page_during_an_outage_is_the_outage_page(app, make, database_away):
    browser = new_browser(app)
    assert sign_in(browser, make.user(Role.OPERATOR).email).status_code == 302
    database_away()
    answer = browser.post("/logout")  # no CSRF token: a 400 whose page would need the user
    assert answer.status_code == 503 and "Сервис временно недоступен" in answer.get_data(as_text=True)
