"""Admin pages of the SLA (calendar, hours, policies), the calendar import command,
the notification bell and the periodic scheduling of the escalation job."""
from __future__ import annotations

import json
from datetime import date

import pytest
from rq import Queue

from desk.extensions import db
from desk.models import Role
from desk.models.notifications import Notification
from desk.models.sla import CalendarDay, SlaPolicy
from desk.periodic import PERIODIC_JOBS, enqueue_due
from desk.queue import get_redis
from desk.sla.store import get_calendar

from .conftest import csrf_from
from .sla_helpers import local


@pytest.fixture
def admin(make, login_as):
    user = make.user(Role.ADMIN, email="root@city.test")
    login_as(user)
    return user


def post_form(client, url, data, page=None):
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_from(html)})


def test_only_admins_see_sla_pages(make, login_as, client):
    login_as(make.user(Role.OPERATOR))
    for url in ["/admin/sla/calendar/2025", "/admin/sla/hours", "/admin/sla/policies", "/admin/sla/policies/new"]:
        assert client.get(url).status_code == 403


def test_calendar_year_shows_the_decree_and_the_special_days(admin, client):
    html = client.get("/admin/sla/calendar/2025").get_data(as_text=True)
    assert "1335" in html
    assert 'data-day="2025-11-01" data-kind="short"' in html
    assert 'data-day="2025-05-02" data-kind="day_off"' in html
    assert 'data-day="2025-01-11" data-kind="weekend"' in html
    assert ">1972<" in html  # working hours of the year


def test_admin_edits_a_day_and_deadlines_follow(admin, client):
    response = post_form(client, "/admin/sla/calendar/2025",
                         {"day": "2025-03-10", "kind": "holiday", "note": "Городской праздник"})
    assert response.status_code == 302
    row = db.session.scalars(db.select(CalendarDay).where(CalendarDay.day == date(2025, 3, 10))).one()
    assert row.kind == "holiday" and "root@city.test" in row.source
    assert not get_calendar().is_working_day(date(2025, 3, 10))
    post_form(client, "/admin/sla/calendar/2025", {"day": "2025-03-10", "kind": "", "note": ""})
    assert get_calendar().is_working_day(date(2025, 3, 10))


def test_working_hours_form_changes_the_calendar(admin, client):
    days = {}
    for i in range(7):
        working = i < 6  # Saturday becomes a working day 10–14 without lunch
        days.update({f"days-{i}-is_working": "y"} if working else {})
        days[f"days-{i}-start_time"] = "10:00" if i == 5 else "09:00"
        days[f"days-{i}-end_time"] = "14:00" if i == 5 else "18:00"
        days[f"days-{i}-lunch_start"] = "" if i == 5 else "13:00"
        days[f"days-{i}-lunch_end"] = "" if i == 5 else "14:00"
    assert post_form(client, "/admin/sla/hours", days).status_code == 302
    assert get_calendar().working_length(date(2025, 3, 15)).total_seconds() == 4 * 3600
    bad = dict(days, **{"days-0-lunch_start": "19:00"})
    assert post_form(client, "/admin/sla/hours", bad).status_code == 200
    assert get_calendar().working_length(date(2025, 3, 17)).total_seconds() == 8 * 3600


def test_admin_creates_a_category_policy_and_open_tickets_are_recomputed(admin, client, make):
    cat = make.category()
    response = post_form(client, "/admin/sla/policies/new", {
        "name": "Аварии", "scope": "category", "category_id": cat.id, "department_id": 0,
        "reaction_hours": "2", "reaction_stops_at": "first_reply", "resolution_days": "1",
        "high_factor": "0.5", "urgent_factor": "0.25"})
    assert response.status_code == 302
    policy = db.session.scalars(db.select(SlaPolicy)).one()
    assert policy.category_id == cat.id and policy.reaction_minutes == 120
    assert "Аварии" in client.get("/admin/sla/policies").get_data(as_text=True)
    assert Queue("default", connection=get_redis()).count == 1  # the recompute job
    # A second policy for the same category is refused.
    again = post_form(client, "/admin/sla/policies/new", {
        "scope": "category", "category_id": cat.id, "department_id": 0, "reaction_hours": "3",
        "reaction_stops_at": "first_reply", "resolution_days": "2", "high_factor": "0.5", "urgent_factor": "0.25"})
    assert again.status_code == 200 and db.session.scalar(db.select(db.func.count(SlaPolicy.id))) == 1


def test_calendar_import_shows_differences_and_asks(app, tmp_path):
    data = {"years": [{"year": 2025, "source": "Постановление № 1 от 01.01.2025", "days": [
        {"date": "2025-01-01", "kind": "holiday", "note": "Новый год"},
        {"date": "2025-03-10", "kind": "day_off", "note": "Новый перенос"},
        {"date": "2025-11-01", "kind": "working", "note": "Рабочая суббота"},
    ]}]}
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["calendar", "import", str(path)], input="n\n")
    assert "+ 2025-03-10  day_off" in refused.output
    assert "~ 2025-11-01  short -> working" in refused.output
    assert "- 2025-05-02  day_off" in refused.output
    assert "Nothing changed." in refused.output
    assert db.session.scalars(db.select(CalendarDay).where(CalendarDay.day == date(2025, 3, 10))).first() is None
    applied = runner.invoke(args=["calendar", "import", str(path), "--yes"])
    assert "Applied." in applied.output, applied.output
    db.session.expire_all()
    days_2025 = db.session.scalars(db.select(CalendarDay).where(
        CalendarDay.day >= date(2025, 1, 1), CalendarDay.day <= date(2025, 12, 31))).all()
    assert {d.day.isoformat(): d.kind for d in days_2025} == {
        "2025-01-01": "holiday", "2025-03-10": "day_off", "2025-11-01": "working"}
    assert db.session.scalars(db.select(CalendarDay).where(CalendarDay.day == date(2026, 1, 9))).one()
    assert "No differences" in runner.invoke(args=["calendar", "import", str(path)]).output


def test_bell_counts_unread_and_the_page_marks_them_read(make, login_as, client):
    user = make.user(Role.DEPARTMENT_HEAD, department=make.department())
    ticket = make.ticket()
    ticket.department_id = user.department_id  # a head's notices are about the department's tickets
    db.session.add_all([Notification(user_id=user.id, ticket_id=ticket.id, kind="resolution_warning", level=1,
                                     text="Скоро срок"),
                        Notification(user_id=user.id, ticket_id=ticket.id, kind="resolution_breach", level=2,
                                     text="Срок нарушен <b>")])
    db.session.commit()
    login_as(user)
    page = client.get("/notifications/").get_data(as_text=True)
    assert 'data-test="unread">2<' in page
    assert "Срок нарушен &lt;b&gt;" in page
    post_form(client, "/notifications/read", {}, page="/notifications/")
    assert 'data-test="unread"' not in client.get("/notifications/").get_data(as_text=True)


def test_two_workers_enqueue_the_escalation_once_per_slot(app):
    conn = get_redis()
    queue = Queue("default", connection=conn)
    now = local(2025, 3, 10, 10).timestamp()
    assert ("workers.sla.escalate", 300) in PERIODIC_JOBS
    jobs = [("workers.sla.escalate", 300)]
    assert enqueue_due(conn, now=now, jobs=jobs) == ["workers.sla.escalate"]
    assert enqueue_due(conn, now=now + 30, jobs=jobs) == []  # the other worker, same five minutes
    assert queue.count == 1
    assert enqueue_due(conn, now=now + 300, jobs=jobs) == ["workers.sla.escalate"]
    assert queue.count == 2 and queue.jobs[0].func_name == "workers.sla.escalate"
