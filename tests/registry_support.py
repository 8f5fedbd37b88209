"""Shared set-up for the registry tests: accounts with snapshots relative to the city's today."""
from __future__ import annotations

from datetime import date, timedelta

from desk.extensions import db
from desk.i18n import city_today
from desk.models.registry import SubscriberSnapshot


def snap(account, counts: dict[int, int], today: date | None = None) -> None:
    """``counts``: days back from today (0 = today) -> subscriber count."""
    today = today or city_today()
    for back, count in counts.items():
        db.session.add(SubscriberSnapshot(account_id=account.id, day=today - timedelta(days=back), count=count))
    db.session.commit()


def plain(text: str) -> str:
    """Page text with the locale's digit-grouping spaces made ordinary."""
    return text.replace("\xa0", " ").replace("\u202f", " ")
