"""Every card action through its real form (CSRF included), refusals and the bulk action."""
from __future__ import annotations

from desk.extensions import db
from desk.models import Note, TicketEvent, TicketStatus

from .conftest import csrf_from
from .ticket_helpers import english, fresh, in_status, post_action, post_bulk, routed

S = TicketStatus


def page(response) -> str:
    return response.get_data(as_text=True)


# Operators: triage.

def test_operator_routes_with_department_category_and_priority(make, login_as, client):
    roads = make.department("Дороги")
    pits = make.category("Ямы")
    ticket = make.ticket()
    login_as(make.user("operator"))
    english(client)
    response = post_action(client, ticket.id, "route",
                           {"department_id": roads.id, "category_id": pits.id, "priority": "high"})
    assert response.status_code == 200
    assert f"Ticket #{ticket.id} routed to Дороги." in page(response)
    ticket = fresh(ticket)
    assert (ticket.status, ticket.department_id, ticket.category_id, ticket.priority) == \
        ("triaged", roads.id, pits.id, "high")


def test_category_alone_routes_to_its_default_department(make, login_as, client):
    water = make.department("Водоканал")
    leaks = make.category("Протечки", default_department=water)
    ticket = make.ticket()
    login_as(make.user("operator"))
    post_action(client, ticket.id, "route", {"category_id": leaks.id, "priority": "normal"})
    ticket = fresh(ticket)
    assert ticket.status == "triaged" and ticket.department_id == water.id


def test_route_without_any_department_is_refused_clearly(make, login_as, client):
    orphan = make.category("Прочее")
    ticket = make.ticket()
    login_as(make.user("operator"))
    english(client)
    response = post_action(client, ticket.id, "route", {"category_id": orphan.id, "priority": "normal"})
    assert response.status_code == 200
    assert "Choose a department" in page(response)
    ticket = fresh(ticket)
    assert ticket.status == "new" and ticket.category_id is None  # nothing half-done


def test_not_appeal_spam_and_undo(make, login_as, client):
    thanks, junk = make.ticket(text="Спасибо!"), make.ticket(text="Купите слона")
    login_as(make.user("operator"))
    english(client)
    assert "marked as not an appeal" in page(post_action(client, thanks.id, "not_appeal"))
    post_action(client, junk.id, "spam")
    assert fresh(thanks).status == "not_appeal" and fresh(junk).status == "spam"
    assert "back in the queue as new" in page(post_action(client, junk.id, "undo"))
    assert fresh(junk).status == "new"


def test_operator_changes_category_department_priority_and_assignee(make, login_as, client):
    roads, water = make.department("Дороги"), make.department("Водоканал")
    pits = make.category("Ямы")
    operator = make.user("operator")
    plumber = make.user("department_head", department=water, name="Сантехник")
    ticket = routed(make, roads, operator)
    login_as(operator)
    post_action(client, ticket.id, "category", {"category_id": pits.id})
    post_action(client, ticket.id, "priority", {"priority": "urgent"})
    post_action(client, ticket.id, "department", {"department_id": water.id})
    post_action(client, ticket.id, "assignee", {"assignee_id": plumber.id})
    ticket = fresh(ticket)
    assert (ticket.category_id, ticket.priority, ticket.department_id, ticket.assignee_id) == \
        (pits.id, "urgent", water.id, plumber.id)
    fields = db.session.scalars(db.select(TicketEvent.field).where(TicketEvent.ticket_id == ticket.id)).all()
    assert {"category_id", "priority", "department_id", "assignee_id"} <= set(fields)


def test_assignee_from_another_department_is_not_a_choice(make, login_as, client):
    roads, water = make.department(), make.department()
    operator = make.user("operator")
    stranger = make.user("department_head", department=water)
    ticket = routed(make, roads, operator)
    login_as(operator)
    english(client)
    response = post_action(client, ticket.id, "assignee", {"assignee_id": stranger.id})
    assert "Not a valid choice" in page(response)
    assert fresh(ticket).assignee_id is None


def test_merge_by_number_and_into_a_missing_ticket(make, login_as, client):
    target, source = make.ticket(text="Нет света"), make.ticket(text="Тоже нет света")
    login_as(make.user("operator"))
    english(client)
    response = post_action(client, source.id, "merge", {"target_id": 999999})
    assert "Ticket #999999 not found." in page(response) and fresh(source).status == "new"
    response = post_action(client, source.id, "merge", {"target_id": target.id})
    assert f"merged into #{target.id}" in page(response)
    source = fresh(source)
    assert source.status == "merged" and source.merged_into_id == target.id


def test_merge_into_a_spam_ticket_flashes_the_service_error(make, login_as, client):
    junk, ticket = make.ticket(), make.ticket()
    login_as(make.user("operator"))
    post_action(client, junk.id, "spam")
    response = post_action(client, ticket.id, "merge", {"target_id": junk.id})
    assert response.status_code == 200 and 'flash-error' in page(response)
    assert fresh(ticket).status == "new"


def test_internal_note_and_an_empty_one(make, login_as, client):
    ticket = make.ticket()
    login_as(make.user("operator"))
    english(client)
    response = post_action(client, ticket.id, "note", {"text": "Позвонить в управляющую компанию"})
    assert "Note added." in page(response) and "Позвонить в управляющую компанию" in page(response)
    response = post_action(client, ticket.id, "note", {"text": "   "})
    assert "flash-error" in page(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(Note)) == 1


def test_operator_closes_a_resolved_ticket_but_not_a_new_one(make, login_as, client):
    dept = make.department()
    operator = make.user("operator")
    resolved = in_status(make, dept, operator, S.IN_PROGRESS, S.RESOLVED)
    new = make.ticket()
    login_as(operator)
    english(client)
    post_action(client, resolved.id, "close")
    assert fresh(resolved).status == "closed"
    response = post_action(client, new.id, "close")
    assert f"#{new.id} is new" in page(response) and fresh(new).status == "new"


def test_post_without_csrf_changes_nothing(make, login_as, client):
    ticket = make.ticket()
    login_as(make.user("operator"))
    response = client.post(f"/tickets/{ticket.id}/spam", follow_redirects=True)
    assert response.status_code in (200, 400)
    assert fresh(ticket).status == "new"


# Department heads.

def test_head_accepts_and_becomes_assignee(make, login_as, client):
    dept = make.department()
    ticket = routed(make, dept, make.user("operator"))
    head = make.user("department_head", department=dept)
    login_as(head)
    english(client)
    assert "into work" in page(post_action(client, ticket.id, "accept"))
    ticket = fresh(ticket)
    assert ticket.status == "in_progress" and ticket.assignee_id == head.id


def test_head_returns_to_triage_only_with_a_reason(make, login_as, client):
    dept = make.department()
    ticket = routed(make, dept, make.user("operator"))
    login_as(make.user("department_head", department=dept))
    response = post_action(client, ticket.id, "return", {"reason": ""})
    assert "flash-error" in page(response) and fresh(ticket).status == "triaged"
    post_action(client, ticket.id, "return", {"reason": "Это дорожная служба, не мы"}, follow=False)
    ticket = fresh(ticket)
    assert ticket.status == "new" and ticket.department_id is None
    assert ticket.return_reason == "Это дорожная служба, не мы"


def test_head_changes_status_only_along_allowed_transitions(make, login_as, client):
    dept = make.department()
    ticket = in_status(make, dept, make.user("operator"), S.IN_PROGRESS)
    login_as(make.user("department_head", department=dept))
    post_action(client, ticket.id, "status", {"status": "closed"})
    assert fresh(ticket).status == "in_progress"
    post_action(client, ticket.id, "status", {"status": "waiting_resident"})
    assert fresh(ticket).status == "waiting_resident"
    post_action(client, ticket.id, "status", {"status": "resolved"})
    assert fresh(ticket).status == "resolved"


def test_the_obsolete_draft_answer_is_gone(make, login_as, client):
    """One answer box on the card: the public answer. The old "draft, not sent" editor is
    no action any more (a post to it is a 404, like any unknown action)."""
    dept = make.department()
    ticket = in_status(make, dept, make.user("operator"), S.IN_PROGRESS)
    login_as(make.user("department_head", department=dept))
    html = page(client.get(f"/tickets/{ticket.id}"))
    assert 'data-test="draft"' not in html and "Черновик публичного ответа" not in html
    assert 'data-test="reply-text"' in html
    assert post_action(client, ticket.id, "draft", {"text": "Яму заделаем"}).status_code == 404
    assert fresh(ticket).draft_answer is None


def test_a_head_who_returns_a_ticket_lands_on_the_inbox(make, login_as, client):
    dept = make.department()
    ticket = routed(make, dept, make.user("operator"))
    login_as(make.user("department_head", department=dept))
    response = post_action(client, ticket.id, "return", {"reason": "Не наш участок"}, follow=False)
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    inbox = page(client.get("/inbox"))
    assert f"Обращение №{ticket.id} возвращено на разбор" in inbox  # the confirmation, on the inbox
    assert fresh(ticket).status == "new"


def test_head_gets_404_on_every_action_for_another_department(make, login_as, client):
    roads, schools = make.department(), make.department()
    ticket = routed(make, schools, make.user("operator"))
    login_as(make.user("department_head", department=roads))
    for action, data in [("accept", {}), ("note", {"text": "x"}), ("return", {"reason": "x"}),
                         ("status", {"status": "in_progress"}), ("route", {"department_id": roads.id})]:
        assert post_action(client, ticket.id, action, data).status_code == 404, action
    ticket = fresh(ticket)
    assert ticket.status == "triaged" and ticket.department_id == schools.id and not ticket.notes


def test_head_cannot_route_or_mark_spam(make, login_as, client):
    roads, water = make.department(), make.department()
    ticket = routed(make, roads, make.user("operator"))
    login_as(make.user("department_head", department=roads))
    assert post_action(client, ticket.id, "department", {"department_id": water.id}).status_code == 403
    assert post_action(client, ticket.id, "route", {"department_id": water.id}).status_code == 403
    assert post_action(client, ticket.id, "spam").status_code == 403
    ticket = fresh(ticket)
    assert ticket.department_id == roads.id and ticket.status == "triaged"


def test_manager_cannot_act(make, login_as, client):
    dept = make.department()
    ticket = routed(make, dept, make.user("operator"))
    login_as(make.user("manager"))
    for action, data in [("note", {"text": "x"}), ("accept", {}), ("spam", {})]:
        assert post_action(client, ticket.id, action, data).status_code == 403, action
    assert post_bulk(client, {"ticket_ids": [ticket.id], "action": "spam"}).status_code == 403
    ticket = fresh(ticket)
    assert ticket.status == "triaged" and not ticket.notes and ticket.draft_answer is None


def test_unknown_action_is_404(make, login_as, client):
    ticket = make.ticket()
    login_as(make.user("operator"))
    assert post_action(client, ticket.id, "delete").status_code == 404


# Bulk.

def test_bulk_route_applies_to_valid_tickets_and_reports_the_rest(make, login_as, client):
    roads = make.department("Дороги")
    operator = make.user("operator")
    a, b = make.ticket(), make.ticket()
    resolved = in_status(make, roads, operator, S.IN_PROGRESS, S.RESOLVED)
    login_as(operator)
    english(client)
    response = post_bulk(client, {"ticket_ids": [a.id, b.id, resolved.id, 424242], "action": "route",
                                  "department_id": roads.id, "priority": "high", "next": f"/tickets/{a.id}"})
    text = page(response)
    assert response.status_code == 200
    assert "2 routed, 2 skipped" in text and f"#{resolved.id} is resolved" in text and "#424242 not found" in text
    assert fresh(a).status == fresh(b).status == "triaged" and fresh(a).priority == "high"
    assert fresh(resolved).status == "resolved"


def test_bulk_spam_and_not_appeal(make, login_as, client):
    dept = make.department()
    operator = make.user("operator")
    a, b = make.ticket(), make.ticket()
    triaged = routed(make, dept, operator)
    login_as(operator)
    english(client)
    response = post_bulk(client, {"ticket_ids": [a.id, triaged.id], "action": "spam", "next": f"/tickets/{a.id}"})
    assert "1 marked as spam, 1 skipped" in page(response)
    post_bulk(client, {"ticket_ids": [b.id], "action": "not_appeal", "next": f"/tickets/{b.id}"})
    assert (fresh(a).status, fresh(b).status, fresh(triaged).status) == ("spam", "not_appeal", "triaged")


def test_bulk_merge_skips_the_target_itself(make, login_as, client):
    target, x, y = make.ticket(), make.ticket(), make.ticket()
    login_as(make.user("operator"))
    english(client)
    response = post_bulk(client, {"ticket_ids": [target.id, x.id, y.id], "action": "merge",
                                  "target_id": target.id, "next": f"/tickets/{target.id}"})
    assert f"2 merged into #{target.id}, 1 skipped: #{target.id} is the target" in page(response)
    assert fresh(x).merged_into_id == fresh(y).merged_into_id == target.id
    assert fresh(target).status == "new"


def test_bulk_with_a_bad_target_or_department_changes_nothing(make, login_as, client):
    a = make.ticket()
    login_as(make.user("operator"))
    english(client)
    response = post_bulk(client, {"ticket_ids": [a.id], "action": "merge", "target_id": 999999,
                                  "next": f"/tickets/{a.id}"})
    assert "Ticket #999999 not found." in page(response)
    response = post_bulk(client, {"ticket_ids": [a.id], "action": "route", "department_id": 999999,
                                  "next": f"/tickets/{a.id}"})
    assert "No such department." in page(response)
    assert fresh(a).status == "new"


def test_bulk_with_nothing_selected_says_so(make, login_as, client):
    a = make.ticket()
    login_as(make.user("operator"))
    response = post_bulk(client, {"action": "spam", "next": f"/tickets/{a.id}"})
    assert "Отметьте хотя бы одно обращение." in page(response)  # Russian by default
    assert fresh(a).status == "new"


def test_bulk_redirects_only_within_the_site(make, login_as, client):
    a = make.ticket()
    login_as(make.user("operator"))
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = post_bulk(client, {"ticket_ids": [a.id], "action": "spam", "next": target}, follow=False)
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"]
    assert fresh(a).status == "spam"


def test_head_cannot_use_bulk(make, login_as, client):
    dept = make.department()
    ticket = routed(make, dept, make.user("operator"))
    login_as(make.user("department_head", department=dept))
    assert post_bulk(client, {"ticket_ids": [ticket.id], "action": "spam"}).status_code == 403
    assert fresh(ticket).status == "triaged"


def test_a_merge_is_confirmed_shows_the_thread_and_can_be_undone(make, login_as, client):
    from desk.tickets import services as tickets

    operator = make.user("operator")
    account = make.account()
    incident = make.ticket(account, "Нет воды на Садовой", author_name="Анна")
    other = make.ticket(account, "И у нас на Садовой 12 нет воды", author_id="2002", author_name="Борис")
    login_as(operator)
    card = page(client.get(f"/tickets/{other.id}"))
    assert 'data-action="merge" data-confirm="Объединить это обращение' in card
    post_action(client, other.id, "merge", {"target_id": incident.id})
    assert fresh(other).merged_into_id == incident.id
    html = page(client.get(f"/tickets/{incident.id}"))
    assert 'data-test="merged-thread"' in html and "И у нас на Садовой 12 нет воды" in html
    response = post_action(client, other.id, "undo")
    other = fresh(other)
    assert other.status == "new" and other.merged_into_id is None
    assert "снова в очереди" in page(response) or f"№{other.id}" in page(response)
    assert 'data-test="merged-thread"' not in page(client.get(f"/tickets/{incident.id}"))
    assert [e.kind for e in fresh(incident).events][-1] == "unmerge_out"
    assert tickets.merge_root(other).id == other.id


def test_spam_offers_an_undo_on_the_next_page_once(make, login_as, client):
    operator = make.user("operator")
    ticket = make.ticket(make.account(), "Купите рекламу")
    login_as(operator)
    response = post_action(client, ticket.id, "spam")
    html = page(response)
    assert 'data-test="undo"' in html and "Передумали?" in html
    assert f'action="/tickets/{ticket.id}/undo"' in html
    assert 'data-test="undo"' not in page(client.get("/queue"))  # shown once
    token = csrf_from(html)
    client.post(f"/tickets/{ticket.id}/undo", data={"csrf_token": token})
    assert fresh(ticket).status == "new"


def test_bulk_spam_offers_an_undo_for_the_whole_batch(make, login_as, client):
    operator = make.user("operator")
    account = make.account()
    tickets = [make.ticket(account, f"Реклама {i}", author_id=str(3000 + i)) for i in range(3)]
    login_as(operator)
    response = post_bulk(client, {"ticket_ids": [t.id for t in tickets], "action": "spam"})
    html = page(response)
    assert 'data-test="undo"' in html and 'name="action" value="undo"' in html
    token = csrf_from(html)
    client.post("/tickets/bulk", data={"csrf_token": token, "action": "undo",
                                       "ticket_ids": [t.id for t in tickets]})
    assert [fresh(t).status for t in tickets] == ["new", "new", "new"]
