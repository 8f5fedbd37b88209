"""The SLA report's charts in Chromium: each bar is as tall as its value (a page-wide CSS
rule once gave every SVG bar a 10 px height: squares, and empty weeks drawn below the axis),
and the default period is the last 30 days."""
from __future__ import annotations

from datetime import timedelta

import pytest

from desk.extensions import db
from desk.models import Role, utcnow
from tests import factories

pytestmark = pytest.mark.e2e


def test_bars_are_as_tall_as_their_values(app, desk):
    account = factories.account()
    now = utcnow()
    for days_ago, n in ((1, 6), (2, 1), (40, 3)):  # busy and empty weeks in the quarter
        for _ in range(n):
            ticket = factories.ticket(account, "Нет горячей воды")
            ticket.created_at = now - timedelta(days=days_ago)
    db.session.commit()
    manager = factories.user(Role.MANAGER, email="manager@city.test")
    page = desk.login(manager.email)
    desk.goto("/reports/")
    assert page.locator("nav.presets a.active").get_attribute("data-preset") == "30d"
    desk.goto("/reports/?period=quarter")
    bars = page.eval_on_selector_all(
        "[data-test=chart-week] rect.bar",
        "els => els.map(e => [e.getBBox().height, parseFloat(e.getAttribute('height'))])")
    assert len(bars) >= 4
    assert all(abs(drawn - declared) < 0.5 for drawn, declared in bars), bars
    assert any(declared == 0 for _, declared in bars)  # an empty week draws nothing
    assert desk.page_errors == []
