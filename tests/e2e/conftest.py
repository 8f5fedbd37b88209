"""Headless Chromium for the end-to-end tests: one browser per module, a fresh
context (cookies, storage) per test, and a ``desk`` helper that drives the live server."""
from __future__ import annotations

import os
import shutil

import pytest

from tests import factories

CHROMIUM = os.environ.get("DESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Desk:
    """A browser tab on the live desk, with the steps every scenario repeats."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.dialogs: list[str] = []
        self.page_errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def login(self, email: str, password: str = factories.PASSWORD):
        self.goto("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.click("form.form button[type=submit]")
        return self.page

    def flash(self) -> str:
        return " ".join(self.page.locator(".flash").all_inner_texts())


@pytest.fixture
def desk(browser, live_server):
    """A fresh browser context (no cookies) on the live server; Russian like a city PC."""
    context = browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)  # a loaded CI machine is slow, not broken
    yield Desk(page, live_server.url)
    context.close()


@pytest.fixture
def new_desk(browser, live_server):
    """More independent tabs (other people) in the same test."""
    contexts = []

    def _open() -> Desk:
        context = browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)  # a loaded CI machine is slow, not broken
        return Desk(page, live_server.url)

    yield _open
    for context in contexts:
        context.close()
