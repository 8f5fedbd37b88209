"""The approval flow in headless Chromium: a head picks a canned reply, sees the live
preview and the counter, sends it for approval; an operator edits and approves it; the
worker posts it to the fake VK under the resident's comment."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Role
from desk.models.replies import CannedReply
from tests.browser_support import watched_page

from .factories import PASSWORD
from .replies_support import drain, fast_replies, rows, vk, vk_account, vk_ticket  # noqa: F401

pytestmark = pytest.mark.e2e
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    with watched_page(browser, viewport={"width": 1200, "height": 900}) as page:
        yield page


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/lang/en")
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_head_writes_operator_approves_and_it_is_posted(live_server, page, make, vk):
    dept = make.department("Водоканал", answers_need_approval=True)
    account = vk_account(make)
    ticket = vk_ticket(make, account, vk, 12, "Нет воды на Ленина 5", 3001)
    ticket.department_id, ticket.status = dept.id, "in_progress"
    db.session.add(CannedReply(title="Принято", body="{name}, заявка #{ticket} принята.", department_id=dept.id))
    db.session.commit()
    head = make.user(Role.DEPARTMENT_HEAD, department=dept)
    operator = make.user(Role.OPERATOR)
    base = live_server.url

    log_in(page, base, head.email)
    page.goto(f"{base}/tickets/{ticket.id}")
    page.select_option("[data-test=canned]", label="Принято")
    expected = f"Иван Петров, заявка #{ticket.id} принята."
    assert page.text_content("[data-test=preview]") == expected
    assert page.text_content("[data-counter=vk] .count") == str(len(expected))
    page.click("[data-action=send-reply]")
    assert page.get_attribute("[data-test=reply]", "data-state") == "pending_approval"
    page.click("[data-test=logout]")

    log_in(page, base, operator.email)
    page.goto(f"{base}/replies/approvals")
    page.fill("[data-test=approve-text]", "{name}, воду дадут к 18:00.")
    page.click("[data-test=approval] [data-action=approve]")
    assert page.is_visible("[data-test=no-approvals]")
    db.session.rollback()
    drain()
    assert [r.state for r in rows()] == ["sent"]
    assert [c["message"] for c in vk.created_comments] == ["Иван Петров, воду дадут к 18:00."]
    page.goto(f"{base}/tickets/{ticket.id}")
    assert page.get_attribute("[data-test=delivery]", "data-state") == "sent"
    assert "воду дадут" in page.text_content("[data-test=thread]")  # the city's message on the ticket
