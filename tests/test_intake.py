"""Appeals filed straight with the desk (web form, Open311): the one door, the intake
accounts kept off the networks' pages, answers published at once and e-mailed, status
letters once per status, one-click unsubscribe."""
from __future__ import annotations

import pytest

from desk import jobs
from desk.extensions import db
from desk.intake import mail
from desk.intake.services import Filing, file_appeal
from desk.models import Account, Role, Ticket, TicketStatus
from desk.models.intake import ResidentContact, Submission
from desk.models.replies import DeliveryState, ReplyDelivery
from desk.queue import get_queue
from desk.status_page.tokens import status_path
from desk.tickets import services as tickets
from desk.tickets.workflow import change_status

from .conftest import csrf_from
from .mail_support import smtp_server  # noqa: F401  (fixture)


def run_resident_mail() -> list[tuple[str, tuple]]:
    """Run the queued resident e-mail jobs here, in order (deterministic: no worker)."""
    ran = []
    for job in get_queue().get_jobs():
        if job.func_name.startswith("workers.residents."):
            ran.append((job.func_name, tuple(job.args)))
            job.func(*job.args)
            job.delete()
    return ran


@pytest.fixture
def city(make):
    housing = make.department("ЖКХ")
    water = make.category("Нет горячей воды", default_department=housing, direction="housing")
    operator = make.user(Role.OPERATOR)
    head = make.user(Role.DEPARTMENT_HEAD, department=housing)
    return {"housing": housing, "water": water, "operator": operator, "head": head}


def file_web(city, **kw) -> Ticket:
    values = {"channel": "web", "description": "Нет горячей воды в доме Садовая 12, звоните +7 912 345-67-89",
              "category": city["water"], "name": "Анна Смирнова", "email": "anna@example.org",
              "address": "Садовая, 12", "lat": 56.84, "long": 60.6, "consent": True, **kw}
    ticket, _ = file_appeal(Filing(**values))
    db.session.commit()
    return ticket


def test_filing_opens_a_new_ticket_through_the_one_door(city):
    ticket = file_web(city)
    assert ticket.platform == "web" and ticket.status == TicketStatus.NEW.value
    assert ticket.category_id == city["water"].id and ticket.direction == "housing"
    assert ticket.department_id is None  # an operator routes it, like any comment
    assert ticket.messages[0].text.startswith("Нет горячей воды") and ticket.author_name == "Анна Смирнова"
    assert ticket.reaction_due_at is not None  # the SLA clock runs
    submission = db.session.scalars(db.select(Submission)).one()
    assert (submission.address, submission.lat, submission.channel) == ("Садовая, 12", 56.84, "web")
    assert submission.consent_at is not None
    contact = db.session.scalars(db.select(ResidentContact)).one()
    assert contact.email == "anna@example.org" and contact.subscribed and contact.token
    assert [(j.func_name, tuple(j.args)) for j in get_queue().get_jobs()] == [(jobs.RESIDENT_FILED, (ticket.id,))]
    second = file_web(city, email="")
    assert second.account_id == ticket.account_id  # one intake account per channel
    assert db.session.scalar(db.select(db.func.count()).select_from(ResidentContact)) == 1


def test_the_intake_accounts_stay_off_the_networks_pages(city, make, login_as):
    file_web(city)
    file_appeal(Filing(channel="open311", description="Яма на дороге", category=city["water"]))
    make.account("vk", name="Город во ВКонтакте")
    db.session.commit()
    assert {a.platform for a in db.session.scalars(db.select(Account))} == {"web", "open311", "vk"}
    assert [a.platform for a in db.session.scalars(db.select(Account).where(Account.on_networks()))] == ["vk"]
    client = login_as(make.user(Role.ADMIN))
    for path in ("/admin/accounts", "/admin/collectors/", "/accounts"):
        html = client.get(path).get_data(as_text=True)
        assert "Сайт города" not in html and "Open311" not in html, path
    web = db.session.scalars(db.select(Account).where(Account.platform == "web")).one()
    assert client.get(f"/admin/accounts/{web.id}").status_code == 404


def test_resident_follows_the_appeal_by_status_page_and_e_mail(city, client, login_as, smtp_server):
    ticket = file_web(city)
    assert run_resident_mail() == [(jobs.RESIDENT_FILED, (ticket.id,))]
    [filed] = smtp_server.letters("anna@example.org")
    assert f"№{ticket.id}" in filed["Subject"]
    assert status_path(ticket) in filed.get_content()
    assert filed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in filed["List-Unsubscribe"]

    operator = login_as(city["operator"])
    token = csrf_from(operator.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    response = operator.post(f"/tickets/{ticket.id}/route", data={
        "csrf_token": token, "department_id": city["housing"].id, "category_id": city["water"].id,
        "priority": "normal"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == TicketStatus.TRIAGED.value
    run_resident_mail()
    routed = smtp_server.letters("anna@example.org")[-1]
    assert "Передано в отдел" in routed["Subject"] or "передано" in routed.get_content().lower()
    operator.post("/logout", data={"csrf_token": token})

    head = login_as(city["head"])
    token = csrf_from(head.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    answer = "Здравствуйте, {name}! Горячую воду дадут 12 декабря. Статус: {status_link}"
    response = head.post(f"/tickets/{ticket.id}/replies", data={"csrf_token": token, "text": answer})
    assert response.status_code == 302
    delivery = db.session.scalars(db.select(ReplyDelivery)).one()
    assert delivery.state == DeliveryState.SENT.value  # published at once: no network to wait for
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).first_reply_at is not None  # the reaction counts

    page = client.get(status_path(ticket)).get_data(as_text=True)
    assert "Горячую воду дадут 12 декабря" in page
    assert "+7 912" not in page and "anna@example.org" not in page  # personal data masked

    assert (jobs.RESIDENT_ANSWERED, (delivery.id,)) in run_resident_mail()
    letters = smtp_server.letters("anna@example.org")
    answered = next(m for m in letters if "Ответ города" in m["Subject"])
    assert "Горячую воду дадут 12 декабря" in answered.get_content()
    assert "Анна Смирнова" in answered.get_content()
    mail.mail_answer(delivery.id)  # a retried job sends nothing twice
    assert len(smtp_server.letters("anna@example.org")) == len(letters)


def test_a_status_is_told_once_and_spam_never(city, smtp_server):
    ticket = file_web(city)
    run_resident_mail()
    tickets.route(ticket, city["operator"], department=city["housing"], category=city["water"])
    db.session.commit()
    run_resident_mail()
    count = len(smtp_server.messages)
    assert mail.mail_status(ticket.id) == 0  # the same status again: no second letter
    spam = file_web(city, email="bot@example.org")
    change_status(spam, TicketStatus.SPAM, city["operator"])
    db.session.commit()
    run_resident_mail()
    assert smtp_server.letters("bot@example.org") == []
    assert len(smtp_server.messages) == count


def test_a_web_appeal_merged_into_an_incident_gets_its_answers(city, make, smtp_server):
    account = make.account("vk", settings={"group_id": 42})
    incident = make.ticket(account, "Нет горячей воды на Садовой", external_id="-42_7", thread_ref="-42_5")
    tickets.route(incident, city["operator"], department=city["housing"], category=city["water"])
    ticket = file_web(city)
    run_resident_mail()
    tickets.merge(ticket, incident, city["operator"])
    db.session.commit()
    run_resident_mail()
    joined = smtp_server.letters("anna@example.org")[-1]
    assert f"№{incident.id}" in joined.get_content()
    from desk.replies import services as replies
    reply = replies.compose(incident, city["head"], "Воду дадут завтра")
    db.session.commit()
    direct = [d for d in reply.deliveries if d.platform == "web"]
    assert [d.state for d in direct] == [DeliveryState.SENT.value]
    assert [d.state for d in reply.deliveries if d.platform == "vk"] == [DeliveryState.QUEUED.value]
    run_resident_mail()
    assert "Воду дадут завтра" in smtp_server.letters("anna@example.org")[-1].get_content()


def test_one_click_unsubscribes_and_the_resident_can_come_back(city, client, smtp_server):
    ticket = file_web(city)
    run_resident_mail()
    contact = db.session.scalars(db.select(ResidentContact)).one()
    response = client.get(f"/unsubscribe/{contact.token}")
    assert response.status_code == 200 and "Вы отписались" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    db.session.expire_all()
    assert not db.session.get(ResidentContact, contact.id).subscribed
    tickets.route(ticket, city["operator"], department=city["housing"], category=city["water"])
    db.session.commit()
    run_resident_mail()
    assert len(smtp_server.letters("anna@example.org")) == 1  # only the confirmation

    assert client.post(f"/unsubscribe/{contact.token}/resubscribe").status_code == 200
    db.session.expire_all()
    assert db.session.get(ResidentContact, contact.id).subscribed
    # RFC 8058: the mail client's one-click POST, no CSRF token, no cookie
    assert client.post(f"/unsubscribe/{contact.token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    assert not db.session.get(ResidentContact, contact.id).subscribed

    missing = client.get("/unsubscribe/nope")
    assert missing.status_code == 404
    assert missing.get_data() == client.get("/status/1-000000000000").get_data()
    assert client.get("/unsubscribe/" + "x" * 500).status_code == 404
    for odd in ("%00", "a%00b", "%D0%B6", "..%2F..", "x'--"):  # never a query with them (PostgreSQL: no NUL)
        assert client.get(f"/unsubscribe/{odd}").status_code == 404
        assert client.post(f"/unsubscribe/{odd}/resubscribe").status_code == 404
    english = client.get(f"/unsubscribe/{contact.token}?lang=en").get_data(as_text=True)
    assert "You have unsubscribed" in english


def test_a_refused_letter_is_retried_not_lost(city, app):
    ticket = file_web(city)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=1)
    with pytest.raises(mail.MailNotSent):
        mail.mail_filed(ticket.id)
    db.session.expire_all()
    assert db.session.scalars(db.select(ResidentContact)).one().last_notified is None


def test_english_resident_gets_english_letters(city, smtp_server):
    ticket = file_web(city, locale="en")
    run_resident_mail()
    [letter] = smtp_server.letters()
    assert "has been received" in letter["Subject"] and "?lang=en" in letter.get_content()
    assert status_path(ticket) in letter.get_content()


def test_the_card_shows_what_the_resident_gave(city, make, login_as):
    ticket = file_web(city, media_url="javascript:alert(1)")
    operator = login_as(city["operator"])
    html = operator.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'data-test="submission"' in html and "Садовая, 12" in html
    assert "anna@example.org" in html and "получает ответы по почте" in html
    assert "openstreetmap.org/?mlat=56.840000" in html
    assert "javascript:" not in html  # only http(s) media links are kept
    account = make.account("vk")
    other = make.ticket(account, "Комментарий из ВК")
    assert 'data-test="submission"' not in operator.get(f"/tickets/{other.id}").get_data(as_text=True)
