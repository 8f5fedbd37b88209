"""Browsers for the session and login tests: each test client is one browser with its own
cookie jar; cookies can be copied from one to another, as a thief would."""
from __future__ import annotations

from tests import factories
from tests.conftest import FreshRequestClient, csrf_from

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"
DEVICE_COOKIE = "desk_device"


def new_browser(app, address: str = "127.0.0.1"):
    app.test_client_class = FreshRequestClient
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def sign_in(browser, email: str, password: str = factories.PASSWORD, *, remember: bool = False):
    """Post the real login form (CSRF token included); returns the response."""
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    data = {"email": email, "password": password, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    return browser.post("/login", data=data)


def signed_in(browser) -> bool:
    """Whether the browser's cookies still open a page that needs a login (any role)."""
    response = browser.get("/notifications/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
    return False


def cookie(browser, name: str, path: str = "/") -> str | None:
    found = browser.get_cookie(name, path=path)
    return found.value if found is not None else None


def copy_cookie(source, target, name: str) -> None:
    value = cookie(source, name)
    assert value, f"{name} is not set"
    target.set_cookie(name, value)


def page_token(browser, url: str) -> str:
    return csrf_from(browser.get(url).get_data(as_text=True))
