"""The city's open figures (/open): the same numbers as the managers' SLA report, the same
in JSON and CSV, no personal data, cached with a 304 on revalidation, in Russian and English."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from desk.extensions import db
from desk.models import Role, Ticket, utcnow
from desk.open_data.services import CACHE_KEY, default_period, month_period
from desk.queue import get_redis
from desk.reports.figures import backlog, build_report
from desk.reports.filters import ReportFilters, city_tz
from desk.reports.percentiles import durations
from desk.reports.periods import local_today
from tests.conftest import csrf_from

H = timedelta(hours=1)
D = timedelta(days=1)
PHONE = "+7 914 555-12-34"
AUTHOR = "Пётр Сидоров"


def add(created, *, department=None, category=None, direction="housing", status="in_progress",
        reply_after=None, resolve_after=None) -> Ticket:
    ticket = Ticket(created_at=created, department_id=department.id if department else None,
                    category_id=category.id if category else None, platform="vk", direction=direction,
                    status=status, subject=f"Яма во дворе, звоните {PHONE}", author_name=AUTHOR,
                    reaction_due_at=created + 24 * H, resolution_due_at=created + 7 * D,
                    first_reply_at=created + reply_after if reply_after is not None else None,
                    resolved_at=created + resolve_after if resolve_after is not None else None)
    db.session.add(ticket)
    return ticket


@pytest.fixture
def city(make):
    """Appeals over the last months: on time, late, unanswered, resolved, open; plus
    spam, not-an-appeal and merged tickets that never count."""
    roads, schools = make.department("Дороги"), make.department("Образование")
    pits, heat = make.category("Ямы на дорогах"), make.category("Отопление")
    now = utcnow()
    for n in range(6):
        created = now - (n * 17 + 2) * D - 3 * H
        add(created, department=roads, category=pits, reply_after=(2 + n) * H, resolve_after=(3 + n) * D,
            status="resolved")
        add(created - 5 * H, department=schools, category=heat, direction="education", reply_after=30 * H)
        add(created - 9 * H, department=roads if n % 2 else None, category=pits)
    add(now - 3 * H, department=schools, category=heat, direction="education")  # pending
    for status in ("spam", "not_appeal", "merged"):
        add(now - 4 * D, department=roads, category=pits, status=status, reply_after=H)
    db.session.commit()
    return {"roads": roads, "schools": schools}


def _report_for(period, **dims):
    now, tz = utcnow(), city_tz()
    filters = ReportFilters(period)
    for name, value in dims.items():
        filters = filters.with_dim(name, value)
    return build_report(filters, now, tz), filters


def test_open_figures_equal_the_sla_reports(client, city):
    data = client.get("/open/figures.json").get_json()
    with client.application.test_request_context():
        period = default_period(local_today(utcnow(), city_tz()))
        report, filters = _report_for(period)
    total = data["total"]
    assert (data["period"]["from"], data["period"]["to"]) == (period.start.isoformat(), period.last_day.isoformat())
    assert total["received"] == report.total.total == 19  # 6 × 3 + 1; spam, not-appeal and merged excluded
    assert total["answered_share_percent"] == report.total.reaction_share
    assert total["resolved_share_percent"] == report.total.resolution_share
    assert (total["answered_on_time"], total["answered_late"]) == (report.total.reaction_on_time,
                                                                   report.total.reaction_missed)
    assert total["median_first_answer_hours"] == round(report.durations.reaction_median / 3600, 2)
    assert total["open_now"] == sum(n for _k, n in report.backlog)
    assert [(b["age"], b["open"]) for b in data["backlog_by_age"]] == report.backlog

    # per month: each month equals the SLA report of that month
    assert [m["received"] for m in data["months"]] == [p.tally.total for p in report.months]
    assert len(data["months"]) == 12 and sum(m["received"] for m in data["months"]) == 19
    for month in data["months"]:
        if not month["received"]:
            continue
        with client.application.test_request_context():
            mreport, _f = _report_for(month_period(month["key"], local_today(utcnow(), city_tz())))
        assert month["received"] == mreport.total.total
        assert month["answered_share_percent"] == mreport.total.reaction_share
        assert month["resolved_share_percent"] == mreport.total.resolution_share
        expected = mreport.durations.reaction_median
        assert month["median_first_answer_hours"] == (None if expected is None else round(expected / 3600, 2))

    # per department and per direction, by name
    departments = {d["name"]: d for d in data["departments"]}
    assert set(departments) == {"Дороги", "Образование", "Ещё не распределены"}
    for name, dept in (("Дороги", city["roads"]), ("Образование", city["schools"])):
        with client.application.test_request_context():
            dreport, dfilters = _report_for(period, department=dept.id)
            times = durations(dfilters, city_tz())
            open_now = sum(n for _k, n in backlog(dfilters, utcnow()))
        row = departments[name]
        assert row["received"] == dreport.total.total
        assert row["answered_share_percent"] == dreport.total.reaction_share
        assert row["resolved_share_percent"] == dreport.total.resolution_share
        assert row["median_first_answer_hours"] == (None if times.reaction_median is None
                                                    else round(times.reaction_median / 3600, 2))
        assert row["open_now"] == open_now
    directions = {d["key"]: d for d in data["directions"]}
    assert directions["education"]["received"] == 7 and directions["housing"]["received"] == 12
    assert directions["housing"]["name"] and directions["housing"]["name"] != "housing"  # its Russian name
    assert [c["name"] for c in data["top_categories"]] == ["Ямы на дорогах", "Отопление"]
    assert [c["received"] for c in data["top_categories"]] == [12, 7]


def test_the_page_shows_the_same_figures_as_the_download(client, city):
    page = client.get("/open")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = client.get("/open/figures.json").get_json()
    assert 'data-figure="received"><div class="value">19<' in html
    assert f"{data['total']['answered_share_percent']}".replace(".", ",") in html
    assert "За последние" not in html and "город получил 19 обращений" in html
    assert html.count('data-test="hbar"') >= 4 and 'data-test="chart-months"' in html
    assert "<script" not in html and "style=" not in html
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]


def test_json_and_csv_carry_the_same_numbers(client, city):
    data = client.get("/open/figures.json").get_json()
    response = client.get("/open/figures.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))

    def number(text):
        return None if text == "" else float(text)

    records = [data["total"], *data["months"], *data["departments"], *data["directions"]]
    assert len(rows) == len(records) + len(data["backlog_by_age"]) + len(data["top_categories"])
    for record, row in zip(records, rows, strict=False):
        assert (row["section"], row["key"], row["name"]) == (record["section"], record["key"], record["name"])
        for column in ("received", "answered_on_time", "answered_late", "answered_share_percent",
                       "median_first_answer_hours", "resolved_on_time", "resolved_late",
                       "resolved_share_percent", "open_now"):
            assert number(row[column]) == record[column], (record["key"], column)
    backlog_rows = [r for r in rows if r["section"] == "backlog"]
    assert [(r["key"], int(r["open_now"])) for r in backlog_rows] == \
        [(b["age"], b["open"]) for b in data["backlog_by_age"]]
    categories = [(r["name"], int(r["received"])) for r in rows if r["section"] == "category"]
    assert categories == [(c["name"], c["received"]) for c in data["top_categories"]]


def test_no_personal_data_anywhere(client, city, make):
    make.user(Role.OPERATOR, email="operator.ivanova@city.test")
    db.session.commit()
    for path in ("/open", "/open/widget", "/open/figures.json", "/open/figures.csv",
                 f"/open?month={local_today(utcnow(), city_tz()).strftime('%Y-%m')}"):
        body = client.get(path).get_data(as_text=True)
        for secret in (PHONE, AUTHOR, "Яма во дворе", "operator.ivanova", "@"):
            assert secret not in body, (path, secret)


def test_cached_in_redis_and_revalidated_with_304(client, city):
    first = client.get("/open")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "public" in first.headers["Cache-Control"] and "max-age=300" in first.headers["Cache-Control"]
    assert "Cookie" in first.headers.get("Vary", "")
    assert client.get("/open", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/open", headers={"If-Modified-Since": modified}).status_code == 304
    keys = get_redis().keys(CACHE_KEY.format(start="*", end="*"))
    assert len(keys) == 1

    # Within the cache's lifetime a new appeal does not change the figures...
    add(utcnow() - H, department=city["roads"])
    db.session.commit()
    assert client.get("/open/figures.json").get_json()["total"]["received"] == 19
    assert client.get("/open", headers={"If-None-Match": etag}).status_code == 304
    # ...and once the cache is gone it does, with a new ETag.
    get_redis().delete(*keys)
    again = client.get("/open", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
    assert client.get("/open/figures.json").get_json()["total"]["received"] == 20
    json_etag = client.get("/open/figures.json").headers["ETag"]
    assert client.get("/open/figures.json", headers={"If-None-Match": json_etag}).status_code == 304


def test_english_switch(client, city):
    assert "Как город отвечает жителям" in client.get("/open").get_data(as_text=True)
    russian_etag = client.get("/open").headers["ETag"]
    client.get("/lang/en", headers={"Referer": "http://localhost/open"})
    page = client.get("/open")
    html = page.get_data(as_text=True)
    assert "How the city answers its residents" in html and "the city received 19 appeals" in html
    assert page.headers["ETag"] != russian_etag  # a cache never serves one language for the other
    # the downloads stay in the city's language, whoever asks
    assert client.get("/open/figures.json").get_json()["departments"][-1]["name"] in (
        "Дороги", "Образование", "Ещё не распределены")


def test_month_selector_and_bad_months(client, city):
    today = local_today(utcnow(), city_tz())
    month = today.strftime("%Y-%m")
    data = client.get(f"/open/figures.json?month={month}").get_json()
    assert data["period"]["from"] == today.replace(day=1).isoformat()
    assert data["period"]["to"] == today.isoformat()
    assert [m["key"] for m in data["months"]] == [month]
    html = client.get(f"/open?month={month}").get_data(as_text=True)
    assert f'<option value="{month}" selected' in html
    for bad in ("2099-01", "1999-12", "2025-13", "2025-1", "x", "2025-01-01"):
        assert client.get(f"/open?month={bad}").status_code == 400, bad
    assert client.get("/open/figures.xml").status_code == 404


def test_russian_plurals_in_the_summary(client, make):
    roads = make.department("Дороги")
    now = utcnow()
    for _n in range(2):
        add(now - 2 * H, department=roads, reply_after=H)
    db.session.commit()
    text = client.get("/open").get_data(as_text=True)
    assert "город получил 2 обращения" in text and "Сейчас в работе 2 обращения" in text


def test_widget_is_frameable_and_the_admin_sees_its_snippet(client, city, make):
    widget = client.get("/open/widget")
    assert widget.status_code == 200
    assert "frame-ancestors *" in widget.headers["Content-Security-Policy"]
    assert 'data-test="headline"' in widget.get_data(as_text=True)
    assert "frame-ancestors 'self'" in client.get("/open").headers["Content-Security-Policy"]

    make.user(Role.ADMIN, email="admin@city.test")
    db.session.commit()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "admin@city.test", "password": make.PASSWORD, "csrf_token": token})
    html = client.get("/admin/").get_data(as_text=True)
    assert "/open/widget" in html and "/accounts/widget" in html and "&lt;iframe" in html
