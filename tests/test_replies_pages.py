"""The composer on the card, the approval list, the outbox page, canned replies, the API."""
from __future__ import annotations

from desk.extensions import db
from desk.models import ApiToken, Role
from desk.models.replies import CannedReply, Reply, ReplyDelivery
from desk.queue import get_queue

from .conftest import csrf_from


def post(client, url: str, data: dict, page: str = "/replies/approvals"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=True)


def logout(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/", follow_redirects=True).get_data(as_text=True))})


def routed(make, approval: bool, platform: str = "vk"):
    dept = make.department("ЖКХ", answers_need_approval=approval)
    account = make.account(platform, settings={"group_id": 42})
    ticket = make.ticket(account, "Когда починят трубу?", external_id="-42_7", thread_ref="-42_5")
    ticket.department_id = dept.id
    ticket.status = "in_progress"
    db.session.commit()
    head = make.user(Role.DEPARTMENT_HEAD, department=dept)
    return ticket, head


def test_card_shows_composer_with_canned_replies_counters_and_preview_data(make, login_as):
    ticket, head = routed(make, approval=False)
    db.session.add(CannedReply(title="Принято", body="{name}, заявка #{ticket} принята", department_id=ticket.department_id))
    db.session.add(CannedReply(title="Чужое", body="x", department_id=make.department().id))
    db.session.commit()
    client = login_as(head)
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-test="composer"' in html and "Принято" in html and "Чужое" not in html
    assert 'data-counter="vk" data-limit="16384"' in html
    assert "Иван Петров" in html  # placeholder values for the live preview


def test_head_answer_waits_for_approval_and_is_approved_from_the_list(make, login_as, client):
    ticket, head = routed(make, approval=True)
    login_as(head)
    response = post(client, f"/tickets/{ticket.id}/replies", {"text": "<b>Починим</b> {name}"}, f"/tickets/{ticket.id}")
    assert response.status_code == 200
    reply = db.session.scalars(db.select(Reply)).one()
    assert reply.state == "pending_approval" and not db.session.scalars(db.select(ReplyDelivery)).all()
    assert get_queue().count == 0
    logout(client)
    operator = make.user(Role.OPERATOR)
    login_as(operator)
    page = client.get("/replies/approvals").get_data(as_text=True)
    assert "&lt;b&gt;Починим&lt;/b&gt;" in page  # escaped, never rendered as HTML
    # what the resident will read, placeholders filled in, and the count in the top bar
    assert "&lt;b&gt;Починим&lt;/b&gt; Иван Петров</div>" in page
    assert 'data-test="pending-approvals" title="Ответы ждут согласования">1</span>' in page
    post(client, f"/replies/{reply.id}/approve", {"text": "Починим, {name}.", "next": "/replies/approvals"})
    db.session.refresh(reply)
    [row] = reply.deliveries
    assert reply.state == "approved" and row.text == "Починим, Иван Петров." and row.state == "queued"
    assert get_queue().count == 1
    assert 'data-test="pending-approvals"' not in client.get("/replies/approvals").get_data(as_text=True)


def test_send_back_with_a_comment_then_the_author_revises(make, login_as, client):
    ticket, head = routed(make, approval=True)
    reply = Reply(ticket_id=ticket.id, author_id=head.id, text="Черновик", state="pending_approval")
    db.session.add(reply)
    db.session.commit()
    login_as(make.user(Role.OPERATOR))
    post(client, f"/replies/{reply.id}/send-back", {"comment": "Добавьте срок"})
    db.session.refresh(reply)
    assert reply.state == "returned" and reply.review_comment == "Добавьте срок"
    logout(client)
    login_as(head)
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Добавьте срок" in html
    bell = client.get("/notifications/").get_data(as_text=True)  # the author is told, in Russian
    assert f"Ваш ответ по обращению №{ticket.id} вернули на доработку: Добавьте срок" in bell
    post(client, f"/replies/{reply.id}/revise", {"text": "Починим до пятницы"}, f"/tickets/{ticket.id}")
    db.session.refresh(reply)
    assert reply.state == "pending_approval" and reply.text == "Починим до пятницы"


def test_too_long_answer_is_refused_with_the_networks_limit(make, login_as, client, app):
    app.config["REPLY_LIMIT_VK"] = 10
    ticket, head = routed(make, approval=False)
    login_as(head)
    html = post(client, f"/tickets/{ticket.id}/replies", {"text": "x" * 11}, f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "11 &gt; 10" in html and not db.session.scalars(db.select(Reply)).all()


def test_other_departments_head_gets_404(make, login_as, client):
    ticket, _head = routed(make, approval=False)
    stranger = make.user(Role.DEPARTMENT_HEAD, department=make.department())
    login_as(stranger)
    assert post(client, f"/tickets/{ticket.id}/replies", {"text": "x"}, "/inbox").status_code == 404


def test_outbox_page_lists_unknown_and_failed_and_marks_sent(make, login_as, client):
    ticket, _ = routed(make, approval=False)
    operator = make.user(Role.OPERATOR)
    reply = Reply(ticket_id=ticket.id, author_id=operator.id, text="Ответ", state="approved")
    row = ReplyDelivery(reply=reply, ticket_id=ticket.id, account_id=ticket.account_id, platform="vk",
                        thread_ref="-42_5", target_external_id="-42_7", outbox_key="k1", text="Ответ", state="unknown",
                        last_error="no answer after sending")
    db.session.add_all([reply, row])
    db.session.commit()
    login_as(operator)
    html = client.get("/replies/outbox").get_data(as_text=True)
    assert "no answer after sending" in html and 'data-state="unknown"' in html
    post(client, f"/replies/deliveries/{row.id}/confirm", {"permalink": "https://vk.com/wall-42_5?reply=9"}, "/replies/outbox")
    db.session.refresh(row)
    assert row.state == "sent" and row.permalink.endswith("reply=9")
    db.session.refresh(ticket)
    assert ticket.first_reply_at is not None


def test_a_failed_answer_is_told_to_its_author_who_sees_the_departments_outbox(make, login_as, client):
    from desk.replies import outbox

    ticket, head = routed(make, approval=False)
    other_ticket, _other_head = routed_elsewhere(make)
    reply = Reply(ticket_id=ticket.id, author_id=head.id, text="Починим", state="approved")
    row = ReplyDelivery(reply=reply, ticket_id=ticket.id, account_id=ticket.account_id, platform="vk",
                        thread_ref="-42_5", outbox_key="k-fail", text="Починим", state="sending")
    foreign = Reply(ticket_id=other_ticket.id, author_id=_other_head.id, text="Чужой", state="approved")
    foreign_row = ReplyDelivery(reply=foreign, ticket_id=other_ticket.id, account_id=other_ticket.account_id,
                                platform="vk", thread_ref="-43_5", outbox_key="k-foreign", text="Чужой ответ",
                                state="failed", last_error="x")
    db.session.add_all([reply, row, foreign, foreign_row])
    db.session.flush()
    outbox.mark_failed(row, "VK error 15: access denied", 15)
    db.session.commit()
    login_as(head)
    bell = client.get("/notifications/").get_data(as_text=True)
    assert f"Ваш ответ по обращению №{ticket.id} не удалось опубликовать в ВКонтакте" in bell
    page = client.get("/replies/outbox").get_data(as_text=True)
    assert page.count('data-test="delivery"') == 1 and "Починим" in page and "Чужой ответ" not in page
    # the reader's language first; the network's own words only under "technical details"
    assert "Сеть отказала в публикации (код 15)" in page
    assert "<summary>Технические подробности</summary><code>VK error 15: access denied</code>" in page


def test_a_missing_token_is_explained_on_the_card(make, login_as, client):
    from desk.replies import outbox

    ticket, head = routed(make, approval=False, platform="max")
    reply = Reply(ticket_id=ticket.id, author_id=head.id, text="Ответ", state="approved")
    row = ReplyDelivery(reply=reply, ticket_id=ticket.id, account_id=ticket.account_id, platform="max",
                        thread_ref="c1", outbox_key="k-max", text="Ответ", state="sending")
    db.session.add_all([reply, row])
    db.session.flush()
    outbox.mark_failed(row, "the max account has no bot_token")
    db.session.commit()
    login_as(head)
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "У аккаунта не задан ключ «bot_token»" in html


def test_the_flash_says_what_really_happened(make, login_as, client):
    ticket, head = routed(make, approval=False)
    login_as(head)
    html = post(client, f"/tickets/{ticket.id}/replies", {"text": "Починим"}, f"/tickets/{ticket.id}")
    text = html.get_data(as_text=True)
    assert "Ответ одобрен: поставлен в очередь на публикацию в ВКонтакте" in text
    assert "вы получите уведомление" in text


def routed_elsewhere(make):
    dept = make.department("Дороги")
    account = make.account("vk", settings={"group_id": 43})
    ticket = make.ticket(account, "Яма", external_id="-43_7", thread_ref="-43_5")
    ticket.department_id, ticket.status = dept.id, "in_progress"
    db.session.commit()
    return ticket, make.user(Role.DEPARTMENT_HEAD, department=dept)


def test_admin_manages_canned_replies(make, login_as, client):
    login_as(make.user(Role.ADMIN))
    post(client, "/replies/canned", {"title": "Спасибо", "body": "Спасибо, {name}!", "department_id": "",
                                     "category_id": ""}, "/replies/canned")
    item = db.session.scalars(db.select(CannedReply)).one()
    assert item.body == "Спасибо, {name}!" and item.department_id is None
    post(client, f"/replies/canned/{item.id}/toggle", {}, "/replies/canned")
    db.session.refresh(item)
    assert item.is_active is False


def test_a_head_manages_the_departments_canned_replies_only(make, login_as, client):
    ticket, head = routed(make, approval=False)
    other = make.department("Дороги")
    city_wide = CannedReply(title="Спасибо", body="Спасибо, {name}!")
    foreign = CannedReply(title="Чужой", body="Дороги отремонтируют", department_id=other.id)
    db.session.add_all([city_wide, foreign])
    db.session.commit()
    login_as(head)
    card = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-test="manage-canned"' in card  # reachable from where they write
    page = client.get("/replies/canned").get_data(as_text=True)
    assert "Спасибо" in page and "общегородской" in page and "Чужой" not in page
    assert f'<option value="{other.id}"' not in page  # a head writes for the own department only
    post(client, "/replies/canned", {"title": "Сроки", "body": "Починим до {department}", "department_id":
                                     str(ticket.department_id), "category_id": ""}, "/replies/canned")
    mine = db.session.scalars(db.select(CannedReply).where(CannedReply.title == "Сроки")).one()
    post(client, f"/replies/canned/{mine.id}", {"title": "Сроки ремонта", "body": "Починим за 3 дня",
                                                "department_id": str(ticket.department_id), "category_id": ""},
         f"/replies/canned/{mine.id}")
    db.session.refresh(mine)
    assert (mine.title, mine.body) == ("Сроки ремонта", "Починим за 3 дня")
    # another department's reply, or a city-wide one: not theirs to change
    for item in (foreign, city_wide):
        assert client.get(f"/replies/canned/{item.id}").status_code == 404
        assert post(client, f"/replies/canned/{item.id}/toggle", {}, "/replies/canned").status_code == 404
    forged = post(client, "/replies/canned", {"title": "X", "body": "Y", "department_id": str(other.id),
                                              "category_id": ""}, "/replies/canned")
    assert forged.status_code == 200 and not db.session.scalars(
        db.select(CannedReply).where(CannedReply.title == "X")).all()


def test_api_posts_and_lists_replies_with_their_state(make, client):
    ticket, head = routed(make, approval=True)
    token, plain = ApiToken.issue(head, "t")
    db.session.add(token)
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    response = client.post(f"/api/v1/tickets/{ticket.id}/replies", json={"text": "Ответ"}, headers=headers)
    assert response.status_code == 201 and response.json["state"] == "pending_approval"
    assert client.post(f"/api/v1/tickets/{ticket.id}/replies", json={"text": ""}, headers=headers).status_code == 422
    assert client.post(f"/api/v1/tickets/{ticket.id}/replies", json={"txt": "a"}, headers=headers).status_code == 400
    listed = client.get(f"/api/v1/tickets/{ticket.id}/replies", headers=headers).json["items"]
    assert [r["state"] for r in listed] == ["pending_approval"] and listed[0]["deliveries"] == []
