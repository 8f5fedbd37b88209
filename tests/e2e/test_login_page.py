"""The login page in Chromium: an empty form says what is missing, and no page load asks
for a resource that is not there (the favicon used to be a 404 on every page)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_empty_login_says_what_is_missing_and_nothing_is_404(desk):
    missing: list[str] = []
    desk.page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    desk.goto("/login")
    with desk.page.expect_navigation():
        desk.page.click("form.form button[type=submit]")
    assert "Введите e-mail и пароль." in desk.page.locator(".flash").first.inner_text()
    desk.page.wait_for_load_state("load")
    assert missing == []
    assert desk.page_errors == []
