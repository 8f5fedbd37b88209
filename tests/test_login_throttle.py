"""Login throttling: per client address and per account, without letting an attacker
lock the owner out (device cookie), bounded locks, and one code path for known and
unknown e-mails."""
from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import event
from werkzeug.security import check_password_hash

from desk.auth import login as login_module
from desk.extensions import db
from desk.models import User, utcnow
from desk.queue import get_redis

from .auth_support import DEVICE_COOKIE, cookie, new_browser, page_token, sign_in, signed_in

WRONG = "not-the-password"
OWNER_ADDRESS, ATTACKER_ADDRESS = "10.0.0.5", "203.0.113.66"


def hammer(browser, email: str, times: int) -> list[int]:
    return [sign_in(browser, email, WRONG).status_code for _ in range(times)]


def owners_browser(app, user, address: str = OWNER_ADDRESS):
    """The owner's usual browser: it logged in before (and so holds a device cookie)."""
    browser = new_browser(app, address)
    assert sign_in(browser, user.email).status_code == 302
    assert cookie(browser, DEVICE_COOKIE, path="/login")
    browser.post("/logout", data={"csrf_token": page_token(browser, "/account")})
    return browser


def test_the_owner_logs_in_from_their_own_browser_while_the_attacker_is_locked_out(app, make):
    user = make.user("operator")
    owner = owners_browser(app, user)
    attacker = new_browser(app, ATTACKER_ADDRESS)

    assert hammer(attacker, user.email, 12) == [401] * 12
    refused = sign_in(attacker, user.email)  # even the right password
    assert refused.status_code == 401
    assert "Неверный e-mail или пароль" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until > utcnow(), "the administrator sees the lock"

    # A new browser of the owner is refused too while the lock lasts (bounded, see below)…
    assert sign_in(new_browser(app, OWNER_ADDRESS), user.email).status_code == 401
    # …but the browser they always use is not held by the attacker's lock.
    assert sign_in(owner, user.email).status_code == 302
    assert signed_in(owner)


def test_a_device_cookie_works_only_for_its_user_and_only_when_signed_by_the_desk(app, make):
    user, colleague = make.user("operator"), make.user("operator")
    colleagues_pc = owners_browser(app, colleague)
    hammer(new_browser(app, ATTACKER_ADDRESS), user.email, 5)
    assert sign_in(colleagues_pc, user.email).status_code == 401, "the colleague's cookie is not the user's"

    forged = new_browser(app, OWNER_ADDRESS)
    payload = URLSafeSerializer("guessed-secret", salt="desk.device-cookie").dumps(
        {str(user.id): ["nonce", int(utcnow().timestamp())]})
    forged.set_cookie(DEVICE_COOKIE, payload, path="/login")
    assert sign_in(forged, user.email).status_code == 401


def test_a_trusted_browser_that_keeps_guessing_loses_its_trust(app, make):
    user = make.user("operator")
    owner = owners_browser(app, user)
    hammer(new_browser(app, ATTACKER_ADDRESS), user.email, 5)  # the account is locked for others
    assert hammer(owner, user.email, 5) == [401] * 5  # someone at the owner's computer guesses
    assert sign_in(owner, user.email).status_code == 401, "now it is held by the lock like any browser"


def test_too_many_failures_from_one_address_get_429_with_retry_after(app, make):
    app.config["LOGIN_CLIENT_MAX_FAILURES"] = 6
    user = make.user("operator")
    sprayer = new_browser(app, ATTACKER_ADDRESS)
    # Password spraying: a few guesses at many e-mails, never enough to lock one of them.
    for n in range(3):
        assert hammer(sprayer, f"nobody{n}@city.test", 2) == [401, 401]

    response = sign_in(sprayer, user.email)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= app.config["LOGIN_CLIENT_WINDOW_SECONDS"]
    assert "Слишком много неудачных попыток входа с вашего адреса" in response.get_data(as_text=True)
    assert not signed_in(sprayer)

    # Another address is not affected, and neither is the owner's own browser.
    assert sign_in(new_browser(app, OWNER_ADDRESS), user.email).status_code == 302


def test_the_owner_behind_the_attackers_address_still_logs_in_with_the_device_cookie(app, make):
    """One public address for the whole city hall: the attacker inside it must not lock
    everyone out."""
    app.config["LOGIN_CLIENT_MAX_FAILURES"] = 3
    user = make.user("operator")
    owner = owners_browser(app, user, ATTACKER_ADDRESS)
    hammer(new_browser(app, ATTACKER_ADDRESS), "someone@city.test", 3)
    assert sign_in(new_browser(app, ATTACKER_ADDRESS), user.email).status_code == 429
    assert sign_in(owner, user.email).status_code == 302


def test_an_ipv6_client_is_throttled_per_64_network():
    from desk.auth.throttle import client_bucket

    assert client_bucket("2001:db8:1:2::1") == client_bucket("2001:db8:1:2:ffff::9")
    assert client_bucket("2001:db8:1:2::1") != client_bucket("2001:db8:1:3::1")
    assert client_bucket("::ffff:10.0.0.5") == "10.0.0.5"
    assert client_bucket("not an address") == "unknown"


def test_the_lock_is_bounded_and_attempts_during_it_do_not_extend_it(app, make):
    user = make.user("operator")
    attacker = new_browser(app, ATTACKER_ADDRESS)
    hammer(attacker, user.email, 5)
    db.session.expire_all()
    locked_until = db.session.get(User, user.id).locked_until
    lock_seconds = app.config["LOGIN_LOCK_SECONDS"]
    assert 0 < (locked_until - utcnow()).total_seconds() <= lock_seconds
    (lock_key,) = get_redis().keys("desk:login:lock:*")
    ttl_before = get_redis().ttl(lock_key)
    assert 0 < ttl_before <= lock_seconds

    hammer(attacker, user.email, 10)
    assert get_redis().ttl(lock_key) <= ttl_before, "guessing during the lock does not prolong it"
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until == locked_until

    get_redis().delete(lock_key)  # the lock time has passed
    assert sign_in(new_browser(app, OWNER_ADDRESS), user.email).status_code == 302


def test_an_administrators_new_password_lifts_the_lock(app, make):
    admin, user = make.user("admin"), make.user("operator")
    hammer(new_browser(app, ATTACKER_ADDRESS), user.email, 5)
    console = new_browser(app, OWNER_ADDRESS)
    sign_in(console, admin.email)
    url = f"/admin/users/{user.id}"
    assert "locked" in console.get("/admin/users").get_data(as_text=True)
    console.post(f"{url}/password", data={"password": "fresh-password-1", "csrf_token": page_token(console, url)})
    assert sign_in(new_browser(app, OWNER_ADDRESS), user.email, "fresh-password-1").status_code == 302


def _attempt_trace(app, monkeypatch, email: str) -> tuple[int, str, list[str], list[str]]:
    """One failed login: its status, page, SQL statements and the password hashes checked."""
    hashes: list[str] = []

    def spy(stored, password):
        hashes.append(stored.split("$")[0])
        return check_password_hash(stored, password)

    browser = new_browser(app, ATTACKER_ADDRESS)
    token = page_token(browser, "/login")
    statements: list[str] = []
    listener = lambda _conn, _cursor, sql, params, *_rest: statements.append(sql)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(login_module, "check_password_hash", spy)
            response = browser.post("/login", data={"email": email, "password": WRONG, "csrf_token": token})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    page = re.sub(r'(value|content)="[^"]+"', "", response.get_data(as_text=True)).replace(email, "<email>")
    return response.status_code, page, statements, hashes


@pytest.mark.parametrize("attempt", [1, 5])  # an ordinary failure, and the one that locks
def test_unknown_and_known_emails_take_the_same_path(app, make, monkeypatch, attempt):
    make.user("operator", email="known@city.test")
    traces = {}
    for email in ("known@city.test", "unknown@city.test"):
        hammer(new_browser(app, ATTACKER_ADDRESS), email, attempt - 1)
        traces[email] = _attempt_trace(app, monkeypatch, email)
    known, unknown = traces["known@city.test"], traces["unknown@city.test"]
    assert known[0] == unknown[0] == 401
    assert known[1] == unknown[1], "the same page"
    assert known[2] == unknown[2], "the same SQL statements (the lock's UPDATE matches no row if unknown)"
    method = app.config["PASSWORD_HASH_METHOD"]
    assert known[3] == unknown[3] == [method], "one hash with the configured method, even without a user"


def test_unknown_emails_are_locked_like_known_ones(app, make):
    make.user("operator", email="known@city.test")
    for email in ("known@city.test", "unknown@city.test"):
        hammer(new_browser(app, ATTACKER_ADDRESS), email, 5)
    assert len(get_redis().keys("desk:login:lock:*")) == 2
