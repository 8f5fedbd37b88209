"""Administration pages: real form posts with CSRF, admin-only access, write-only secrets."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g

from desk.extensions import db
from desk.models import Account, ApiToken, Category, Department, User, utcnow

from .conftest import csrf_from, login


def page(client, url: str) -> tuple[str, str]:
    """GET a page; return its HTML and the CSRF token of its forms."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    return html, csrf_from(html)


def post_form(client, url: str, data: dict, form_page: str | None = None):
    _, token = page(client, form_page or url)
    return client.post(url, data={**data, "csrf_token": token})


def can_log_in(app, email: str, password: str) -> bool:
    """Log in from a second browser. The test keeps one app context, where Flask-Login
    and Flask-WTF cache the user and the CSRF token in ``g``: drop them so each client
    is judged by its own cookie."""
    for key in ("_login_user", "csrf_token"):
        g.pop(key, None)
    status = login(app.test_client(), email, password).status_code
    for key in ("_login_user", "csrf_token"):
        g.pop(key, None)
    return status == 302


@pytest.fixture
def admin(make, login_as):
    user = make.user("admin", email="root@city.test")
    login_as(user)
    return user


@pytest.mark.parametrize("role", ["operator", "manager", "department_head"])
def test_non_admins_get_403_on_every_admin_page(make, client, role):
    dept = make.department("ЖКХ")
    user = make.user(role, department=dept if role == "department_head" else None)
    login(client, user.email)
    for url in ["/admin/", "/admin/users", "/admin/users/new", "/admin/departments", "/admin/categories",
                "/admin/accounts", "/admin/accounts/new/vk", "/admin/tokens"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/departments", data={"name": "Хакеры"}).status_code in (400, 403)
    assert db.session.scalars(db.select(Department).where(Department.name == "Хакеры")).first() is None


def test_anonymous_is_sent_to_login(client, app):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_index_links_every_admin_page(client, admin):
    html, _ = page(client, "/admin/")
    for url in ["/admin/users", "/admin/departments", "/admin/categories", "/admin/accounts", "/admin/tokens"]:
        assert f'href="{url}"' in html


def test_post_without_csrf_is_refused(client, admin):
    response = client.post("/admin/departments", data={"name": "Без токена"})
    assert response.status_code == 400
    assert db.session.scalars(db.select(Department).where(Department.name == "Без токена")).first() is None


def test_create_user_then_they_can_log_in(client, admin, make, app):
    dept = make.department("Образование")
    response = post_form(client, "/admin/users/new", {
        "email": "Teacher@City.test", "name": "Анна Смирнова", "role": "department_head",
        "department": dept.id, "locale": "en", "password": "long-password-1"})
    assert response.status_code == 302
    user = db.session.scalars(db.select(User).where(User.email == "teacher@city.test")).one()
    assert user.department_id == dept.id and user.role == "department_head" and user.locale == "en"
    assert can_log_in(app, "teacher@city.test", "long-password-1")


def test_department_head_without_department_is_refused_with_a_clear_error(client, admin):
    response = post_form(client, "/admin/users/new", {
        "email": "head@city.test", "role": "department_head", "department": 0, "locale": "",
        "password": "long-password-1"})
    assert response.status_code == 422
    assert "A department head must have a department" in response.get_data(as_text=True) \
        or "Руководитель отдела должен быть привязан к отделу" in response.get_data(as_text=True)
    assert db.session.scalars(db.select(User).where(User.email == "head@city.test")).first() is None


def test_duplicate_email_is_refused(client, admin, make):
    make.user("operator", email="taken@city.test")
    response = post_form(client, "/admin/users/new", {
        "email": "TAKEN@city.test", "role": "operator", "department": 0, "locale": "", "password": "long-password-1"})
    assert response.status_code == 422
    assert 'data-error-for="email"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2


def test_edit_user_role_and_department(client, admin, make):
    dept = make.department("Дороги")
    user = make.user("operator", email="op@city.test")
    url = f"/admin/users/{user.id}"
    response = post_form(client, url, {"email": "op@city.test", "name": "Новое имя", "role": "department_head",
                                       "department": dept.id, "locale": "ru"})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.role, user.department_id, user.name) == ("department_head", dept.id, "Новое имя")


def test_reset_password_and_deactivate(client, admin, make, app):
    user = make.user("operator", email="op2@city.test")
    url = f"/admin/users/{user.id}"
    short = post_form(client, f"{url}/password", {"password": "short"}, form_page=url)
    assert short.status_code == 422
    assert post_form(client, f"{url}/password", {"password": "brand-new-pass"}, form_page=url).status_code == 302
    assert can_log_in(app, "op2@city.test", "brand-new-pass")

    assert post_form(client, f"{url}/active", {"active": "0"}, form_page=url).status_code == 302
    assert not can_log_in(app, "op2@city.test", "brand-new-pass")


def test_admin_cannot_deactivate_themself(client, admin):
    response = post_form(client, f"/admin/users/{admin.id}/active", {"active": "0"}, form_page="/admin/users")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_active_user


def test_departments_create_rename_toggle_approval_and_list_heads(client, admin, make):
    assert post_form(client, "/admin/departments", {"name": "Культура", "is_active": "y"}).status_code == 302
    dept = db.session.scalars(db.select(Department).where(Department.name == "Культура")).one()
    assert not dept.answers_need_approval
    make.user("department_head", department=dept, name="Ольга Культурная")
    html, _ = page(client, "/admin/departments")
    assert "Ольга Культурная" in html

    url = f"/admin/departments/{dept.id}"
    response = post_form(client, url, {"name": "Управление культуры", "answers_need_approval": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    dept = db.session.get(Department, dept.id)
    assert dept.name == "Управление культуры" and dept.answers_need_approval and not dept.is_active

    taken = post_form(client, "/admin/departments", {"name": "Управление культуры", "is_active": "y"})
    assert taken.status_code == 422


def test_categories_create_and_edit(client, admin, make):
    dept = make.department("ЖКХ")
    response = post_form(client, "/admin/categories", {"name": "Отопление", "direction": "housing",
                                                       "default_department": dept.id, "is_active": "y"})
    assert response.status_code == 302
    cat = db.session.scalars(db.select(Category).where(Category.name == "Отопление")).one()
    assert cat.default_department_id == dept.id and cat.direction == "housing"
    response = post_form(client, f"/admin/categories/{cat.id}", {"name": "Отопление и ГВС", "direction": "",
                                                                 "default_department": 0})
    assert response.status_code == 302
    db.session.expire_all()
    cat = db.session.get(Category, cat.id)
    assert (cat.name, cat.direction, cat.default_department_id, cat.is_active) == ("Отопление и ГВС", None, None, False)


SECRET = "123456:AAE-very-secret-bot-token"


def test_account_secrets_are_write_only(client, admin, make):
    response = post_form(client, "/admin/accounts/new/telegram", {
        "name": "Администрация Белогорска", "link": "https://t.me/belogorsk", "direction": "authorities",
        "department": 0, "is_active": "y", "setting_channel_id": "-1001111111111",
        "setting_discussion_chat_id": "-1002222222222", "secret_bot_token": SECRET,
        "secret_webhook_secret": "hook_secret_42"})
    assert response.status_code == 302
    account = db.session.scalars(db.select(Account)).one()
    assert account.settings["channel_id"] == "-1001111111111"
    assert account.get_credentials() == {"bot_token": SECRET, "webhook_secret": "hook_secret_42"}

    for url in ["/admin/accounts", f"/admin/accounts/{account.id}"]:
        html, _ = page(client, url)
        assert SECRET not in html and "hook_secret_42" not in html
        assert account.credentials_encrypted not in html
    html, _ = page(client, f"/admin/accounts/{account.id}")
    assert "-1002222222222" in html  # public ids are shown

    # An empty field keeps the stored secret; a new value replaces only that one.
    response = post_form(client, f"/admin/accounts/{account.id}", {
        "name": "Администрация Белогорска", "link": "https://t.me/belogorsk", "direction": "authorities",
        "department": 0, "is_active": "y", "setting_channel_id": "-1001111111111",
        "secret_bot_token": "", "secret_webhook_secret": "new_hook"})
    assert response.status_code == 302
    db.session.expire_all()
    account = db.session.get(Account, account.id)
    assert account.get_credentials() == {"bot_token": SECRET, "webhook_secret": "new_hook"}
    assert "discussion_chat_id" not in account.settings

    # "Remove" deletes one stored secret.
    response = post_form(client, f"/admin/accounts/{account.id}", {
        "name": "Администрация Белогорска", "direction": "authorities", "department": 0, "is_active": "y",
        "clear_webhook_secret": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, account.id).get_credentials() == {"bot_token": SECRET}


def test_account_list_groups_by_platform_with_direction_and_department(client, admin, make):
    dept = make.department("Спорт")
    make.account("vk", "sport", name="Спортивный Белогорск", department=dept, credentials={"access_token": "vk1-secret"})
    make.account("ok", "culture", name="Дом культуры")
    html, _ = page(client, "/admin/accounts")
    assert "vk1-secret" not in html
    vk_table = html.split('data-platform="vk"')[1].split("</table>")[0]
    assert "Спортивный Белогорск" in vk_table and "Спорт" in vk_table and "Дом культуры" not in vk_table
    assert "Дом культуры" in html.split('data-platform="ok"')[1]


def test_account_name_unique_per_network(client, admin, make):
    make.account("vk", name="Школа №1")
    response = post_form(client, "/admin/accounts/new/vk", {"name": "Школа №1", "direction": "education",
                                                             "department": 0, "is_active": "y"})
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count()).select_from(Account)) == 1


def test_issue_token_shown_once_then_revoke(client, admin, make):
    user = make.user("operator", email="bot@city.test")
    response = post_form(client, "/admin/tokens", {"user": user.id, "name": "отчёты"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plain = html.split("<code>")[1].split("</code>")[0]
    assert plain.startswith("dsk_")
    token = db.session.scalars(db.select(ApiToken)).one()
    assert token.token_hash == ApiToken.hash(plain) and token.user_id == user.id

    listing, _ = page(client, "/admin/tokens")
    assert plain not in listing and "отчёты" in listing

    response = post_form(client, f"/admin/tokens/{token.id}/revoke", {}, form_page="/admin/tokens")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked


def test_issue_a_token_with_an_expiry_and_see_it_expire_in_the_list(client, admin, make):
    user = make.user("operator", email="bot@city.test")
    html, _ = page(client, "/admin/tokens")
    assert "Срок действия" in html and "Бессрочно (до отзыва)" in html
    response = post_form(client, "/admin/tokens", {"user": user.id, "name": "на месяц", "expires_in": "30"})
    assert response.status_code == 200
    token = db.session.scalars(db.select(ApiToken)).one()
    assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
    assert post_form(client, "/admin/tokens", {"user": user.id, "name": "навсегда", "expires_in": "0"}
                     ).status_code == 200
    forever = db.session.scalars(db.select(ApiToken).where(ApiToken.name == "навсегда")).one()
    assert forever.expires_at is None
    assert post_form(client, "/admin/tokens", {"user": user.id, "expires_in": "1000000"}).status_code == 422

    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    listing, _ = page(client, "/admin/tokens")
    row = listing.split(f'data-token-id="{token.id}"')[1].split("</tr>")[0]
    assert "истёк" in row
    forever_row = listing.split(f'data-token-id="{forever.id}"')[1].split("</tr>")[0]
    assert "бессрочно" in forever_row and "активен" in forever_row


def test_admin_pages_are_in_russian_by_default(client, admin):
    html, _ = page(client, "/admin/")
    assert "Пользователи" in html and "Аккаунты" in html
    html, _ = page(client, "/admin/users/new")
    assert "Обязательно для руководителя отдела." in html
