"""Merging in Chromium: the operator confirms (a dismissed dialog merges nothing), the
incident's card shows the merged resident's messages, and "Undo" separates them again."""
from __future__ import annotations

import pytest

from desk.models import Role
from tests import factories

from .test_ticket_flow import fresh

pytestmark = pytest.mark.e2e


def test_merge_is_confirmed_shown_and_undone(app, desk):
    account = factories.account("vk", "housing")
    incident = factories.ticket(account, "Нет горячей воды на Садовой, 12", author_name="Анна")
    other = factories.ticket(account, "Садовая 12: горячей воды нет второй день", author_id="2002",
                             author_name="Борис")
    operator = factories.user(Role.OPERATOR, email="operator@city.test")
    page = desk.login(operator.email)

    desk.goto(f"/tickets/{other.id}")
    page.fill("#merge-target_id", str(incident.id))
    page.click("button[data-action=merge]")  # the dialog is dismissed: nothing happens
    assert desk.dialogs and "Объединить" in desk.dialogs[-1]
    assert fresh(other.id).merged_into_id is None

    page.remove_listener("dialog", desk._on_dialog)  # this time the operator says yes
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button[data-action=merge]")
    assert fresh(other.id).merged_into_id == incident.id

    desk.goto(f"/tickets/{incident.id}")
    assert "второй день" in page.locator("[data-test=merged-thread]").inner_text()

    desk.goto(f"/tickets/{other.id}")
    with page.expect_navigation():
        page.click("button[data-action=undo]")
    assert fresh(other.id).merged_into_id is None and fresh(other.id).status == "new"
    assert desk.page_errors == []


def test_spam_by_mistake_is_undone_from_the_toast(app, desk):
    account = factories.account("vk", "housing")
    ticket = factories.ticket(account, "Когда откроют каток в парке?")
    operator = factories.user(Role.OPERATOR, email="operator@city.test")
    page = desk.login(operator.email)
    desk.goto(f"/tickets/{ticket.id}")
    with page.expect_navigation():
        page.click("button[data-action=spam]")
    assert fresh(ticket.id).status == "spam"
    with page.expect_navigation():
        page.click("[data-test=undo] button[data-action=undo-last]")
    assert fresh(ticket.id).status == "new"
    assert page.locator("[data-test=undo]").count() == 0
    assert desk.page_errors == []
