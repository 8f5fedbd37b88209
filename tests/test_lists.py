"""Ticket list pages: the operator queue, the department inbox and the manager overview."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from flask import g
from flask_babel import refresh
from sqlalchemy import event

from desk.extensions import db
from desk.models import Ticket, utcnow
from desk.tickets.queries import FilterError, QueueFilters, queue_page

from .conftest import login

ROW_RE = re.compile(r'<tr data-ticket-id="(\d+)"')
NEXT_RE = re.compile(r'href="([^"]+)" rel="next"')


def ids_on(html: str) -> list[int]:
    return [int(i) for i in ROW_RE.findall(html)]


def page_ids(client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return ids_on(response.get_data(as_text=True))


def forget_request_caches() -> None:
    """The test's one app context spans every request; Flask-Login, Flask-WTF and
    Flask-Babel cache the user, token and locale on ``g``: drop them, as a new request would."""
    for key in ("_login_user", "csrf_token"):
        g.pop(key, None)
    refresh()


def set_fields(ticket: Ticket, **fields) -> Ticket:
    for name, value in fields.items():
        setattr(ticket, name, value)
    db.session.commit()
    return ticket


@pytest.fixture
def city(make):
    """Two departments with a head each, an operator, a manager, two categories."""
    roads, schools = make.department("Дороги"), make.department("Образование")
    return {
        "roads": roads,
        "schools": schools,
        "pits": make.category("Ямы", default_department=roads),
        "heating": make.category("Отопление"),
        "operator": make.user("operator"),
        "manager": make.user("manager"),
        "roads_head": make.user("department_head", department=roads, name="Пётр Дорожный"),
        "schools_head": make.user("department_head", department=schools),
        "tg": make.account("telegram", "housing"),
        "vk": make.account("vk", "education"),
    }


# --- the operator queue ----------------------------------------------------------------

@pytest.fixture
def varied(make, city):
    """One ticket per distinguishing attribute, all in status ``new`` unless said."""
    now = utcnow()
    t = {
        "plain": make.ticket(city["tg"], "Обычный вопрос про двор"),
        "vk": make.ticket(city["vk"], "Вопрос из ВКонтакте"),
        "roads": set_fields(make.ticket(city["tg"], "Разбита дорога"), department_id=city["roads"].id),
        "pits": set_fields(make.ticket(city["tg"], "Глубокие ямы на Ленина"), category_id=city["pits"].id),
        "urgent": set_fields(make.ticket(city["tg"], "Прорыв трубы"), priority="urgent"),
        "overdue": set_fields(make.ticket(city["tg"], "Давно ждём ответа"),
                              resolution_due_at=now - timedelta(hours=2), reacted_at=now - timedelta(hours=3)),
        "assigned": set_fields(make.ticket(city["tg"], "Назначено"), assignee_id=city["operator"].id),
        "author": make.ticket(city["tg"], "Спасибо за работу", author_name="Анна Снегирёва"),
    }
    return t


@pytest.mark.parametrize("query, expected", [
    ("platform=vk", {"vk"}),
    ("direction=education", {"vk"}),
    ("department={roads}", {"roads"}),
    ("category={pits}", {"pits"}),
    ("priority=urgent", {"urgent"}),
    ("overdue=1", {"overdue"}),
    ("q=ямы", {"pits"}),
    ("q=Снегирёва", {"author"}),
    ("q=%23{plain_id}", {"plain"}),
])
def test_each_filter_narrows_the_queue(client, login_as, city, varied, query, expected):
    login_as(city["operator"])
    everything = set(page_ids(client, "/queue"))
    assert everything == {t.id for t in varied.values()}

    url = "/queue?" + query.format(roads=city["roads"].id, pits=city["pits"].id, plain_id=varied["plain"].id)
    assert set(page_ids(client, url)) == {varied[name].id for name in expected}


@pytest.mark.parametrize("rare_cap", [0, 1000])
def test_search_finds_words_in_any_case_whether_rare_or_common(monkeypatch, city, make, rare_cap):
    # On PostgreSQL a term with fewer matches than the cap is searched as an id list,
    # a common one through the ordered index: both must find the same tickets.
    monkeypatch.setattr("desk.tickets.search.RARE_CAP", rare_cap)
    hit = make.ticket(city["tg"], "Не горят фонари на улице Кирова", author_name="Мария Иванова")
    make.ticket(city["tg"], "Когда уберут снег?")
    operator = city["operator"]
    for q in ("фонари", "ФОНАРИ", "иванова", "Кирова фонари", f"#{hit.id}"):
        found = queue_page(operator, QueueFilters.from_args({"q": q, "status": "all"})).rows
        assert [t.id for t in found] == [hit.id], q
    assert queue_page(operator, QueueFilters.from_args({"q": "трамвай"})).rows == []


def test_unassigned_and_status_filters(client, login_as, city, varied):
    login_as(city["operator"])
    assert varied["assigned"].id not in page_ids(client, "/queue?unassigned=1")
    assert len(page_ids(client, "/queue?unassigned=1")) == len(varied) - 1

    set_fields(varied["plain"], status="spam")
    set_fields(varied["vk"], status="not_appeal")
    assert page_ids(client, "/queue?status=spam") == [varied["plain"].id]
    assert set(page_ids(client, "/queue?status=spam&status=not_appeal")) == {varied["plain"].id, varied["vk"].id}
    # The default tab is "new": decided tickets leave it.
    assert varied["plain"].id not in page_ids(client, "/queue")
    assert len(page_ids(client, "/queue?status=all")) == len(varied)


def test_queue_tabs_show_counts_per_status(client, login_as, city, make):
    for _ in range(3):
        make.ticket(city["tg"])
    set_fields(make.ticket(city["tg"]), status="spam")
    login_as(city["operator"])
    html = client.get("/queue").get_data(as_text=True)
    assert re.search(r'data-tab="new"[^>]*>[^<]*<span class="count">3</span>', html)
    assert re.search(r'data-tab="spam"[^>]*>[^<]*<span class="count">1</span>', html)
    assert re.search(r'data-tab="all"[^>]*>[^<]*<span class="count">4</span>', html)


def test_invalid_filters_are_reported_by_field(client, login_as, city):
    with pytest.raises(FilterError) as caught:
        QueueFilters.from_args({"status": "bogus", "department": "x", "sort": "up", "overdue": "maybe"})
    assert set(caught.value.errors) == {"status", "department", "sort", "overdue"}

    login_as(city["operator"])
    response = client.get("/queue?priority=whenever")
    assert response.status_code == 400
    assert "priority" in response.get_data(as_text=True)
    assert client.get("/queue?cursor=not-a-cursor").status_code == 400


# --- keyset pagination -----------------------------------------------------------------

def walk(client, url: str) -> list[int]:
    seen: list[int] = []
    for _ in range(50):
        response = client.get(url)
        html = response.get_data(as_text=True)
        seen.extend(ids_on(html))
        match = NEXT_RE.search(html)
        if not match:
            return seen
        url = match.group(1).replace("&amp;", "&")
    raise AssertionError("pagination never ended")


def test_pages_neither_overlap_nor_skip(app, client, login_as, city, make):
    app.config["QUEUE_PAGE_SIZE"] = 3
    now = utcnow()
    tickets = [make.ticket(city["tg"], f"Обращение {i}") for i in range(11)]
    # Deadlines with ties and gaps: equal keys must be split by id, no-deadline rows go last.
    dues = [now + timedelta(hours=h) if h is not None else None
            for h in (5, 1, None, 1, 3, None, 1, 8, 3, None, 2)]
    for ticket, due in zip(tickets, dues, strict=False):
        set_fields(ticket, resolution_due_at=due, reacted_at=now)  # the resolution's clock runs
    login_as(city["operator"])

    newest = walk(client, "/queue")
    assert newest == sorted((t.id for t in tickets), reverse=True)

    by_deadline = walk(client, "/queue?sort=deadline")
    expected = sorted(tickets, key=lambda t: (t.resolution_due_at is None, t.resolution_due_at or now, t.id))
    assert by_deadline == [t.id for t in expected]


def test_next_page_is_stable_when_new_tickets_arrive(app, city, make):
    first_batch = [make.ticket(city["tg"], f"Старое {i}") for i in range(6)]
    filters = QueueFilters.from_args({})
    page1 = queue_page(city["operator"], filters, None, 3)
    make.ticket(city["tg"], "Пришло между страницами")
    page2 = queue_page(city["operator"], filters, page1.next_cursor, 3)
    shown = [t.id for t in page1.rows + page2.rows]
    assert shown == sorted((t.id for t in first_batch), reverse=True)
    assert page2.next_cursor is None


# --- department scope ------------------------------------------------------------------

def test_department_head_sees_only_their_department(client, login_as, city, make):
    ours = set_fields(make.ticket(city["tg"], "Яма у школы"), status="triaged", department_id=city["roads"].id)
    theirs = set_fields(make.ticket(city["tg"], "Яма у садика"), status="triaged",
                        department_id=city["schools"].id)
    unrouted = make.ticket(city["tg"], "Яма без отдела")
    login_as(city["roads_head"])

    assert page_ids(client, "/inbox") == [ours.id]
    # No filter reaches another department's ticket.
    for url in (f"/inbox?status=all&department={city['schools'].id}", "/inbox?status=all&q=садика",
                f"/inbox?status=all&q=%23{theirs.id}", "/inbox?status=all&q=Яма"):
        found = page_ids(client, url)
        assert theirs.id not in found and unrouted.id not in found
    html = client.get("/inbox").get_data(as_text=True)
    assert "Яма у садика" not in html
    assert 'id="bulk-form"' not in html  # no bulk routing in the inbox


def test_inbox_tabs_follow_the_department_work(client, login_as, city, make):
    dept = city["roads"].id
    triaged = set_fields(make.ticket(city["tg"]), status="triaged", department_id=dept)
    working = set_fields(make.ticket(city["tg"]), status="in_progress", department_id=dept)
    waiting = set_fields(make.ticket(city["tg"]), status="waiting_resident", department_id=dept)
    login_as(city["roads_head"])
    assert page_ids(client, "/inbox") == [triaged.id]
    assert page_ids(client, "/inbox?status=in_progress") == [working.id]
    assert page_ids(client, "/inbox?status=waiting_resident") == [waiting.id]
    html = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'data-tab="in_progress"[^>]*>[^<]*<span class="count">1</span>', html)


def test_pages_are_closed_to_other_roles(app, client, login_as, city):
    login_as(city["roads_head"])
    assert client.get("/queue").status_code == 403
    assert client.get("/overview").status_code == 403
    manager = app.test_client()
    forget_request_caches()
    login(manager, city["manager"].email)
    assert manager.get("/queue").status_code == 403
    assert manager.get("/inbox").status_code == 403
    assert manager.get("/overview").status_code == 200


# --- the overview ----------------------------------------------------------------------

def test_overview_counts_match_the_tickets(client, login_as, city, make):
    roads, schools = city["roads"].id, city["schools"].id
    now = utcnow()
    for _ in range(2):
        make.ticket(city["tg"])  # new, not routed
    for status in ("triaged", "in_progress", "in_progress"):
        set_fields(make.ticket(city["tg"]), status=status, department_id=roads)
    set_fields(make.ticket(city["tg"]), status="triaged", department_id=schools,
               resolution_due_at=now - timedelta(days=1), reacted_at=now - timedelta(days=2))
    set_fields(make.ticket(city["tg"]), status="resolved", department_id=schools)
    set_fields(make.ticket(city["tg"]), status="spam")
    login_as(city["manager"])
    html = client.get("/overview").get_data(as_text=True)

    def stat(status):
        return int(re.search(rf'class="stat" data-status="{status}"><div class="value">(\d+)<', html).group(1))

    assert stat("open") == 6
    assert stat("new") == 2 and stat("triaged") == 2 and stat("in_progress") == 2
    assert re.search(r'<tr data-status="spam">.*?<td class="num">1</td>', html, re.S)

    def dept_open(key):
        row = re.search(rf'<tr data-department="{key}">(.*?)</tr>', html, re.S).group(1)
        return int(re.search(r"<td class=\"num\" data-open>(\d+)</td>", row).group(1))

    assert dept_open(roads) == 3 and dept_open(schools) == 1 and dept_open("none") == 2
    oldest = re.search(r'data-test="oldest">(.*?)</table>', html, re.S).group(1)
    assert len(ROW_RE.findall(oldest)) == 6


def test_overview_lists_the_oldest_open_tickets_first(client, login_as, city, make):
    now = utcnow()
    tickets = [make.ticket(city["tg"], f"Вопрос {i}", sent_at=now - timedelta(days=i)) for i in range(25)]
    login_as(city["operator"])
    html = client.get("/overview").get_data(as_text=True)
    oldest = re.search(r'data-test="oldest">(.*?)</table>', html, re.S).group(1)
    assert [int(i) for i in ROW_RE.findall(oldest)] == [t.id for t in reversed(tickets)][:20]


# --- safety, languages, query count ----------------------------------------------------

def test_html_in_subject_and_author_is_escaped(client, login_as, city, make):
    make.ticket(city["tg"], "<script>alert(1)</script><b>жирный</b>", author_name="<img src=x onerror=alert(2)>")
    login_as(city["operator"])
    html = client.get("/queue").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_russian_by_default_and_english_after_switch(client, login_as, city, make):
    set_fields(make.ticket(city["tg"]), status="in_progress")
    login_as(city["operator"])
    html = client.get("/queue?status=all").get_data(as_text=True)
    assert "Очередь оператора" in html and "В работе" in html and "Не обращение" in html
    client.get("/lang/en")
    forget_request_caches()
    html = client.get("/queue?status=all").get_data(as_text=True)
    assert "Operator queue" in html and "In progress" in html and "Not an appeal" in html
    assert "Очередь оператора" not in html


def test_queue_bulk_form_posts_the_agreed_fields(client, login_as, city, make):
    ticket = make.ticket(city["tg"])
    login_as(city["operator"])
    html = client.get("/queue?platform=telegram").get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)" id="bulk-form".*?</form>', html, re.S)
    assert form and form.group(1) == "/tickets/bulk"
    body = form.group(0)
    for field in ('name="csrf_token"', f'name="ticket_ids" value="{ticket.id}"', 'name="department_id"',
                  'name="category_id"', 'name="priority"', 'name="target_id"', 'data-select-all'):
        assert field in body
    assert set(re.findall(r'name="action" value="(\w+)"', body)) == {"route", "not_appeal", "spam", "merge"}
    next_url = re.search(r'name="next" value="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert urlparse(next_url).path == "/queue" and parse_qs(urlparse(next_url).query)["platform"] == ["telegram"]
    assert f'href="/tickets/{ticket.id}"' in html


def test_rendering_a_page_costs_the_same_queries_for_5_or_25_rows(app, client, login_as, city, make):
    def add(n):
        for i in range(n):
            dept = city["roads"] if i % 2 else city["schools"]
            set_fields(make.ticket(city["tg"]), department_id=dept.id, category_id=city["pits"].id,
                       assignee_id=city["roads_head"].id if i % 2 else city["schools_head"].id)

    login_as(city["operator"])
    statements: list[str] = []

    def count(*_args):
        statements.append("x")

    def render() -> int:
        from desk.queue import get_redis

        get_redis().flushdb()  # count the GROUP BY too
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/queue").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    add(5)
    few = render()
    add(20)
    assert render() == few


def test_status_counts_are_cached_briefly(client, login_as, city, make):
    make.ticket(city["tg"])
    login_as(city["operator"])
    client.get("/queue")
    make.ticket(city["tg"])
    html = client.get("/queue").get_data(as_text=True)
    # The list is live; the tab count may lag for a few seconds (cached per scope).
    assert len(ids_on(html)) == 2
    assert re.search(r'data-tab="new"[^>]*>[^<]*<span class="count">1</span>', html)
