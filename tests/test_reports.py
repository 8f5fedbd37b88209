"""SLA reports: figures against hand-computed fixtures, drill-down, exports, access, digest."""
from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from desk.extensions import db
from desk.models import Role, Ticket, utcnow
from desk.reports.figures import compliance
from desk.reports.filters import ReportFilters
from desk.reports.percentiles import interpolate
from desk.reports.periods import Period
from tests.test_sla_escalation import smtp_server  # noqa: F401  (a real local SMTP server)
from workers.reports import send_weekly_digest, send_weekly_digest_when_due

CITY = ZoneInfo("Asia/Yakutsk")
H = timedelta(hours=1)
D = timedelta(days=1)
WEEK = "from=2025-03-03&to=2025-03-09"  # Monday to Sunday, city time


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CITY).astimezone(UTC)


def add(created: datetime, *, department=None, platform: str = "vk", direction: str = "housing",
        status: str = "in_progress", reply_after=None, resolve_after=None, subject: str = "Яма во дворе",
        reaction=24 * H, resolution=7 * D, **cols) -> Ticket:
    """A ticket with deadlines ``reaction``/``resolution`` after creation (None: no deadline)."""
    ticket = Ticket(
        created_at=created, department_id=department.id if department else None, platform=platform,
        direction=direction, status=status, subject=subject,
        reaction_due_at=created + reaction if reaction is not None else None,
        resolution_due_at=created + resolution if resolution is not None else None,
        first_reply_at=created + reply_after if reply_after is not None else None,
        resolved_at=created + resolve_after if resolve_after is not None else None, **cols)
    db.session.add(ticket)
    db.session.commit()
    return ticket


@pytest.fixture
def week(make):
    """The hand-computed week of 3–9 March 2025 (city time).

    In the week: #1 reply 2 h, resolved 3 d (both on time); #2 reply 30 h, resolved 10 d
    (both late); #3 no reply, still open (both missed); #4 created Monday 00:10 city
    time (Sunday in UTC), reply 10 h, still open past its resolution deadline.
    Not counted: spam, merged, and two tickets of the week before (Sunday 23:50 city
    time, which is Sunday in UTC too, and Saturday 1 March 00:30, which is February in UTC).
    """
    roads, schools = make.department("Roads"), make.department("Schools")
    t = {
        1: add(local(2025, 3, 4, 10), department=roads, status="closed", reply_after=2 * H,
               resolve_after=3 * D, closed_at=local(2025, 3, 8, 10)),
        2: add(local(2025, 3, 5, 12), department=roads, platform="telegram", status="resolved",
               reply_after=30 * H, resolve_after=10 * D),
        3: add(local(2025, 3, 3, 9), department=roads, platform="telegram"),
        4: add(local(2025, 3, 3, 0, 10), department=schools, direction="education", reply_after=10 * H),
        "spam": add(local(2025, 3, 6, 9), department=schools, status="spam"),
        "merged": add(local(2025, 3, 6, 9), department=schools, status="merged"),
        "sunday": add(local(2025, 3, 2, 23, 50), department=roads, status="closed", reply_after=H,
                      resolve_after=D, closed_at=local(2025, 3, 4)),
        "saturday": add(local(2025, 3, 1, 0, 30), department=roads, status="closed", reply_after=H,
                        resolve_after=D, closed_at=local(2025, 3, 4)),
    }
    return {"tickets": t, "roads": roads, "schools": schools}


@pytest.fixture
def manager(make):
    return make.user(Role.MANAGER, email="manager@city.test")


def html_of(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def figure(html: str, section: str, metric: str) -> int:
    """The number shown for ``metric`` within the element marked ``section``."""
    start = html.index(section)
    match = re.search(rf'data-metric="{metric}">(\d+)</a>', html[start:])
    return int(match.group(1))


def drill_ids(client, url: str) -> set[int]:
    ids: set[int] = set()
    while url:
        html = html_of(client, url)
        ids |= {int(i) for i in re.findall(r'data-ticket="(\d+)"', html)}
        nxt = re.search(r'href="([^"]+)" data-test="next-page"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
    return ids


# --- figures -----------------------------------------------------------------------------

def test_compliance_shares_and_groups_match_the_hand_count(client, login_as, week, manager):
    login_as(manager)
    html = html_of(client, f"/reports/?{WEEK}")
    headline = html[html.index('data-test="headline"'):html.index("definitions")]
    assert figure(headline, "", "total") == 4
    assert figure(headline, "", "reaction_on_time") == 2 and figure(headline, "", "reaction_missed") == 2
    assert figure(headline, "", "resolution_on_time") == 1 and figure(headline, "", "resolution_missed") == 3
    assert "50\xa0%" in headline and "25\xa0%" in headline  # Russian: no trailing ",0"

    roads_row = html[html.index(f'data-key="{week["roads"].id}"'):]
    roads_row = roads_row[:roads_row.index("</tr>")]
    assert [int(n) for n in re.findall(r'data-metric="\w+">(\d+)<', roads_row)] == [3, 1, 1, 2, 1, 2]
    assert "33,3\xa0%" in roads_row  # the Russian decimal comma
    telegram = html[html.index('data-test="by-platform"'):]
    telegram = telegram[telegram.index('data-key="telegram"'):]
    assert re.search(r'data-metric="total">(\d+)<', telegram).group(1) == "2"


def test_definitions_are_written_on_the_page(client, login_as, week, manager):
    login_as(manager)
    html = html_of(client, f"/reports/?{WEEK}")
    assert "Реакция в срок: первый публичный ответ дан не позже срока реакции" in html


def test_pending_deadlines_count_neither_way(app, make):
    now = local(2025, 3, 5, 12)
    add(local(2025, 3, 5, 9))  # reaction due tomorrow, no reply yet: pending
    add(local(2025, 3, 3, 9), reply_after=H, reaction=None, resolution=None)  # no deadlines: not measured
    add(local(2025, 3, 3, 9), reply_after=H, resolution=D)  # open, resolution due passed: missed
    filters = ReportFilters(Period(datetime(2025, 3, 3).date(), datetime(2025, 3, 10).date()))
    total, _groups = compliance(filters, now, CITY)
    assert (total.total, total.reaction_on_time, total.reaction_missed, total.reaction_pending) == (3, 1, 0, 1)
    assert (total.resolution_on_time, total.resolution_missed, total.resolution_pending) == (0, 1, 1)
    assert total.reaction_share == 100.0 and total.resolution_share == 0.0


def test_a_reply_at_the_deadline_is_on_time_and_a_close_counts_as_the_finish(app, make):
    now = local(2025, 3, 20, 12)
    add(local(2025, 3, 4, 9), reply_after=24 * H, status="closed", closed_at=local(2025, 3, 5, 9))
    add(local(2025, 3, 4, 9), reply_after=24 * H + timedelta(seconds=1), status="closed",
        closed_at=local(2025, 3, 12, 9))
    filters = ReportFilters(Period(datetime(2025, 3, 3).date(), datetime(2025, 3, 10).date()))
    total, _groups = compliance(filters, now, CITY)
    assert (total.reaction_on_time, total.reaction_missed) == (1, 1)
    assert (total.resolution_on_time, total.resolution_missed) == (1, 1)


def test_median_and_p90_of_reaction_and_resolution_times(client, login_as, week, manager):
    login_as(manager)
    html = html_of(client, f"/reports/?{WEEK}")
    # Reactions 2 h, 10 h, 30 h: median 10 h, p90 10 + 0.8 * 20 = 26 h.
    reaction = html[html.index('data-figure="reaction_median"'):html.index('data-figure="resolution_median"')]
    assert re.findall(r'data-metric="reacted">([^<]+)<', reaction) == ["10ч 00мин", "1д 2ч"]
    # Resolutions 72 h and 240 h: median 156 h (6 d 12 h), p90 72 + 0.9 * 168 = 223.2 h (9 d 7 h).
    resolution = html[html.index('data-figure="resolution_median"'):]
    assert re.findall(r'data-metric="resolved">([^<]+)<', resolution)[:2] == ["6д 12ч", "9д 7ч"]


@pytest.mark.parametrize("values, expected", [
    ([5.0], [5.0, 5.0]),
    ([1.0, 2.0], [1.5, 1.9]),
    ([10.0, 20.0, 30.0, 40.0, 1000.0], [30.0, 616.0]),
])
def test_percentiles_interpolate_like_percentile_cont(values, expected):
    assert interpolate(dict(enumerate(values)), len(values), (0.5, 0.9)) == pytest.approx(expected)


def test_backlog_by_age_counts_open_tickets_today(client, login_as, make, manager):
    now = utcnow()
    ids = {}
    for key, age in [("lt1", 2 * H), ("1to3", 2 * D), ("3to7", 5 * D), ("7to30", 10 * D), ("gt30", 40 * D),
                     ("gt30b", 45 * D)]:
        ids[key] = add(now - age, status="new").id
    add(now - 2 * D, status="resolved", resolve_after=H)  # not open
    add(now - 2 * D, status="not_appeal")  # not an appeal
    login_as(manager)
    html = html_of(client, "/reports/?period=week")
    backlog = html[html.index('data-test="backlog"'):]
    backlog = backlog[:backlog.index("</table>")]
    assert [int(n) for n in re.findall(r'data-metric="backlog">(\d+)<', backlog)] == [1, 1, 1, 1, 2]
    assert drill_ids(client, "/reports/tickets?metric=backlog&age=gt30") == {ids["gt30"], ids["gt30b"]}
    assert drill_ids(client, "/reports/tickets?metric=backlog&age=1to3") == {ids["1to3"]}


def test_weeks_and_months_are_bucketed_in_city_time(client, login_as, week, manager):
    login_as(manager)
    html = html_of(client, "/reports/?from=2025-02-24&to=2025-03-09")
    weekly = html[html.index('data-test="chart-week"'):html.index('data-test="chart-month"')]
    assert re.findall(r"<title>[^<]*: (\d+)</title>", weekly) == ["2", "4"]
    monthly = html[html.index('data-test="chart-month"'):]
    assert re.findall(r"<title>[^<]*: (\d+)</title>", monthly) == ["0", "6"]
    first_bar = re.search(r'<a href="([^"]+)" class="bar-link"', weekly).group(1).replace("&amp;", "&")
    tickets = week["tickets"]
    assert drill_ids(client, first_bar) == {tickets["sunday"].id, tickets["saturday"].id}


# --- drill-down --------------------------------------------------------------------------

@pytest.mark.parametrize("metric, dept, expected", [
    ("total", None, {1, 2, 3, 4}),
    ("reaction_on_time", None, {1, 4}),
    ("reaction_missed", None, {2, 3}),
    ("resolution_missed", None, {2, 3, 4}),
    ("resolution_missed", "roads", {2, 3}),
    ("open", "schools", {4}),
])
def test_drill_down_lists_exactly_the_counted_tickets(client, login_as, week, manager, metric, dept, expected):
    login_as(manager)
    url = f"/reports/tickets?{WEEK}&metric={metric}"
    if dept:
        url += f"&department={week[dept].id}"
    ids = drill_ids(client, url)
    assert ids == {week["tickets"][k].id for k in expected}
    html = html_of(client, url)
    assert f'data-test="drill-total">({len(expected)})' in html
    some = min(ids)
    assert f'href="/tickets/{some}"' in html


def test_every_link_of_the_report_leads_to_a_list_of_that_size(client, login_as, week, manager):
    login_as(manager)
    html = html_of(client, f"/reports/?{WEEK}")
    links = re.findall(r'<a href="(/reports/tickets\?[^"]+)" data-metric="\w+">(\d+)</a>', html)
    assert len(links) > 40
    for href, shown in links[:60]:
        drill = html_of(client, href.replace("&amp;", "&"))
        assert f'data-test="drill-total">({shown})' in drill, href


def test_drill_down_pages_by_keyset_without_gaps(client, login_as, manager):
    created = [add(local(2025, 3, 4, 10) + i * timedelta(minutes=1)).id for i in range(120)]
    login_as(manager)
    assert drill_ids(client, f"/reports/tickets?{WEEK}&metric=total") == set(created)


def test_invalid_arguments_are_reported(client, login_as, manager):
    login_as(manager)
    assert "metric" in html_of(client, "/reports/tickets?metric=nonsense", 400)
    assert "platform" in html_of(client, "/reports/?platform=fax", 400)
    assert client.get("/reports/tickets.csv?from=2025-13-01").status_code == 400


def test_invalid_arguments_are_explained_in_the_readers_language(client, login_as, manager):
    login_as(manager)  # the interface is Russian by default
    page = html_of(client, "/reports/?from=2025-03-10&to=2025-03-01&department=abc", 400)
    assert "<strong>До</strong> (не раньше начала периода)" in page
    assert "<strong>Отдел</strong> (целое положительное число или none)" in page
    assert "must not be before" not in page
    client.get("/lang/en")
    page = html_of(client, "/reports/tickets?metric=nonsense", 400)
    assert "<strong>Figure</strong> (unknown figure)" in page


# --- exports -----------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_drill_down_csv_has_the_rows_and_neutralises_formulas(client, login_as, week, manager):
    evil_id = add(local(2025, 3, 6, 9), subject="=HYPERLINK(\"http://evil\",\"x\")", author_name="@boss").id
    login_as(manager)
    response = client.get(f"/reports/tickets.csv?{WEEK}&metric=reaction_missed")
    assert "attachment" in response.headers["Content-Disposition"] and response.is_streamed
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header[0] == "№" and len(body) == 3
    t = week["tickets"]
    assert {int(r[0]) for r in body} == {t[2].id, t[3].id, evil_id}
    evil = next(r for r in body if int(r[0]) == evil_id)
    assert evil[8].startswith("'=") and evil[9] == "'@boss"
    assert evil[-1].endswith(f"/tickets/{evil[0]}")


def test_drill_down_xlsx_reads_back(client, login_as, week, manager):
    add(local(2025, 3, 6, 9), subject="+7 900 000-00-00 -1")
    login_as(manager)
    response = client.get(f"/reports/tickets.xlsx?{WEEK}&metric=total")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 1 + 5
    ids = {r[0] for r in rows[1:]}
    assert {week["tickets"][k].id for k in (1, 2, 3, 4)} < ids
    phone = next(r for r in rows[1:] if "900" in r[8])
    assert phone[8] == "'+7 900 000-00-00 -1"
    first = next(r for r in rows[1:] if r[0] == week["tickets"][4].id)
    assert first[1] == datetime(2025, 3, 3, 0, 10)  # city time, not UTC
    assert {r[15] for r in rows[1:]} <= {"Да", "Нет"}  # "deadline missed" in words


def test_xlsx_has_a_frozen_filtered_header_fitting_columns_and_links(client, login_as, week, manager):
    login_as(manager)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/tickets.xlsx?{WEEK}&metric=total").get_data()))
    sheet = book.active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:Q")
    assert sheet["A1"].font.b
    assert 10 <= sheet.column_dimensions["I"].width <= 62  # the subject: as wide as it needs, within reason
    link = sheet.cell(row=2, column=17)
    assert link.hyperlink is not None and link.hyperlink.target == link.value


def test_csv_for_russian_excel_uses_semicolons(client, login_as, week, manager):
    login_as(manager)
    response = client.get(f"/reports/export.excel.csv?{WEEK}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.startswith("\ufeff")
    assert "Возраст;Открытых обращений" in text
    assert 'data-test="export-csv-excel"' in client.get(f"/reports/?{WEEK}").get_data(as_text=True)


def test_report_exports_carry_the_same_figures(client, login_as, week, manager):
    login_as(manager)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/export.xlsx?{WEEK}").get_data()))
    assert book.sheetnames[:3] == ["Итоги", "Отдел", "Направление"]
    rows = list(book["Итоги"].iter_rows(values_only=True))
    summary = {r[0]: r[1] for r in rows}
    assert rows[2][1] == 4 and summary["Доля реакций в срок"] == 50.0
    assert summary["Медиана времени реакции, ч"] == 10.0
    by_dept = {r[0]: r[1:] for r in book["Отдел"].iter_rows(min_row=2, values_only=True)}
    assert by_dept["Roads"][:2] == (3, 1) and by_dept["Schools"][0] == 1
    rows = read_csv(client.get(f"/reports/export.csv?{WEEK}"))
    assert ["Возраст", "Открытых обращений"] in rows


def test_queue_export_follows_the_queue_filters(client, login_as, week, make):
    login_as(make.user(Role.OPERATOR))
    rows = read_csv(client.get("/reports/queue.csv?status=resolved,closed"))
    t = week["tickets"]
    assert {int(r[0]) for r in rows[1:]} == {t[1].id, t[2].id, t["sunday"].id, t["saturday"].id}


def test_the_queue_page_links_to_the_export_of_its_current_filters(client, login_as, week, make):
    login_as(make.user(Role.OPERATOR))
    html = html_of(client, "/queue?status=all&platform=telegram")
    href = re.search(r'href="([^"]+)" data-test="export-csv"', html).group(1).replace("&amp;", "&")
    rows = read_csv(client.get(href))
    t = week["tickets"]
    assert {int(r[0]) for r in rows[1:]} == {t[2].id, t[3].id}


def test_queue_export_keeps_a_department_head_to_their_department(client, login_as, week, make):
    login_as(make.user(Role.DEPARTMENT_HEAD, department=week["schools"]))
    rows = read_csv(client.get("/reports/queue.csv?status=all"))
    t = week["tickets"]
    assert {int(r[0]) for r in rows[1:]} == {t[4].id, t["spam"].id, t["merged"].id}


# --- access ------------------------------------------------------------------------------

@pytest.mark.parametrize("role, status", [(Role.MANAGER, 200), (Role.ADMIN, 200), (Role.OPERATOR, 403),
                                          (Role.DEPARTMENT_HEAD, 403)])
def test_only_managers_and_admins_read_reports(client, login_as, make, role, status):
    user = make.user(role, department=make.department() if role == Role.DEPARTMENT_HEAD else None)
    login_as(user)
    for url in ("/reports/", "/reports/tickets?metric=total", "/reports/export.csv", "/reports/tickets.xlsx"):
        assert client.get(url).status_code == status, url
    nav = html_of(client, "/overview" if role != Role.DEPARTMENT_HEAD else "/inbox")
    assert ('data-nav="reports"' in nav) is (status == 200)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- weekly digest -----------------------------------------------------------------------

def test_weekly_digest_goes_to_managers_in_their_language(app, make, week, smtp_server):  # noqa: F811
    make.user(Role.MANAGER, email="ru@city.test")
    make.user(Role.MANAGER, email="en@city.test", locale="en")
    make.user(Role.MANAGER, email="gone@city.test", is_active_user=False)
    make.user(Role.OPERATOR, email="operator@city.test")
    result = send_weekly_digest(local(2025, 3, 10, 10).isoformat())
    assert result == {"messages": 2, "recipients": 2}
    mails = {m.rcpt_tos[0]: email.message_from_bytes(m.content, policy=email.policy.default)
             for m in smtp_server.messages}
    assert set(mails) == {"ru@city.test", "en@city.test"}
    ru, en = mails["ru@city.test"], mails["en@city.test"]
    assert "03.03.2025 – 09.03.2025" in ru["Subject"]
    text = ru.get_content()
    assert "Обращений: 4" in text and "Реакция в срок: 50.0% (2 из 4)" in text
    # Overdue on Monday 10 March 10:00: #4 (due 10 March 00:10), then #3 (due 10 March 09:00).
    t = week["tickets"]
    worst = re.findall(r"^\d+\. №(\d+)", text, re.M)
    assert worst == [str(t[4].id), str(t[3].id)]
    assert f"/tickets/{t[4].id}" in text and "/reports/?from=2025-03-03&to=2025-03-09" in text
    assert "Resolved on time: 25.0% (1 of 4)" in en.get_content()


def test_digest_lists_only_the_ten_most_overdue(app, make, smtp_server):  # noqa: F811
    make.user(Role.MANAGER, email="ru@city.test")
    now = local(2025, 3, 10, 10)
    by_lateness = [add(now - 8 * D - i * H, subject=f"Просрочка {i}").id for i in range(12)]
    send_weekly_digest(now.isoformat())
    text = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default).get_content()
    assert re.findall(r"^\d+\. №(\d+)", text, re.M) == [str(i) for i in reversed(by_lateness)][:10]


def test_digest_runs_once_on_monday_morning(app, make, smtp_server):  # noqa: F811
    make.user(Role.MANAGER, email="ru@city.test")
    assert send_weekly_digest_when_due(local(2025, 3, 10, 7).isoformat()) is None  # too early
    assert send_weekly_digest_when_due(local(2025, 3, 10, 8, 5).isoformat())["messages"] == 1
    assert send_weekly_digest_when_due(local(2025, 3, 10, 9).isoformat()) is None  # already sent
    assert send_weekly_digest_when_due(local(2025, 3, 11, 9).isoformat()) is None  # Tuesday
    assert len(smtp_server.messages) == 1


# --- in the browser ----------------------------------------------------------------------

@pytest.mark.e2e
def test_manager_reads_the_chart_and_clicks_through_to_the_tickets(live_server, week, manager):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(f"{live_server.url}/login")
            page.fill("input[name=email]", manager.email)
            page.fill("input[name=password]", "correct-horse-battery")
            page.click("button[type=submit]")
            page.click("[data-nav=reports]")
            page.fill("input[name=from]", "2025-02-24")
            page.fill("input[name=to]", "2025-03-09")
            page.click("[data-test=report-filters] button[type=submit]")
            chart = page.locator("[data-test=chart-week] svg.trend")
            chart.wait_for()
            assert chart.locator("rect.bar").count() == 2
            assert page.locator("[data-test=chart-week] polyline.resolution").count() == 1
            chart.locator("a.bar-link").nth(1).click()
            page.wait_for_url("**/reports/tickets?**")
            rows = page.locator("[data-test=drill-rows] tr[data-ticket]")
            assert rows.count() == 4
            assert page.locator("[data-test=drill-total]").inner_text() == "(4)"
            rows.first.locator("a").first.click()
            page.wait_for_url("**/tickets/*")
            assert not [e for e in errors if "Content Security Policy" in e]
        finally:
            browser.close()
