"""A hostile comment is shown as text and runs nothing; screenshots of the demo desk.

The XSS check runs in a browser context that ignores the Content-Security-Policy, so
it proves the escaping itself (the CSP is a second wall, checked separately).

Screenshots go to a temporary directory; ``DESK_SCREENSHOTS=docs/screenshots`` writes
the README's images instead.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from desk.models import Role
from tests import factories

pytestmark = pytest.mark.e2e

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
HOSTILE = f"Починить фонарь {SCRIPT} во дворе {IMG} срочно"
AUTHOR = '<b onmouseover="window.__xss=3">Злоумышленник</b>'


def assert_nothing_ran(desk) -> None:
    page = desk.page
    page.wait_for_load_state("networkidle")  # a broken <img> would have fired onerror by now
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert desk.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("b[onmouseover]").count() == 0
    inline = page.evaluate("Array.from(document.scripts).filter(s => s.textContent.includes('__xss')).length")
    assert inline == 0


def test_hostile_comment_is_text_on_queue_and_card(app, browser, live_server):
    operator = factories.user(Role.OPERATOR)
    acc = factories.account("telegram", "housing")
    ticket = factories.ticket(acc, HOSTILE, author_name=AUTHOR)

    from tests.e2e.conftest import Desk

    context = browser.new_context(bypass_csp=True, locale="ru-RU")
    try:
        desk = Desk(context.new_page(), live_server.url)
        desk.login(operator.email)
        page = desk.page
        row = page.locator(f"tr[data-ticket-id='{ticket.id}']")
        text = row.inner_text()
        assert SCRIPT in text and IMG in text, text
        assert AUTHOR in text
        row.hover()
        assert_nothing_ran(desk)

        with page.expect_navigation():
            row.locator("td.num a").click()
        message = page.locator("[data-test=message] .text").first.inner_text()
        assert message == HOSTILE
        assert AUTHOR in page.locator("[data-test=thread]").inner_text()
        assert SCRIPT in page.locator("h1").inner_text()
        page.locator("[data-test=thread]").hover()
        assert_nothing_ran(desk)
        assert desk.page_errors == []
    finally:
        context.close()


def test_pages_carry_a_csp_without_inline_scripts(app, desk):
    response = desk.goto("/login")
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_screenshots_of_the_demo_queue_and_card(app, desk):
    result = app.test_cli_runner().invoke(args=["demo", "--tickets", "300", "--quiet"])
    assert result.exit_code == 0, result.output
    target = Path(os.environ.get("DESK_SCREENSHOTS") or app.instance_path) / ""
    target.mkdir(parents=True, exist_ok=True)

    desk.page.set_viewport_size({"width": 1680, "height": 1000})  # the whole queue row fits
    page = desk.login("operator@belogorsk.demo", "demo12345")
    assert page.url.endswith("/queue")
    rows = page.locator("table[data-test=tickets] tbody tr[data-ticket-id]")
    assert rows.count() >= 10
    page.screenshot(path=str(target / "queue.png"), full_page=False)

    # A ticket with a thread and history: the first routed one of the demo.
    desk.goto("/queue?status=in_progress")
    with page.expect_navigation():
        page.locator("table[data-test=tickets] tbody tr[data-ticket-id] td.num a").first.click()
    assert page.locator("[data-test=message]").count() >= 1
    page.screenshot(path=str(target / "card.png"), full_page=False)
    for name in ("queue.png", "card.png"):
        assert (target / name).stat().st_size > 10_000
