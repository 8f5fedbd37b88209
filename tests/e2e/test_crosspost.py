"""Crossposting in Chromium: the first click shows the text and which accounts cannot
publish (no token), and only "publish" sends it, leaving those out."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Role
from desk.models.announcements import Announcement
from tests import factories

pytestmark = pytest.mark.e2e


def test_preview_then_publish(app, desk):
    ready = factories.account("telegram", "housing", name="ЖКХ Telegram", settings={"channel_id": -100123},
                              credentials={"bot_token": "123456:" + "A" * 30})
    broken = factories.account("vk", "housing", name="ЖКХ ВКонтакте", settings={"group_id": 77})
    manager = factories.user(Role.MANAGER, email="manager@city.test")
    page = desk.login(manager.email)
    desk.goto("/registry/crosspost")
    page.fill("textarea[name=text]", "Плановое отключение воды 5 декабря с 9 до 17")
    page.select_option("select[name=direction]", value="housing")
    with page.expect_navigation():
        page.click("[data-test=preview-publish]")
    assert db.session.scalars(db.select(Announcement)).all() == []
    db.session.commit()
    assert page.locator(f"[data-account='{broken.id}']").get_attribute("data-ready") == "no"
    assert page.locator(f"[data-account='{ready.id}']").get_attribute("data-ready") == "yes"
    with page.expect_navigation():
        page.click("[data-test=confirm-publish]")
    announcement = db.session.scalars(db.select(Announcement)).one()
    assert [d.account_id for d in announcement.deliveries] == [ready.id]
    db.session.commit()
    assert desk.page_errors == []
