"""Numbers and dates as a Russian reader writes them (English in the English interface):
thin-space thousands, the decimal comma, "5,7 %", dates as 03.11.2026."""
from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from desk.templating import day, share, thousands


def test_numbers_follow_the_locale(app):
    with app.test_request_context("/"):
        with force_locale("ru"):
            assert thousands(336500) == "336\u00a0500"
            assert share(5.7) == "5,7\u00a0%" and share(50.0) == "50\u00a0%" and share(None) == "—"
        with force_locale("en"):
            assert thousands(336500) == "336,500" and share(5.7) == "5.7\u00a0%"
        assert thousands("2 ч 5 мин") == "2 ч 5 мин"  # already written out: as it is
        assert day(date(2026, 11, 3)) == "03.11.2026"


def test_the_report_period_is_written_as_dates(make, login_as):
    client = login_as(make.user("manager"))
    html = client.get("/reports/?from=2026-11-03&to=2026-11-30").get_data(as_text=True)
    assert "03.11.2026" in html and "30.11.2026" in html
    assert "2026-11-03 " not in html
