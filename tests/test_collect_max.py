"""MAX collector: strict fake over real HTTP, marker semantics, every update type,
the webhook's secret, duplicates and faults."""
from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from desk.channels.errors import PermanentError
from desk.channels.max import MaxClient
from desk.extensions import db
from desk.models import CollectorState, DeadLetter, Message, Post, Ticket, WebhookDelivery
from desk.models.replies import Reply, ReplyDelivery
from tests.collect_helpers import all_rows, drain_queue, no_sleep, poll_through_faults
from tests.fakes.max import BOT_USER_ID, FakeMax
from workers.collectors import max as max_collector
from workers.collectors.base import poll_account

TOKEN = "max-secret-bot-token"
SECRET = "hook_Secret-123"
CHANNEL = -71234567890


@pytest.fixture
def fake(app):
    with FakeMax(TOKEN, seed=7, channel_id=CHANNEL) as server:
        server.hang_seconds = 1.5
        app.config["MAX_API_BASE"] = server.url
        app.config["MAX_HTTP_TIMEOUT"] = 1.0
        yield server


@pytest.fixture
def account(make):
    return make.account("max", settings={"chat_id": CHANNEL, "bot_user_id": BOT_USER_ID},
                        credentials={"bot_token": TOKEN, "webhook_secret": SECRET})


def message_by(external_id: str) -> Message:
    return db.session.scalars(db.select(Message).where(Message.external_id == external_id)).one()


# -- the fake is as strict as MAX ---------------------------------------------------------

def test_bearer_prefix_and_query_token_are_rejected(fake):
    with MaxClient(fake.url, f"Bearer {TOKEN}") as client, pytest.raises(PermanentError) as exc:
        client.get_updates(None)
    assert exc.value.code == "verify.token"
    answer = httpx.get(f"{fake.url}/updates", params={"access_token": TOKEN})
    assert answer.status_code == 401 and answer.json()["code"] == "verify.token"
    with MaxClient(fake.url, TOKEN) as client:
        assert client.get_updates(None)["updates"] == []


def test_marker_commits_earlier_updates_and_omitting_it_rereads(fake):
    post = fake.channel_post()
    fake.comment(post, "Первый")
    fake.comment(post, "Второй")
    with MaxClient(fake.url, TOKEN) as client:
        first = client.get_updates(None)
        again = client.get_updates(None)  # nothing committed yet: the same three
        assert len(first["updates"]) == 3 and again["updates"] == first["updates"]
        assert client.get_updates(first["marker"])["updates"] == []  # commits the three
        assert client.get_updates(None)["updates"] == []
        fake.comment(post, "Третий")
        late = client.get_updates(None)["updates"]
    assert [u["message"]["body"]["text"] for u in late] == ["Третий"]
    assert all(u["timestamp"] > 1_600_000_000_000 for u in first["updates"])  # milliseconds


def test_subscriptions_validate_the_secret_and_block_long_polling(fake):
    with MaxClient(fake.url, TOKEN) as client:
        with pytest.raises(PermanentError):
            client.subscribe("https://desk.example/hooks/max/1", "bad secret!")
        with pytest.raises(PermanentError):
            client.subscribe("https://desk.example/hooks/max/1", "abcd")  # shorter than 5
        assert client.subscribe("https://desk.example/hooks/max/1", SECRET)["success"] is True
        assert [s["url"] for s in client.subscriptions()] == ["https://desk.example/hooks/max/1"]
        with pytest.raises(PermanentError):
            client.get_updates(None)  # polling and a webhook never run together
        client.unsubscribe("https://desk.example/hooks/max/1")
        assert client.subscriptions() == []
        assert client.get_chat(CHANNEL)["participants_count"] == 15234


def test_fake_records_replies_and_refuses_comment_attachments(fake):
    post = fake.channel_post()
    headers = {"Authorization": TOKEN}
    mid = post["message"]["body"]["mid"]
    refused = httpx.post(f"{fake.url}/messages/{mid}/comments", headers=headers,
                         json={"text": "x", "attachments": [{"type": "image"}]})
    assert refused.status_code == 400 and refused.json()["code"]
    sent = httpx.post(f"{fake.url}/messages/{mid}/comments", headers=headers,
                      json={"text": "Заявка принята", "link": {"type": "reply", "mid": "mid.1"}})
    assert sent.status_code == 200 and sent.json()["message"]["recipient"]["post_id"] == mid
    chat = httpx.post(f"{fake.url}/messages", params={"chat_id": -5}, headers=headers, json={"text": "Ответ"})
    assert chat.status_code == 200
    assert [c["text"] for c in fake.sent_comments] == ["Заявка принята"]
    assert fake.sent_messages[0]["chat_id"] == "-5"


# -- polling ---------------------------------------------------------------------------

def test_every_update_type_lands_where_a_person_expects_it(fake, account):
    resident = fake.user(5550001, "Иван", "Петров")
    neighbour = fake.user(5550003, "Олег", None)
    post = fake.channel_post("Ремонт улицы Ленина начнётся 1 июня")
    comment = fake.comment(post, "Когда починят дорогу?", resident)
    reply = fake.comment(post, "У нас тоже ямы", neighbour, reply_to=comment)
    fake.edit_comment(comment, "Когда починят дорогу у дома 5?")
    doomed = fake.comment(post, "Оскорбление", fake.user(5550004, "Аноним"))
    fake.remove_comment(doomed)
    chat_msg = fake.chat_message(-600100, "В подъезде нет света", fake.user(5550005, "Мария", "Иванова"))
    chat_reply = fake.chat_message(-600100, "И у нас", fake.user(5550006, "Пётр"), reply_to=chat_msg)
    fake.chat_message(-600100, "Спасибо, передали", fake.user(BOT_USER_ID, "Бот", None, is_bot=True))
    dialog = fake.chat_message(7770001, "Вопрос по отоплению", fake.user(5550007, "Анна"), chat_type="dialog")
    fake.bot_started(7770001, fake.user(5550007, "Анна"))

    counts = poll_account(account.id, sleep=no_sleep)

    post_row = db.session.scalars(db.select(Post)).one()
    assert post_row.external_id == post["message"]["body"]["mid"]
    assert post_row.text == "Ремонт улицы Ленина начнётся 1 июня" and post_row.link

    first = message_by(comment["message"]["body"]["mid"])
    assert first.text == "Когда починят дорогу у дома 5?" and first.is_edited
    assert [r.text for r in first.revisions] == ["Когда починят дорогу?"]
    assert first.author_name == "Иван Петров" and first.author_external_id == "5550001"
    assert first.thread_ref == post_row.external_id and first.post_id == post_row.id
    assert first.sent_at == datetime.fromtimestamp(comment["message"]["timestamp"] / 1000, tz=UTC)

    second = message_by(reply["message"]["body"]["mid"])
    assert second.reply_to_external_id == first.external_id and second.ticket_id != first.ticket_id

    assert message_by(doomed["message"]["body"]["mid"]).is_deleted

    in_chat = message_by(chat_msg["message"]["body"]["mid"])
    assert in_chat.thread_ref == "chat:-600100" and in_chat.post_id is None
    assert message_by(chat_reply["message"]["body"]["mid"]).reply_to_external_id == in_chat.external_id
    assert message_by(dialog["message"]["body"]["mid"]).thread_ref == "chat:7770001"

    texts = {m.text for m in all_rows(Message)}
    assert "Спасибо, передали" not in texts  # the bot's own message is no ticket
    assert len(all_rows(Ticket)) == 6 and counts.dead == 0  # the deleted one stays, marked
    assert int(db.session.scalars(db.select(CollectorState.cursor)).one()) == len(fake.updates)


def test_a_crash_before_commit_loses_nothing(fake, account, app):
    post = fake.channel_post()
    for n in range(5):
        fake.comment(post, f"Комментарий {n}", fake.user(5551000 + n))
    # A worker fetches, then dies before its transaction commits: the marker it got is lost.
    max_collector.fetch(account, None, app.config)
    poll_account(account.id, sleep=no_sleep)
    poll_account(account.id, sleep=no_sleep)
    assert sorted(m.text for m in all_rows(Message)) == [f"Комментарий {n}" for n in range(5)]


def test_an_unreadable_update_becomes_a_dead_letter_and_the_rest_lands(fake, account):
    post = fake.channel_post()
    fake.add({"update_type": "comment_created", "timestamp": 1767225700000,
              "message": {"recipient": {"chat_type": "channel"}, "body": {"mid": "mid.broken", "seq": 1}}})
    fake.comment(post, "Нормальный комментарий")
    counts = poll_account(account.id, sleep=no_sleep)
    assert counts.dead == 1 and [m.text for m in all_rows(Message)] == ["Нормальный комментарий"]
    letter = db.session.scalars(db.select(DeadLetter)).one()
    assert "post_id" in letter.error and "mid.broken" in letter.payload


def test_faults_end_with_every_comment_exactly_once(fake, account, app):
    app.config["MAX_POLL_LIMIT"] = 7
    posts = [fake.channel_post(f"Пост {n}") for n in range(3)]
    expected = []
    for n in range(45):
        update = fake.comment(posts[n % 3], f"Жалоба {n}", fake.user(5560000 + n))
        expected.append(update["message"]["body"]["mid"])
    fake.fail_next("503", "truncated", "429", "hang", "500")  # each kind at least once
    fake.fail_randomly(0.3)
    poll_through_faults(account.id, lambda: len(all_rows(Message)) == len(expected))
    fake.fail_randomly(0.0)
    poll_account(account.id, sleep=no_sleep)
    assert sorted(m.external_id for m in all_rows(Message)) == sorted(expected)
    assert len(all_rows(Post)) == 3
    assert set(fake.faults_served) == {"429", "500", "503", "truncated", "hang"}


# -- webhook -----------------------------------------------------------------------------

def test_webhook_checks_the_secret_and_ingests_once(fake, account, live_server):
    url = f"{live_server.url}/hooks/max/{account.id}"
    post = fake.channel_post()
    comment = fake.comment(post, "Когда вывезут мусор?")
    assert fake.push(url, comment, secret=None).status_code == 403
    assert fake.push(url, comment, secret="wrong-secret").status_code == 403
    assert fake.push(url, comment, secret=SECRET.upper()).status_code == 403
    assert fake.push(url, comment, secret=SECRET).status_code == 200
    assert fake.push(url, comment, secret=SECRET).status_code == 200  # MAX re-delivers
    db.session.expire_all()
    assert len(all_rows(WebhookDelivery)) == 1
    drain_queue()
    db.session.expire_all()
    # The same comment also arrives by polling: still one message.
    poll_account(account.id, sleep=no_sleep)
    messages = all_rows(Message)
    assert [m.text for m in messages] == ["Когда вывезут мусор?"]
    assert len(all_rows(Ticket)) == 1


def test_webhook_for_an_account_without_a_secret_refuses_everything(fake, make, client):
    bare = make.account("max", credentials={"bot_token": TOKEN})
    answer = client.post(f"/hooks/max/{bare.id}", json={"update_type": "comment_created"},
                         headers={"X-Max-Bot-Api-Secret": ""})
    assert answer.status_code == 403
    assert client.post("/hooks/max/999999", json={}).status_code == 404


def test_a_rejected_token_is_reported_without_showing_it(fake, make, caplog):
    caplog.set_level("DEBUG")
    wrong = "wrong-but-secret-token-123"
    acc = make.account("max", settings={"chat_id": CHANNEL}, credentials={"bot_token": wrong})
    with pytest.raises(PermanentError):
        poll_account(acc.id, sleep=no_sleep)
    state = db.session.scalars(db.select(CollectorState)).one()
    assert "verify.token" in state.last_error
    assert wrong not in state.last_error and wrong not in caplog.text


# -- real variety: anonymous comments, media, forwards, service updates -----------------------

def test_the_fakes_variety_lands_as_residents_would_read_it(fake, account):
    post = fake.channel_post("Опрос: где поставить новую площадку?")
    anonymous = fake.comment(post, "Во дворе Кирова, 12", anonymous=True)
    photo = fake.comment(post, None, fake.user(5550010, "Олег", None), attachments=[fake.attachment("image")])
    original = fake.chat_message(-600200, "Завтра отключат воду с 10 до 14", fake.user(5550011, "Нина", None))
    fake.forward(-600100, original)
    fake.chat_message(-600100, None, fake.user(BOT_USER_ID, "Бот", None, is_bot=True),
                      attachments=[fake.attachment("inline_keyboard"), fake.attachment("image")])
    fake.callback(original)
    fake.service("bot_added", -600100, is_channel=False)

    counts = poll_account(account.id, sleep=no_sleep)

    first = message_by(anonymous["message"]["body"]["mid"])
    assert first.text == "Во дворе Кирова, 12" and first.author_name == "" and first.author_external_id is None
    assert first.post_id is not None  # an anonymous comment is a resident's, on the city's post
    assert message_by(photo["message"]["body"]["mid"]).text == "[фото]"
    forwarded = db.session.scalars(db.select(Message).where(Message.thread_ref == "chat:-600100")).one()
    assert forwarded.text == "[пересланное сообщение] Завтра отключат воду с 10 до 14"
    assert forwarded.author_name == "Мария Иванова"
    assert counts.dead == 0 and len(all_rows(Ticket)) == 4  # + the original message in its own chat


def test_a_comment_without_sender_is_the_desks_own_only_when_the_outbox_posted_it(fake, account):
    post = fake.channel_post()
    resident = fake.comment(post, "Когда починят фонарь?")
    poll_account(account.id, sleep=no_sleep)
    ticket = db.session.scalars(db.select(Ticket)).one()
    reply = Reply(ticket_id=ticket.id, text="Починим в пятницу", state="approved")
    db.session.add(reply)
    db.session.flush()
    resident_mid = resident["message"]["body"]["mid"]
    db.session.add(ReplyDelivery(reply_id=reply.id, ticket_id=ticket.id, account_id=account.id, platform="max",
                                 thread_ref=post["message"]["body"]["mid"], target_external_id=resident_mid,
                                 outbox_key="k-1", text="Починим в пятницу", state="sent",
                                 external_id="mid.desk-reply-1"))
    db.session.commit()
    echo = {"update_type": "comment_created", "timestamp": 1767225800000, "message": {
        "recipient": {"chat_id": CHANNEL, "chat_type": "channel", "post_id": post["message"]["body"]["mid"]},
        "timestamp": 1767225800000, "link": {"type": "reply", "message": {"mid": resident_mid, "seq": 1}},
        "body": {"mid": "mid.desk-reply-1", "seq": 2, "text": "Починим в пятницу"}}}
    fake.add(echo)
    fake.add(dict(echo, message=dict(echo["message"], body={"mid": "mid.resident-2", "seq": 3,
                                                             "text": "Спасибо, ждём"})))
    counts = poll_account(account.id, sleep=no_sleep)
    assert counts.skip_reasons == {"own comment": 1}
    assert [m.text for m in all_rows(Message)] == ["Когда починят фонарь?", "Спасибо, ждём"]


@pytest.mark.parametrize("body", ['"строка"', "[1, 2]", "42", "null", '{"message": "x"}',
                                  '{"update_type": "message_created", "message": {"body": "Нет воды"}}',
                                  '{"update_type": "message_created", "message": {"body": [{"mid": 1}]}}',
                                  '{"update_type": ["x"], "timestamp": {"a": 1}, "message_id": [1]}'])
def test_the_webhook_answers_200_to_any_json_and_files_what_it_cannot_read(fake, account, client, body):
    answer = client.post(f"/hooks/max/{account.id}", data=body, content_type="application/json",
                         headers={"X-Max-Bot-Api-Secret": SECRET})
    assert answer.status_code == 200
    drain_queue()
    db.session.expire_all()
    assert all_rows(Message) == []
    assert len(all_rows(DeadLetter)) == 1 and all(d.processed_at for d in all_rows(WebhookDelivery))
