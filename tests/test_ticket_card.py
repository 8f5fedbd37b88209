"""The ticket card: what each role sees, escaping, scope and a bounded query count."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from desk.extensions import db
from desk.ingest import ingest, mark_deleted
from desk.models import Message, Post, TicketStatus, utcnow
from desk.tickets import services

from .ticket_helpers import english, fresh, in_status, log_out, routed

S = TicketStatus


def test_card_shows_thread_post_edits_deletions_and_outbound(make, login_as, client):
    acc = make.account(name="ЖКХ Белогорска")
    ingest(make.inbound(acc, "Яма у дома 5", external_id="c1", author_id="77", thread_ref="p1"))
    ingest(make.inbound(acc, "Яма у дома 7", external_id="c1", author_id="77", thread_ref="p1", is_edit=True))
    second = ingest(make.inbound(acc, "Уже неделю!", external_id="c2", author_id="77", thread_ref="p1"))
    mark_deleted(acc.id, "c2")
    post = db.session.scalars(db.select(Post)).one()
    post.text, post.link = "Плановый ремонт дорог", "https://t.me/city/1"
    db.session.add(Message(ticket_id=second.ticket_id, direction="outbound", platform="telegram",
                           account_id=acc.id, external_id="out-1", text="Передали в дорожную службу"))
    db.session.commit()
    login_as(make.user("operator"))
    english(client)

    html = client.get(f"/tickets/{second.ticket_id}").get_data(as_text=True)

    assert "Яма у дома 7" in html and "Яма у дома 5" in html  # current text and the earlier one
    assert 'data-test="edited"' in html and "Earlier versions" in html
    assert 'data-test="deleted"' in html and "Уже неделю!" in html
    assert "Передали в дорожную службу" in html and 'class="message outbound' in html
    assert "Плановый ремонт дорог" in html and 'href="https://t.me/city/1"' in html
    assert "ЖКХ Белогорска" in html and "Telegram" in html


def test_script_in_a_comment_is_shown_escaped(make, login_as, client):
    ticket = make.ticket(text='<script>alert("x")</script> help')
    login_as(make.user("operator"))
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(" in html


def test_head_sees_own_department_and_gets_404_for_another(make, login_as, client):
    roads, schools = make.department("Дороги"), make.department("Школы")
    operator = make.user("operator")
    own = routed(make, roads, operator)
    other = routed(make, schools, operator)
    login_as(make.user("department_head", department=roads))
    assert client.get(f"/tickets/{own.id}").status_code == 200
    assert client.get(f"/tickets/{other.id}").status_code == 404
    assert client.get("/tickets/999999").status_code == 404


def test_card_requires_login(make, client):
    ticket = make.ticket()
    response = client.get(f"/tickets/{ticket.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_manager_sees_a_read_only_card(make, login_as, client):
    dept = make.department()
    ticket = routed(make, dept, make.user("operator"))
    login_as(make.user("manager"))
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert ticket.subject in html
    assert "data-action=" not in html and f"/tickets/{ticket.id}/" not in html


def test_buttons_follow_role_and_status(make, login_as, client):
    dept = make.department()
    operator = make.user("operator")
    new = make.ticket()
    resolved = in_status(make, dept, operator, S.IN_PROGRESS, S.RESOLVED)
    triaged = routed(make, dept, operator)

    login_as(operator)
    html = client.get(f"/tickets/{new.id}").get_data(as_text=True)
    assert 'data-action="route"' in html and 'data-action="spam"' in html and 'data-action="not_appeal"' in html
    assert 'data-action="close"' not in html and 'data-action="accept"' not in html
    html = client.get(f"/tickets/{resolved.id}").get_data(as_text=True)
    assert 'data-action="close"' in html and 'data-action="route"' not in html and 'data-action="spam"' not in html

    log_out(client)
    login_as(make.user("department_head", department=dept))
    html = client.get(f"/tickets/{triaged.id}").get_data(as_text=True)
    assert 'data-action="accept"' in html and 'data-action="return"' in html and 'data-action="status"' in html
    assert 'data-action="route"' not in html and 'data-action="department"' not in html
    assert 'data-test="draft"' not in html  # one answer box: the public answer


def test_author_history_is_same_author_same_network_and_scoped(make, login_as, client):
    roads, schools = make.department(), make.department()
    operator = make.user("operator")
    acc, vk = make.account(), make.account(platform="vk")
    earlier = routed(make, roads, operator, acc=acc, author_id="555", text="Первое обращение", thread_ref="a")
    elsewhere = routed(make, schools, operator, acc=acc, author_id="555", text="Про школу", thread_ref="b")
    make.ticket(acc, author_id="556", text="Чужое обращение", thread_ref="c")
    make.ticket(vk, author_id="555", text="Тёзка во ВКонтакте", thread_ref="d")
    current = routed(make, roads, operator, acc=acc, author_id="555", text="Снова яма", thread_ref="e")

    login_as(operator)
    html = client.get(f"/tickets/{current.id}").get_data(as_text=True)
    assert f"#{earlier.id}" in html and f"#{elsewhere.id}" in html
    assert "Чужое обращение" not in html and "Тёзка во ВКонтакте" not in html

    log_out(client)
    login_as(make.user("department_head", department=roads))
    html = client.get(f"/tickets/{current.id}").get_data(as_text=True)
    assert "Первое обращение" in html and "Про школу" not in html


def test_overdue_deadline_is_highlighted(make, login_as, client):
    ticket = make.ticket()
    ticket.reaction_due_at = utcnow() - timedelta(hours=2)
    ticket.resolution_due_at = utcnow() + timedelta(days=3)
    db.session.commit()
    login_as(make.user("operator"))
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-test="reaction-due" data-state="overdue"' in html
    assert 'data-test="resolution-due" data-state="pending"' in html


def test_merged_tickets_link_both_ways(make, login_as, client):
    operator = make.user("operator")
    target, source = make.ticket(text="Нет воды"), make.ticket(text="Тоже нет воды")
    services.merge(source, target, operator)
    db.session.commit()
    login_as(operator)
    html = client.get(f"/tickets/{target.id}").get_data(as_text=True)
    assert 'data-test="merged-in"' in html and f'href="/tickets/{source.id}"' in html
    html = client.get(f"/tickets/{source.id}").get_data(as_text=True)
    assert 'data-test="merged-into"' in html and f'href="/tickets/{target.id}"' in html


def test_event_log_shows_who_what_old_new_and_reason(make, login_as, client):
    dept = make.department("Дороги")
    operator = make.user("operator", name="Ольга Оператор")
    head = make.user("department_head", department=dept, name="Пётр Начальник")
    ticket = routed(make, dept, operator)
    services.set_priority(ticket, "urgent", operator)
    services.return_to_triage(ticket, head, "Это не наша улица")
    db.session.commit()
    login_as(operator)
    english(client)
    html = client.get(f"/tickets/{fresh(ticket).id}").get_data(as_text=True)
    events = html.split('data-test="events"')[1]
    assert "Ольга Оператор" in events and "Пётр Начальник" in events
    assert "Normal → Urgent" in events
    assert "Routed → New" in events and "Это не наша улица" in events
    assert 'data-test="return-reason"' in html


def test_event_log_names_the_changed_field_once(make, login_as, client):
    dept = make.department("Дороги")
    operator = make.user("operator")
    ticket = routed(make, dept, operator)
    services.set_priority(ticket, "urgent", operator)
    db.session.commit()
    login_as(operator)
    html = client.get(f"/tickets/{fresh(ticket).id}").get_data(as_text=True)
    events = " ".join(html.split('data-test="events"')[1].split("</ul>")[0].split())
    assert "Статус изменён: Новое → Передано в отдел" in events
    assert "Приоритет: Обычный → Срочный" in events
    assert "статус:" not in events and "Изменено" not in events


def test_russian_is_the_default_language_of_the_card(make, login_as, client):
    ticket = make.ticket()
    login_as(make.user("operator"))
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Внутренние заметки" in html and "Обращение: направить" in html


def _count_queries(client, url: str) -> int:
    """Database round trips of one page, as in production: the lookup cache in Redis warm
    (a request just before filled it), the session's identity map empty (production opens
    a new session per request; the test's would otherwise answer some lookups from objects
    that the garbage collector may or may not have dropped yet)."""
    statements = []

    def count(*_args):
        statements.append(1)

    assert client.get(url).status_code == 200  # fills the Redis lookups
    db.session.commit()
    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_card_queries_do_not_grow_with_the_thread(make, login_as, client):
    dept = make.department()
    operator = make.user("operator")
    acc = make.account()
    small = routed(make, dept, operator, acc=acc, author_id="1", thread_ref="s")
    big = routed(make, dept, operator, acc=acc, author_id="2", thread_ref="b")
    for n in range(8):
        ingest(make.inbound(acc, f"Ещё {n}", external_id=f"b{n}", author_id="2", thread_ref="b"))
        ingest(make.inbound(acc, f"Правка {n}", external_id=f"b{n}", author_id="2", thread_ref="b", is_edit=True))
        services.add_note(big, make.user("operator"), f"Заметка {n}")
    for n in range(3):
        routed(make, dept, operator, acc=acc, author_id="2", thread_ref=f"other{n}")
    db.session.commit()
    login_as(operator)
    small_url, big_url = f"/tickets/{small.id}", f"/tickets/{big.id}"
    small_count = _count_queries(client, small_url)
    assert _count_queries(client, big_url) == small_count
    # user+bell, ticket with joins, messages+revisions, notes, events, merged-in and the
    # author's tickets, assignees, replies
    assert small_count <= 8


def test_card_select_lists_follow_admin_edits_despite_the_cache(make, login_as, client):
    from desk.admin.services import save_department

    dept = make.department(name="Дороги")
    operator = make.user("operator")
    ticket = routed(make, dept, operator)
    login_as(operator)
    assert ">Дороги</option>" in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    save_department(dept, "Дорожная служба", False, True)
    db.session.commit()
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert ">Дорожная служба</option>" in html and ">Дороги</option>" not in html
