"""Server-side sessions: a copied cookie is only as good as the session behind it.

Logout ends that session; a password change (the user's own or an administrator's), the
administrator's "end all sessions" and deactivation end every session and remember-me
cookie of the user; every login gets a new token and remember-me lasts days, not a year.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from desk.extensions import db
from desk.models import User, UserSession, utcnow

from .auth_support import (
    REMEMBER_COOKIE,
    SESSION_COOKIE,
    cookie,
    copy_cookie,
    new_browser,
    page_token,
    sign_in,
    signed_in,
)


def thief_with(app, browser, name: str):
    """A second browser holding a copy of one cookie of ``browser``."""
    thief = new_browser(app)
    copy_cookie(browser, thief, name)
    return thief


def sessions_of(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(UserSession).where(UserSession.user_id == user.id)))


def test_a_copied_session_cookie_stops_working_after_logout(app, make):
    user = make.user("operator")
    owner = new_browser(app)
    assert sign_in(owner, user.email).status_code == 302
    thief = thief_with(app, owner, SESSION_COOKIE)
    assert signed_in(thief), "the copy works while the session lives"

    owner.post("/logout", data={"csrf_token": page_token(owner, "/account")})

    assert not signed_in(owner)
    assert not signed_in(thief), "logout must end the session the cookie names, wherever it was copied"
    assert sessions_of(user) == []


def test_remember_me_keeps_a_restarted_browser_signed_in(app, make):
    user = make.user("operator")
    browser = new_browser(app)
    sign_in(browser, user.email, remember=True)
    restarted = thief_with(app, browser, REMEMBER_COOKIE)  # the session cookie died with the browser
    assert [signed_in(restarted) for _ in range(3)] == [True] * 3
    assert cookie(restarted, REMEMBER_COOKIE), "the remember-me cookie is kept"


def test_a_copied_remember_me_cookie_stops_working_after_logout(app, make):
    user = make.user("operator")
    owner = new_browser(app)
    sign_in(owner, user.email, remember=True)
    thief = thief_with(app, owner, REMEMBER_COOKIE)
    assert signed_in(thief) and signed_in(thief)

    owner.post("/logout", data={"csrf_token": page_token(owner, "/account")})
    assert not signed_in(thief)


def test_own_password_change_ends_every_other_session_and_remember_cookie(app, make):
    user = make.user("operator")
    owner, laptop = new_browser(app), new_browser(app)
    sign_in(owner, user.email, remember=True)
    sign_in(laptop, user.email, remember=True)
    stolen_session = thief_with(app, laptop, SESSION_COOKIE)
    stolen_remember = thief_with(app, laptop, REMEMBER_COOKIE)
    assert signed_in(stolen_session) and signed_in(stolen_remember)

    response = owner.post("/account/password", data={
        "current_password": "correct-horse-battery", "new_password": "a-brand-new-secret",
        "confirm": "a-brand-new-secret", "csrf_token": page_token(owner, "/account")})
    assert response.status_code == 302
    assert "Завершено других сеансов: 1" in owner.get("/account").get_data(as_text=True)

    assert signed_in(owner), "the browser that changed the password stays logged in"
    assert not signed_in(laptop)
    assert not signed_in(stolen_session)
    assert not signed_in(stolen_remember)
    assert sign_in(new_browser(app), user.email, "a-brand-new-secret").status_code == 302


def test_own_password_change_needs_the_current_password(app, make):
    user = make.user("operator")
    owner = new_browser(app)
    sign_in(owner, user.email)
    other = new_browser(app)
    sign_in(other, user.email)

    response = owner.post("/account/password", data={
        "current_password": "a-guess", "new_password": "a-brand-new-secret",
        "confirm": "a-brand-new-secret", "csrf_token": page_token(owner, "/account")})
    assert response.status_code == 422
    assert "Текущий пароль указан неверно" in response.get_data(as_text=True)
    mismatch = owner.post("/account/password", data={
        "current_password": "correct-horse-battery", "new_password": "a-brand-new-secret",
        "confirm": "another-new-secret", "csrf_token": page_token(owner, "/account")})
    assert mismatch.status_code == 422 and "Новые пароли не совпадают" in mismatch.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("correct-horse-battery")
    assert signed_in(other), "a refused change ends nothing"


def test_admin_password_reset_ends_every_session_and_remember_cookie(app, make):
    admin, user = make.user("admin"), make.user("operator")
    console = new_browser(app)
    sign_in(console, admin.email)
    victim = new_browser(app)
    sign_in(victim, user.email, remember=True)
    stolen_remember = thief_with(app, victim, REMEMBER_COOKIE)

    url = f"/admin/users/{user.id}"
    response = console.post(f"{url}/password", data={"password": "reset-by-admin",
                                                     "csrf_token": page_token(console, url)})
    assert response.status_code == 302

    assert not signed_in(victim)
    assert not signed_in(stolen_remember)
    assert signed_in(console)


def test_admin_end_all_sessions_button(app, make):
    admin, user = make.user("admin"), make.user("department_head", department=make.department())
    console = new_browser(app)
    sign_in(console, admin.email)
    office, home = new_browser(app), new_browser(app)
    sign_in(office, user.email)
    sign_in(home, user.email, remember=True)
    stolen_remember = thief_with(app, home, REMEMBER_COOKIE)

    url = f"/admin/users/{user.id}"
    html = console.get(url).get_data(as_text=True)
    assert html.count("data-session-id=") == 2, "the admin sees the user's two sessions"
    response = console.post(f"{url}/sessions/end", data={"csrf_token": page_token(console, url)})
    assert response.status_code == 302
    assert "завершено сеансов: 2" in console.get(url).get_data(as_text=True)

    for browser in (office, home, stolen_remember):
        assert not signed_in(browser)
    assert signed_in(console)
    assert sign_in(new_browser(app), user.email).status_code == 302, "the password still works"


def test_deactivation_logs_the_user_out_at_once(app, make):
    admin, user = make.user("admin"), make.user("operator")
    console, victim = new_browser(app), new_browser(app)
    sign_in(console, admin.email)
    sign_in(victim, user.email, remember=True)
    url = f"/admin/users/{user.id}"
    console.post(f"{url}/active", data={"active": "0", "csrf_token": page_token(console, url)})
    assert not signed_in(victim)
    assert sessions_of(user) == []


def test_every_login_gets_a_new_token(app, make):
    user = make.user("operator")
    first, second = new_browser(app), new_browser(app)
    sign_in(first, user.email, remember=True)
    sign_in(second, user.email, remember=True)
    assert cookie(first, REMEMBER_COOKIE) != cookie(second, REMEMBER_COOKIE)
    assert str(user.id) not in {cookie(first, REMEMBER_COOKIE).split("|")[0],
                                cookie(second, REMEMBER_COOKIE).split("|")[0]}
    tokens = {s.token_hash for s in sessions_of(user)}
    assert len(tokens) == 2


def test_remember_me_lasts_the_configured_days_not_a_year(app, make):
    user = make.user("operator")
    browser = new_browser(app)
    response = sign_in(browser, user.email, remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(REMEMBER_COOKIE))
    expires = datetime.strptime(header.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    days = (expires.replace(tzinfo=UTC) - utcnow()).days
    assert 13 <= days <= 14
    (row,) = sessions_of(user)
    assert row.remember and timedelta(days=13) < row.expires_at - utcnow() <= timedelta(days=14)


def test_an_expired_remember_me_session_is_rejected(app, make):
    user = make.user("operator")
    owner = new_browser(app)
    sign_in(owner, user.email, remember=True)
    reopened = thief_with(app, owner, REMEMBER_COOKIE)  # the browser restarted: no session cookie
    assert signed_in(reopened)

    db.session.execute(db.update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert not signed_in(thief_with(app, owner, REMEMBER_COOKIE))
    assert not signed_in(owner)


def test_a_session_without_remember_me_ends_after_the_session_lifetime(app, make):
    user = make.user("operator")
    browser = new_browser(app)
    sign_in(browser, user.email)
    (row,) = sessions_of(user)
    assert not row.remember
    assert timedelta(hours=11) < row.expires_at - utcnow() <= timedelta(hours=12)
    assert cookie(browser, REMEMBER_COOKIE) is None


def test_account_page_lists_sessions_and_ends_another_one(app, make):
    user = make.user("manager")
    mine, forgotten = new_browser(app), new_browser(app)
    sign_in(mine, user.email)
    sign_in(forgotten, user.email, remember=True)
    html = mine.get("/account").get_data(as_text=True)
    assert "Где выполнен вход" in html and html.count("data-session-id=") == 2
    assert html.count('data-test="this-session"') == 1

    forgotten_id = max(s.id for s in sessions_of(user))
    response = mine.post(f"/account/sessions/{forgotten_id}/end",
                         data={"csrf_token": page_token(mine, "/account")})
    assert response.status_code == 302
    assert not signed_in(forgotten)
    assert signed_in(mine)


def test_a_user_cannot_end_someone_elses_session(app, make):
    alice, bob = make.user("operator"), make.user("operator")
    a, b = new_browser(app), new_browser(app)
    sign_in(a, alice.email)
    sign_in(b, bob.email)
    (bobs,) = sessions_of(bob)
    response = a.post(f"/account/sessions/{bobs.id}/end", data={"csrf_token": page_token(a, "/account")})
    assert response.status_code == 404
    assert signed_in(b)


def test_log_out_everywhere_else(app, make):
    user = make.user("operator")
    here, there, elsewhere = new_browser(app), new_browser(app), new_browser(app)
    for browser in (here, there, elsewhere):
        sign_in(browser, user.email)
    response = here.post("/account/sessions/end-others", data={"csrf_token": page_token(here, "/account")})
    assert response.status_code == 302
    assert signed_in(here) and not signed_in(there) and not signed_in(elsewhere)


def test_activity_is_written_at_most_once_a_minute_and_the_user_loads_in_one_query(app, make):
    user = make.user("operator")
    browser = new_browser(app)
    sign_in(browser, user.email)
    (row,) = sessions_of(user)
    recent = utcnow() - timedelta(seconds=20)
    db.session.execute(db.update(UserSession).values(last_seen_at=recent))
    db.session.commit()

    statements: list[str] = []
    listener = lambda _conn, _cursor, sql, *_rest: statements.append(sql)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        home = browser.get("/")  # a redirect that only needs the user
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert home.status_code == 302 and home.headers["Location"].endswith("/queue")
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements), "no write this soon"
    assert len(statements) == 1 and "user_sessions" in statements[0], "user, session and bell in one query"
    assert sessions_of(user)[0].last_seen_at == recent

    stale = utcnow() - timedelta(minutes=5)
    db.session.execute(db.update(UserSession).values(last_seen_at=stale))
    db.session.commit()
    assert signed_in(browser)
    assert sessions_of(user)[0].last_seen_at > stale


def test_a_stolen_session_cannot_guess_the_password_at_leisure(app, make):
    app.config["LOGIN_CLIENT_MAX_FAILURES"] = 3
    user = make.user("operator")
    thief = new_browser(app)
    sign_in(thief, user.email)

    def change(current: str):
        return thief.post("/account/password", data={
            "current_password": current, "new_password": "taken-over-123", "confirm": "taken-over-123",
            "csrf_token": page_token(thief, "/account")})

    assert [change(f"guess-{n}").status_code for n in range(3)] == [422] * 3
    response = change("correct-horse-battery")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("correct-horse-battery")


def test_a_password_set_from_the_command_line_ends_the_sessions(app, make):
    user = make.user("operator", email="op@city.test")
    browser = new_browser(app)
    sign_in(browser, user.email, remember=True)
    stolen_remember = thief_with(app, browser, REMEMBER_COOKIE)
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "op@city.test",
                                                "--password", "set-by-cli-1", "--role", "operator"])
    assert result.exit_code == 0, result.output
    assert not signed_in(browser) and not signed_in(stolen_remember)


def test_an_empty_login_form_says_what_is_missing(client):
    from .conftest import csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "email": "", "password": ""})
    assert response.status_code == 422
    assert "Введите e-mail и пароль." in response.get_data(as_text=True)


def test_the_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"].endswith("/static/favicon.svg")
    assert client.get("/static/favicon.svg").status_code == 200
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)
