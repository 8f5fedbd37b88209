"""OK collector: signed requests checked by a strict fake, anchor paging over many
topics, error mapping, faults, and the Bot API webhook."""
from __future__ import annotations

import json

import httpx
import pytest

from desk.channels.errors import PermanentError, RetryableError
from desk.channels.ok import OkClient, sign
from desk.extensions import db
from desk.models import CollectorState, Message, Post, Ticket, WebhookDelivery
from tests.collect_helpers import all_rows, drain_queue, no_sleep, poll_through_faults
from tests.fakes.ok import OK_FAULT_KINDS, FakeOk
from workers.collectors.base import poll_account

GROUP = "55348644610059"
KEYS = {"application_key": "CBAPUBLICKEY", "application_secret": "APPSECRET0123", "access_token": "tkn-ok-access"}
HOOK_TOKEN = "hookTokenX9f3kq0Lm2"


@pytest.fixture
def fake(app):
    with FakeOk(group_id=GROUP, seed=11, **KEYS) as server:
        server.hang_seconds = 1.5
        app.config["OK_API_BASE"] = server.url
        app.config["OK_HTTP_TIMEOUT"] = 1.0
        yield server


@pytest.fixture
def account(make):
    # laid out as `flask accounts import` stores it: the public application key is a setting
    return make.account("ok", settings={"group_id": GROUP, "application_key": KEYS["application_key"]},
                        credentials={"application_secret": KEYS["application_secret"],
                                     "access_token": KEYS["access_token"], "webhook_token": HOOK_TOKEN})


def client(fake: FakeOk, **override) -> OkClient:
    return OkClient(fake.url, **{**KEYS, **override})


# -- signature and errors ------------------------------------------------------------------

def test_signature_matches_a_hand_computed_example():
    params = {"application_key": "CBA", "format": "json", "method": "group.getInfo", "uids": "123",
              "fields": "members_count", "access_token": "tkn1", "sig": "ignored"}
    # md5("application_key=CBAfields=members_countformat=jsonmethod=group.getInfouids=123"
    #     + md5("tkn1sec2")), computed with md5sum
    assert sign(params, "tkn1", "sec2") == "69b5138bdedd8594332b0a8b38ea41b0"
    cyrillic = {"method": "x.y", "q": "Привет", "application_key": "CBA"}
    assert sign(cyrillic, "tkn1", "sec2") == "9bef4fc885b81583208d5948f236c42e"


def test_fake_verifies_the_signature_and_the_application_key(fake):
    with client(fake) as good:
        assert good.group_info(GROUP)["members_count"] == 10234
    with client(fake, application_secret="not-the-secret") as bad_sig, pytest.raises(PermanentError) as exc:
        bad_sig.group_info(GROUP)
    assert exc.value.code == 104 and "PARAM_SIGNATURE" in exc.value.description
    with client(fake, application_key="OTHERKEY") as bad_key, pytest.raises(PermanentError) as exc:
        bad_key.group_info(GROUP)
    assert exc.value.code == 101
    raw = httpx.post(f"{fake.url}/fb.do", data={"method": "group.getInfo", "application_key": KEYS["application_key"],
                                                "access_token": KEYS["access_token"], "uids": GROUP, "sig": "0" * 32})
    assert raw.status_code == 200 and raw.json()["error_code"] == 104 and raw.json()["error_data"] is None


@pytest.mark.parametrize("code,retryable", [(1, True), (2, True), (8, True), (100, False), (101, False),
                                            (102, False), (103, False), (104, False), (105, False),
                                            (200, False), (300, False), (453, False)])
def test_ok_error_codes_map_to_retry_or_give_up(code, retryable):
    answer = {"error_code": code, "error_msg": "X : y", "error_data": None}
    ok = OkClient("http://ok.test", **KEYS)
    ok.transport.client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=answer)))
    with pytest.raises(RetryableError if retryable else PermanentError) as exc:
        ok.call("group.getInfo", uids=GROUP)
    assert exc.value.code == code
    assert retryable == isinstance(exc.value, RetryableError)


def test_flood_and_server_errors_are_retryable(fake):
    fake.fail_next("flood", "500", "truncated")
    with client(fake) as ok:
        for _ in range(3):
            with pytest.raises(RetryableError):
                ok.group_info(GROUP)
        assert ok.group_info(GROUP)["uid"] == GROUP


def test_token_is_not_sent_in_the_url(fake):
    with client(fake) as ok:
        ok.group_info(GROUP)
    request = fake.requests[-1]
    assert "access_token" not in request.args and request.body["access_token"] == KEYS["access_token"]


# -- polling ---------------------------------------------------------------------------------

def test_anchor_paging_over_several_topics_collects_each_comment_once(fake, account, app):
    app.config["OK_PAGE_SIZE"] = 3
    roads, rink, quiet = fake.topic("Ремонт дорог"), fake.topic("Каток"), fake.topic("Тишина")
    road_comments = [fake.comment(roads, f"Яма {n}", author_id=str(571000 + n), author_name=f"Житель {n}")
                     for n in range(7)]
    fake.comment(roads, "Согласен", author_id="571999", reply_to=road_comments[0])
    fake.comment(roads, "Спасибо за обращение", author_id=GROUP, author_name="Спорт Белогорска")
    for n in range(4):
        fake.comment(rink, f"Лёд {n}")

    counts = poll_account(account.id, sleep=no_sleep)

    posts = {p.external_id: p for p in all_rows(Post)}
    assert set(posts) == {roads["id"], rink["id"], quiet["id"]}
    assert posts[roads["id"]].text == "Ремонт дорог" and posts[roads["id"]].link.endswith(roads["id"])
    messages = {m.text: m for m in all_rows(Message)}
    assert sorted(messages) == sorted([f"Яма {n}" for n in range(7)] + ["Согласен"]
                                      + [f"Лёд {n}" for n in range(4)])
    first = messages["Яма 0"]
    assert first.thread_ref == roads["id"] and first.post_id == posts[roads["id"]].id
    assert first.author_external_id == "571000" and first.author_name == "Житель 0"
    assert messages["Согласен"].reply_to_external_id == first.external_id
    assert "Спасибо за обращение" not in messages  # the group's own comment is no ticket
    assert counts.skipped == 1
    anchors = [r.args or r.body for r in fake.requests if (r.body or {}).get("method") == "discussions.getComments"
               and r.body.get("discussionId") == roads["id"] and r.body.get("anchor")]
    assert len(anchors) >= 2  # the roads topic took several pages

    fake.comment(roads, "Яма 7")
    fake.comment(rink, "Лёд 4")
    poll_account(account.id, sleep=no_sleep)
    assert sorted(m.text for m in all_rows(Message)) == sorted([*messages, "Яма 7", "Лёд 4"])
    # the rink's comments all come from one resident: one ticket with five messages
    rink_tickets = db.session.scalars(db.select(Ticket).where(Ticket.thread_ref == rink["id"])).all()
    assert [t.message_count for t in rink_tickets] == [5]
    cursor = json.loads(db.session.scalars(db.select(CollectorState.cursor)).one())
    assert set(cursor["topics"]) == {roads["id"], rink["id"], quiet["id"]}


def test_new_topics_are_picked_up_when_the_list_refreshes(fake, account, app):
    app.config["OK_TOPICS_REFRESH_SECONDS"] = 3600
    first = fake.topic("Первый пост")
    fake.comment(first, "Вопрос к первому")
    poll_account(account.id, sleep=no_sleep)
    second = fake.topic("Второй пост")
    fake.comment(second, "Вопрос ко второму")
    poll_account(account.id, sleep=no_sleep)
    assert [m.text for m in all_rows(Message)] == ["Вопрос к первому"]  # list not stale yet
    app.config["OK_TOPICS_REFRESH_SECONDS"] = 0
    poll_account(account.id, sleep=no_sleep)
    assert sorted(m.text for m in all_rows(Message)) == sorted(["Вопрос ко второму", "Вопрос к первому"])


def test_faults_end_with_every_comment_exactly_once(fake, account, app):
    app.config["OK_PAGE_SIZE"] = 4
    topics = [fake.topic(f"Пост {n}") for n in range(4)]
    expected = [fake.comment(topics[n % 4], f"Жалоба {n}", author_id=str(580000 + n))["text"] for n in range(50)]
    fake.fail_next("service", "flood", "truncated", "503", "unknown", "hang", "500")  # each kind at least once
    fake.fail_randomly(0.3, OK_FAULT_KINDS + ("hang",))
    poll_through_faults(account.id, lambda: len(all_rows(Message)) == len(expected))
    fake.fail_randomly(0.0)
    poll_account(account.id, sleep=no_sleep)
    assert sorted(m.text for m in all_rows(Message)) == sorted(expected)
    assert len(all_rows(Post)) == 4
    assert set(fake.faults_served) == set(OK_FAULT_KINDS) | {"hang"}


# -- Bot API webhook --------------------------------------------------------------------------

def test_bot_webhook_checks_the_token_and_ingests_a_message_once(fake, account, live_server):
    url = f"{live_server.url}/hooks/ok/{account.id}"
    payload = fake.message_created("chat:C3ecb9d02a600", "Когда включат отопление?")
    assert fake.push_message(f"{url}/wrong-token", payload).status_code == 403
    assert fake.push_message(url, payload).status_code in (404, 405)
    assert fake.push_message(f"{url}/{HOOK_TOKEN}", payload).status_code == 200
    assert fake.push_message(f"{url}/{HOOK_TOKEN}", payload).status_code == 200  # OK retries
    system = {"webhookType": "CHAT_SYSTEM", "recipient": {"chat_id": "chat:C3ecb9d02a600"},
              "timestamp": 1767225700000, "message": {"mid": "mid:sys.1"}}
    assert fake.push_message(f"{url}/{HOOK_TOKEN}", system).status_code == 200
    db.session.expire_all()
    assert len(all_rows(WebhookDelivery)) == 2
    drain_queue()
    db.session.expire_all()
    message = db.session.scalars(db.select(Message)).one()
    assert message.text == "Когда включат отопление?" and message.thread_ref == "chat:C3ecb9d02a600"
    assert message.external_id == payload["message"]["mid"] and message.author_name == "Мария Иванова"
    assert message.author_external_id == "577777777777"


def test_fake_bot_api_records_chat_replies(fake):
    sent = httpx.post(f"{fake.url}/graph/me/messages/chat:C3ecb9d02a600", params={"access_token": fake.bot_token},
                      json={"recipient": {"chat_id": "chat:C3ecb9d02a600"}, "message": {"text": "Ответ"}})
    assert sent.status_code == 200 and sent.json()["message_id"]
    refused = httpx.post(f"{fake.url}/graph/me/messages/chat:C3ecb9d02a600", params={"access_token": "nope"},
                         json={"message": {"text": "x"}})
    assert refused.json()["error_code"] == 102
    assert [m["message"]["text"] for m in fake.sent_messages] == ["Ответ"]


def test_a_rejected_signature_is_reported_without_the_secrets(fake, make, caplog):
    caplog.set_level("DEBUG")
    acc = make.account("ok", settings={"group_id": GROUP, "application_key": KEYS["application_key"]},
                       credentials={"application_secret": "wrong-app-secret", "access_token": KEYS["access_token"]})
    with pytest.raises(PermanentError):
        poll_account(acc.id, sleep=no_sleep)
    state = db.session.scalars(db.select(CollectorState)).one()
    assert "PARAM_SIGNATURE" in state.last_error
    for secret in ("wrong-app-secret", KEYS["access_token"]):
        assert secret not in state.last_error and secret not in caplog.text


# -- authors' names ------------------------------------------------------------------------------

def _calls(fake: FakeOk, method: str) -> list[dict]:
    return [r.body for r in fake.requests if isinstance(r.body, dict) and r.body.get("method") == method]


def test_unnamed_authors_are_resolved_once_per_batch_and_remembered(fake, account):
    topic = fake.topic("Ремонт дорог")
    fake.comment(topic, "Яма у дома 1", author_id="571000001", author_name="Анна Орлова")
    fake.comment(topic, "Яма у дома 2", author_id="571000002", author_name="Борис Котов")
    fake.comment(topic, "И у дома 3", author_id="571000001", author_name="Анна Орлова")
    fake.comment(topic, "Спасибо", author_id="571000003", author_name="Вера Лис", name_in_comment=True)
    poll_account(account.id, sleep=no_sleep)
    names = {m.text: m.author_name for m in all_rows(Message)}
    assert names == {"Яма у дома 1": "Анна Орлова", "Яма у дома 2": "Борис Котов", "И у дома 3": "Анна Орлова",
                     "Спасибо": "Вера Лис"}
    calls = _calls(fake, "users.getInfo")
    assert [sorted(c["uids"].split(",")) for c in calls] == [["571000001", "571000002"]]
    assert calls[0]["fields"] == "first_name,last_name,name"
    fake.comment(topic, "Когда приедут?", author_id="571000002", author_name="Борис Котов")
    poll_account(account.id, sleep=no_sleep)
    assert len(_calls(fake, "users.getInfo")) == 1  # the name is cached
    assert db.session.scalars(db.select(Message.author_name).where(Message.text == "Когда приедут?")).one() \
        == "Борис Котов"


def test_a_refused_name_lookup_still_stores_every_comment(fake, account):
    fake.method_errors["users.getInfo"] = 10  # PERMISSION_DENIED
    topic = fake.topic("Ремонт дорог")
    fake.comment(topic, "Яма у дома 1", author_id="571000001", author_name="Анна Орлова")
    counts = poll_account(account.id, sleep=no_sleep)
    assert counts.created == 1 and counts.dead == 0
    message = db.session.scalars(db.select(Message)).one()
    assert message.text == "Яма у дома 1" and message.author_name == "" and message.author_external_id == "571000001"


def test_fake_users_getinfo_is_signed_and_returns_the_fields_asked(fake):
    fake.add_user("571000009", "Галина Петрова")
    with client(fake) as ok:
        assert ok.users_info(["571000009", "404"]) == [{"uid": "571000009", "first_name": "Галина",
                                                       "last_name": "Петрова", "name": "Галина Петрова"}]
    with client(fake, application_secret="wrong") as bad, pytest.raises(PermanentError) as exc:
        bad.users_info(["571000009"])
    assert exc.value.code == 104
