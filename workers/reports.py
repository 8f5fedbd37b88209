"""Report jobs: the weekly SLA digest e-mailed to managers (run inside the app context)."""
from __future__ import annotations

from datetime import datetime
from itertools import groupby

from flask import current_app
from flask_babel import force_locale
from redis.exceptions import RedisError

from desk.models import utcnow
from desk.notify.mail import send_mail
from desk.queue import get_redis
from desk.reports.digest import compose, gather, managers
from desk.reports.filters import city_tz

DIGEST_WEEKDAY, DIGEST_HOUR = 0, 8  # Monday, 08:00 city time


def send_weekly_digest(now_iso: str | None = None) -> dict[str, int]:
    """E-mail last week's SLA digest to every active manager, one message per language."""
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    people = managers()
    if not people:
        return {"messages": 0, "recipients": 0}
    data = gather(now, city_tz())
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    sent = recipients = 0

    def locale_of(user) -> str:
        return user.locale or default

    for locale, group in groupby(sorted(people, key=locale_of), key=locale_of):
        emails = [u.email for u in group]
        with force_locale(locale):
            subject, text = compose(data, now)
        if send_mail(emails, subject, text):
            sent += 1
            recipients += len(emails)
    return {"messages": sent, "recipients": recipients}


def send_weekly_digest_when_due(now_iso: str | None = None) -> dict[str, int] | None:
    """Periodic entry point: sends once per week, on Monday morning in the city."""
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    local = now.astimezone(city_tz())
    if local.weekday() != DIGEST_WEEKDAY or local.hour < DIGEST_HOUR:
        return None
    year, week, _day = local.isocalendar()
    try:
        claimed = get_redis().set(f"desk:reports:digest:{year}-{week}", "1", nx=True, ex=8 * 86400)
    except RedisError:
        claimed = True  # better a rare duplicate than a lost digest
    return send_weekly_digest(now.isoformat()) if claimed else None
