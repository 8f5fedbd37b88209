"""Open311 API keys: the administrators' page (Russian, English on request), the CLI, a
revoked key refused with 403, the last use recorded, and the light rate limit per key."""
from __future__ import annotations

import json
import re

import pytest

from desk.extensions import db
from desk.models import Role
from desk.models.intake import Open311Key
from desk.open311 import keys
from tests.conftest import csrf_from
from tests.ticket_helpers import english

PAGE = "/admin/open311/keys"
API = "/open311/v2"


@pytest.fixture
def admin(make):
    return make.user(Role.ADMIN)


@pytest.fixture
def roads(make):
    return make.category("Дороги и дворы", direction="housing")


def _post_ok(client, plain: str, roads) -> int:
    response = client.post(f"{API}/requests.json", data={"api_key": plain, "service_code": str(roads.id),
                                                          "address_string": "ул. Ленина, 1"})
    return response.status_code


def _error(response) -> tuple[int, str]:
    (error,) = json.loads(response.get_data(as_text=True))
    assert error["code"] == response.status_code
    return error["code"], error["description"]


def _create(client, name: str):
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    return client.post(PAGE, data={"csrf_token": token, "name": name})


def test_only_administrators_see_the_page(client, make, login_as):
    assert client.get(PAGE).status_code == 302  # to the login page
    login_as(make.user(Role.OPERATOR))
    assert client.get(PAGE).status_code == 403


def test_the_page_lists_keys_and_shows_a_new_key_once(app, client, admin, login_as, roads):
    app.config["DESK_PUBLIC_URL"] = "https://desk.belogorsk.ru"
    login_as(admin)
    page = client.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ключи Open311" in html and "Ключей пока нет." in html
    assert '<code data-test="endpoint">https://desk.belogorsk.ru/open311/v2</code>' in html
    assert "Ключи Open311" in client.get("/admin/").get_data(as_text=True)  # on the administration index

    created = _create(client, "  Портал   госуслуг ")
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    plain = re.search(r'data-test="new-key">.*?<code>(o311_[^<]+)</code>', html, re.S).group(1)
    row = db.session.scalars(db.select(Open311Key)).one()
    assert row.name == "Портал госуслуг" and row.key_hash == Open311Key.hash(plain) and plain not in row.key_hash
    assert row.created_by_id == admin.id and plain.startswith(row.prefix)
    assert "ещё не использовался" in html and "активен" in html
    # Shown once: the next visit lists the key by its first characters only.
    again = client.get(PAGE).get_data(as_text=True)
    assert plain not in again and f"{row.prefix}…" in again

    assert _post_ok(client, plain, roads) == 200
    db.session.expire_all()
    assert db.session.get(Open311Key, row.id).last_used_at is not None
    assert "ещё не использовался" not in client.get(PAGE).get_data(as_text=True)


def test_a_duplicate_or_empty_name_is_refused_in_russian(client, admin, login_as):
    login_as(admin)
    assert _create(client, "Портал").status_code == 200
    refused = _create(client, "Портал")
    assert refused.status_code == 422
    assert "Ключ с таким названием уже есть." in refused.get_data(as_text=True)
    assert _create(client, "   ").status_code == 422
    assert db.session.scalars(db.select(db.func.count(Open311Key.id))).one() == 1


def test_the_page_in_english(client, admin, login_as):
    login_as(admin)
    english(client)
    html = _create(client, "Portal").get_data(as_text=True)
    assert "Open311 keys" in html and "The new key. Copy it now: it is shown only once." in html


def test_revoking_on_the_page_refuses_the_key(client, admin, login_as, roads):
    login_as(admin)
    html = _create(client, "Портал").get_data(as_text=True)
    plain = re.search(r"<code>(o311_[^<]+)</code>", html).group(1)
    row = db.session.scalars(db.select(Open311Key)).one()
    assert client.post(f"{PAGE}/{row.id}/revoke").status_code == 400  # no CSRF token
    assert _post_ok(client, plain, roads) == 200
    token = csrf_from(client.get(PAGE).get_data(as_text=True))
    response = client.post(f"{PAGE}/{row.id}/revoke", data={"csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Ключ «Портал» отозван" in html and 'data-test="key-status">отозван' in html
    refused = client.post(f"{API}/requests.json", data={"api_key": plain, "service_code": str(roads.id),
                                                         "address_id": "1"})
    assert _error(refused) == (403, "api_key has been revoked")
    assert client.post(f"{PAGE}/999999/revoke", data={"csrf_token": token}).status_code == 404


def test_the_cli_creates_lists_and_revokes_keys(app, roads, client):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["open311", "keys", "create", "--name", "Портал"])
    assert created.exit_code == 0, created.output
    plain = created.output.strip()
    assert plain.startswith("o311_") and len(plain) > 30
    row = db.session.scalars(db.select(Open311Key)).one()
    assert row.key_hash == Open311Key.hash(plain) and row.created_by_id is None

    duplicate = runner.invoke(args=["open311", "keys", "create", "--name", "Портал"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output

    listed = runner.invoke(args=["open311", "keys", "list"])
    assert listed.exit_code == 0 and "Портал" in listed.output and row.prefix in listed.output
    assert plain not in listed.output and "active" in listed.output

    assert _post_ok(client, plain, roads) == 200
    revoked = runner.invoke(args=["open311", "keys", "revoke", "--name", "Портал"])
    assert revoked.exit_code == 0 and "revoked Портал" in revoked.output
    assert "revoked" in runner.invoke(args=["open311", "keys", "list"]).output
    assert runner.invoke(args=["open311", "keys", "revoke", "--name", "Портал"]).output.strip() \
        == "Портал was already revoked"
    assert runner.invoke(args=["open311", "keys", "revoke", "--name", "Нет такого"]).exit_code != 0
    db.session.expire_all()
    response = client.post(f"{API}/requests.xml", data={"api_key": plain, "service_code": str(roads.id),
                                                         "address_id": "1"})
    assert response.status_code == 403 and b"<code>403</code>" in response.get_data()


def test_posts_are_limited_per_key_and_minute(app, client, roads, monkeypatch):
    app.config["OPEN311_POSTS_PER_MINUTE"] = 2
    monkeypatch.setattr(keys, "_clock", lambda: 1_800_000_030.0)  # one minute for the whole test
    first, plain_first = Open311Key.issue("Первый")
    second, plain_second = Open311Key.issue("Второй")
    db.session.add_all([first, second])
    db.session.commit()
    assert [_post_ok(client, plain_first, roads) for _ in range(2)] == [200, 200]
    response = client.post(f"{API}/requests.json", data={"api_key": plain_first, "service_code": str(roads.id),
                                                          "address_id": "1"})
    code, description = _error(response)
    assert code == 429 and "at most 2 a minute" in description and response.headers["Retry-After"] == "30"
    assert _post_ok(client, plain_second, roads) == 200  # another key has its own count
    app.config["OPEN311_POSTS_PER_MINUTE"] = 0
    assert _post_ok(client, plain_first, roads) == 200
