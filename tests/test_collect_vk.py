"""VK collector: the Callback API webhook, the Bots Long Poll, names, backfill, mentions,
and faults — all over real HTTP to the strict fake in ``tests/fakes/vk.py``."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from rq import SimpleWorker
from sqlalchemy.exc import OperationalError

from desk.channels.errors import MalformedResponse, PermanentError, RetryableError
from desk.channels.vk import VKClient
from desk.extensions import db
from desk.models import CollectorState, DeadLetter, Message, MessageRevision, Post, Ticket, WebhookDelivery
from desk.queue import get_queue
from workers.collectors import vk as vk_collector
from workers.collectors.base import poll_account

from .fakes.vk import CallbackSender, FakeVK
from .vk_support import CODE, GROUP, OWNER, RESIDENTS, SECRET, account, fake  # noqa: F401

NOW = int(time.time())


def comment(comment_id: int, from_id: int = 1001, text: str = "Когда починят ямы во дворе?", post_id: int = 456,
            **extra) -> dict:
    return {"id": comment_id, "from_id": from_id, "post_id": post_id, "owner_id": OWNER, "post_owner_id": OWNER,
            "parents_stack": [], "date": NOW - 60, "text": text,
            "thread": {"count": 0, "items": [], "can_post": True, "groups_can_post": True}, **extra}


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def message(external_id: str) -> Message | None:
    return db.session.scalars(db.select(Message).where(Message.external_id == external_id)).first()


def run_jobs() -> None:
    queue = get_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.expire_all()


def poll(account_id: int):
    return poll_account(account_id, sleep=lambda _s: None)


# --- the Callback API webhook ----------------------------------------------------------------


def test_handshake_then_comment_becomes_a_ticket_with_the_authors_name(fake, account, live_server):
    sender = CallbackSender(f"{live_server.url}/hooks/vk/{account.id}", group_id=GROUP, secret=SECRET,
                            confirmation_code=CODE)
    with pytest.raises(RuntimeError):
        sender.deliver(sender.event("wall_reply_new", comment(987)))  # VK sends nothing before the handshake
    answer = sender.confirm()
    assert answer.status_code == 200 and answer.text == CODE and sender.confirmed

    sender.send("wall_reply_new", comment(987))
    assert [r.text for _, r in sender.deliveries] == ["ok"]
    run_jobs()

    msg = message(f"{OWNER}_987")
    assert msg.text == "Когда починят ямы во дворе?"
    assert msg.author_name == "Иван Петров" and msg.author_external_id == "1001"
    assert msg.permalink == f"https://vk.com/wall-{GROUP}_456?reply=987"
    assert msg.thread_ref == f"{OWNER}_456"
    assert msg.ticket.status == "new" and msg.post.external_id == f"{OWNER}_456"
    sender.close()


def test_confirmation_for_another_community_gets_no_code(fake, account, client):
    answer = client.post(f"/hooks/vk/{account.id}", json={"type": "confirmation", "group_id": 999})
    assert answer.status_code == 403 and CODE not in answer.get_data(as_text=True)


def test_wrong_or_missing_secret_is_refused_and_nothing_is_stored(fake, account, live_server):
    for secret in ("guess", None):
        sender = CallbackSender(f"{live_server.url}/hooks/vk/{account.id}", group_id=GROUP, secret=secret,
                                confirmation_code=CODE)
        assert sender.confirm().text == CODE
        answer = sender.deliver(sender.event("wall_reply_new", comment(1)))
        assert answer.status_code == 403 and answer.text != "ok"
        sender.close()
    assert count(WebhookDelivery) == 0 and count(Message) == 0


def test_repeated_event_id_is_ingested_once(fake, account, live_server):
    sender = CallbackSender(f"{live_server.url}/hooks/vk/{account.id}", group_id=GROUP, secret=SECRET,
                            confirmation_code=CODE)
    sender.confirm()
    body = sender.send("wall_reply_new", comment(42), repeats=2)
    assert [r.text for _, r in sender.deliveries] == ["ok", "ok", "ok"]
    assert [b["event_id"] for b, _ in sender.deliveries] == [body["event_id"]] * 3
    run_jobs()
    assert count(WebhookDelivery) == 1 and count(Message) == 1 and count(Ticket) == 1
    stored = db.session.scalars(db.select(WebhookDelivery.payload)).one()
    assert SECRET not in stored  # the secret never reaches the dead-letter page
    sender.close()


def deliver(client, account, event_type: str, obj: dict) -> None:
    body = {"type": event_type, "group_id": GROUP, "event_id": f"ev-{time.monotonic_ns()}", "v": "5.199",
            "object": obj, "secret": SECRET}
    answer = client.post(f"/hooks/vk/{account.id}", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "ok"


def test_every_event_type_lands_where_a_person_expects_it(fake, account, client):
    deliver(client, account, "wall_post_new", {"id": 456, "owner_id": OWNER, "from_id": OWNER, "date": NOW - 3600,
                                               "text": "Ремонт улицы Ленина начнётся 1 июня", "post_type": "post"})
    deliver(client, account, "wall_reply_new", comment(987, 1001, "Яма у дома 5"))
    deliver(client, account, "wall_reply_new", comment(988, 1002, "Согласна", reply_to_comment=987,
                                                       parents_stack=[987]))
    deliver(client, account, "wall_reply_new", comment(989, OWNER, "Спасибо, передали в ЖКХ"))
    deliver(client, account, "wall_reply_edit", comment(987, 1001, "Яма у дома 7"))
    deliver(client, account, "wall_reply_delete", {"owner_id": OWNER, "id": 988, "deleter_id": 1002, "post_id": 456})
    deliver(client, account, "wall_reply_delete", {"owner_id": OWNER, "id": 987, "user_id": 1001, "post_id": 456})
    deliver(client, account, "wall_reply_restore", comment(987, 1001, "Яма у дома 7"))
    deliver(client, account, "message_new", {"message": {"id": 31, "conversation_message_id": 31, "from_id": 1003,
                                                         "peer_id": 1003, "date": NOW, "text": "Нет воды"},
                                             "client_info": {}})
    deliver(client, account, "wall_post_new", {"id": 460, "owner_id": OWNER, "from_id": 1004, "date": NOW,
                                               "text": "Прошу убрать сугробы у школы", "post_type": "post"})
    deliver(client, account, "like_add", {"liker_id": 1001, "object_type": "post", "object_id": 456})
    run_jobs()

    post = db.session.scalars(db.select(Post)).one()
    assert post.text == "Ремонт улицы Ленина начнётся 1 июня" and post.link == f"https://vk.com/wall-{GROUP}_456"
    first, reply = message(f"{OWNER}_987"), message(f"{OWNER}_988")
    assert first.text == "Яма у дома 7" and first.is_edited and not first.is_deleted
    assert [r.text for r in db.session.scalars(db.select(MessageRevision)).all()] == ["Яма у дома 5"]
    assert reply.is_deleted and reply.reply_to_external_id == f"{OWNER}_987"
    assert reply.permalink.endswith("?reply=988&thread=987")
    assert first.post_id == post.id == reply.post_id
    assert message(f"{OWNER}_989") is None  # the city's own reply is not a ticket
    dm = message("dm:1003:31")
    assert dm.thread_ref == "dm:1003" and dm.author_name == "Олег Ким" and dm.post_id is None
    resident_post = message(f"post{OWNER}_460")
    assert resident_post.author_name == "Анна Лис" and resident_post.permalink == f"https://vk.com/wall-{GROUP}_460"
    assert count(Ticket) == 4 and count(Post) == 1 and count(DeadLetter) == 0


def test_event_of_another_community_is_kept_as_a_dead_letter(fake, account, client):
    body = {"type": "wall_reply_new", "group_id": 999, "event_id": "x1", "object": comment(5), "secret": SECRET}
    client.post(f"/hooks/vk/{account.id}", json=body)
    run_jobs()
    letter = db.session.scalars(db.select(DeadLetter)).one()
    assert "999" in letter.error and count(Message) == 0


# --- Bots Long Poll ---------------------------------------------------------------------------


def test_long_poll_resolves_names_with_one_users_get_per_batch(fake, account):
    poll(account.id)  # the first run starts at VK's newest event (history is the backfill's)
    for n in range(30):
        fake.push_event(GROUP, "wall_reply_new", comment(2000 + n, 1001 + n % 5, f"Комментарий {n}"))
    poll(account.id)
    assert count(Message) == 30 and fake.count("users.get") == 1
    names = set(db.session.scalars(db.select(Message.author_name)).all())
    assert names == {f"{first} {last}" for first, last in RESIDENTS.values()}

    for n in range(10):  # the same authors again: the cache answers
        fake.push_event(GROUP, "wall_reply_new", comment(3000 + n, 1001 + n % 5, f"Ещё {n}"))
    poll(account.id)
    assert count(Message) == 40 and fake.count("users.get") == 1


def test_long_poll_cursor_is_saved_with_the_batch(fake, account):
    fake.push_event(GROUP, "wall_reply_new", comment(0, text="До первого запуска"))
    poll(account.id)
    assert count(Message) == 0  # the first run starts at VK's newest event
    fake.push_event(GROUP, "wall_reply_new", comment(1))
    poll(account.id)
    state = db.session.scalars(db.select(CollectorState).where(CollectorState.account_id == account.id)).one()
    assert json.loads(state.cursor)["ts"] == str(fake.longpoll_head(GROUP))
    poll(account.id)  # nothing new: nothing doubles
    assert count(Message) == 1 and fake.count("groups.getLongPollServer") == 1


def test_long_poll_failed_1_continues_with_the_new_ts(fake, account):
    poll(account.id)
    fake.push_event(GROUP, "wall_reply_new", comment(1, text="Потерянный в истории"))
    fake.longpoll_fail(GROUP, 1)  # ts jumps past the event, as VK does when history is outdated
    fake.push_event(GROUP, "wall_reply_new", comment(2, text="После сбоя"))
    fake.longpoll_fail(GROUP, 1, ts=fake.longpoll_head(GROUP) - 1)
    poll(account.id)
    assert [m.text for m in db.session.scalars(db.select(Message)).all()] == ["После сбоя"]
    assert fake.count("groups.getLongPollServer") == 1  # the key stayed valid


def test_long_poll_failed_2_gets_a_new_key_and_keeps_the_ts(fake, account):
    poll(account.id)
    fake.push_event(GROUP, "wall_reply_new", comment(1))
    fake.push_event(GROUP, "wall_reply_new", comment(2))
    fake.longpoll_fail(GROUP, 2)
    poll(account.id)
    assert count(Message) == 2  # nothing lost across the new key
    assert fake.count("groups.getLongPollServer") == 2


def test_long_poll_failed_3_gets_a_new_key_and_ts(fake, account):
    poll(account.id)
    fake.push_event(GROUP, "wall_reply_new", comment(1))
    fake.longpoll_fail(GROUP, 3)
    poll(account.id)
    fake.push_event(GROUP, "wall_reply_new", comment(2, text="Новый после сбоя"))
    poll(account.id)
    assert fake.count("groups.getLongPollServer") == 2
    assert [m.text for m in db.session.scalars(db.select(Message)).all()] == ["Новый после сбоя"]
    state = db.session.scalars(db.select(CollectorState)).one()
    assert json.loads(state.cursor)["ts"] == str(fake.longpoll_head(GROUP))


def test_faults_end_with_every_comment_exactly_once(fake, account):
    poll(account.id)
    fake.fail_randomly(0.3, kinds=("error6", "error9", "error10", "500", "503", "truncated"))
    expected = set()
    forced = [("error6", "500"), ("truncated", "error9"), ("503", "error10"), ()]
    for round_, kinds in enumerate(forced):
        for n in range(10):
            cid, author = 5000 + round_ * 10 + n, 2000 + round_ * 10 + n % 3  # new authors: users.get each round
            fake.add_user(author, "Житель", str(author))
            fake.push_event(GROUP, "wall_reply_new", comment(cid, author, f"Жалоба {cid}"))
            expected.add(f"{OWNER}_{cid}")
        fake.longpoll_fail(GROUP, 2)  # and a new long-poll key each round
        fake.fail_next(*kinds)
        for _ in range(10):  # a fault that outlives the retries leaves the cursor; the next run re-reads
            try:
                poll(account.id)
                break
            except (RetryableError, MalformedResponse):
                continue
    fake.fail_randomly(0.0)
    poll(account.id)
    ids = db.session.scalars(db.select(Message.external_id)).all()
    assert sorted(ids) == sorted(expected)  # every comment, none twice
    assert set(fake.faults_served) >= {"error6", "error9", "error10", "500", "503", "truncated"}
    names = db.session.scalars(db.select(Message.author_name)).all()
    assert all(name.startswith("Житель ") for name in names)


def test_a_crash_before_commit_reads_the_batch_again(fake, account, monkeypatch):
    poll(account.id)
    fake.push_event(GROUP, "wall_reply_new", comment(1))
    fake.push_event(GROUP, "wall_reply_new", comment(2))
    calls = {"n": 0}
    real_commit = db.session.commit

    def crash_once():
        calls["n"] += 1
        if calls["n"] == 1:  # the database goes away at the commit
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
        real_commit()

    monkeypatch.setattr(db.session, "commit", crash_once)
    with pytest.raises(OperationalError):
        poll(account.id)
    db.session.rollback()
    monkeypatch.undo()
    poll(account.id)
    assert count(Message) == 2


# --- backfill and mentions --------------------------------------------------------------------


def test_backfill_reads_posts_since_the_date_with_threads_and_progress(fake, account):
    since = datetime.fromtimestamp(NOW - 86400, UTC)
    fake.add_post(OWNER, 10, "Старый пост", NOW - 5 * 86400)
    fake.add_comment(OWNER, 10, 1001, "Старый комментарий", NOW - 5 * 86400)
    fake.add_post(OWNER, 11, "График вывоза мусора", NOW - 3600)
    for n in range(120):
        fake.add_comment(OWNER, 11, 1001 + n % 5, f"Мусор {n}", NOW - 3000 + n)
    fake.add_post(OWNER, 12, "Опрос о парке", NOW - 600)
    top = fake.add_comment(OWNER, 12, 1002, "Нужны скамейки", NOW - 500)
    for n in range(12):
        fake.add_comment(OWNER, 12, 1003, f"Ответ {n}", NOW - 400 + n, reply_to=top["id"])
    fake.add_comment(OWNER, 12, OWNER, "Спасибо за отзывы", NOW - 300)

    seen = []
    counts = vk_collector.backfill(account, since, lambda done, total=None, note="": seen.append((done, total)))
    assert seen == [(0, 2), (1, 2), (2, 2)]
    assert counts.created + counts.joined == 133 and counts.posts == 2 and counts.skipped == 1
    assert count(Message) == 133 and message(f"{OWNER}_{top['id'] + 12}").reply_to_external_id == f"{OWNER}_{top['id']}"
    assert {p.external_id for p in db.session.scalars(db.select(Post)).all()} == {f"{OWNER}_11", f"{OWNER}_12"}
    assert fake.count("users.get") == 1  # once for the first post; the second post's authors are cached

    again = vk_collector.backfill(account, since)
    assert again.created == 0 and count(Message) == 133


def test_comments_cannot_be_read_with_the_community_token(fake):
    with VKClient(fake.url, "group-token") as api, pytest.raises(PermanentError) as failure:
        api.wall_get_comments(OWNER, 1)
    assert failure.value.code == 27 and "group auth" in failure.value.description
    assert "group-token" not in str(failure.value)


def test_mentions_become_tickets_marked_as_mentions_once(fake, account):
    fake.add_feed_post(-777, 1, "В Белогорске снова нет света на Ленина", NOW - 3600)
    fake.add_feed_post(55, 2, "белогорск, когда уберут снег?", NOW - 1800, from_id=1004)
    fake.add_feed_post(OWNER, 3, "Администрация Белогорска сообщает", NOW - 900)
    fake.add_feed_post(56, 4, "Белогорск год назад", NOW - 400 * 86400)
    fake.add_feed_post(57, 5, "Про Благовещенск", NOW - 100)

    vk_collector.collect_mentions(account.id)
    tickets = db.session.scalars(db.select(Ticket).order_by(Ticket.id)).all()
    assert [t.is_mention for t in tickets] == [True, True]
    assert [t.author_name for t in tickets] == ["Новости Амура", "Анна Лис"]
    assert message("wall-777_1").permalink == "https://vk.com/wall-777_1"

    fake.add_feed_post(58, 6, "Белогорск: открыли каток", NOW)
    vk_collector.collect_mentions(account.id)
    assert count(Ticket) == 3
    state = db.session.scalars(db.select(CollectorState).where(CollectorState.stream == "mentions")).one()
    assert json.loads(state.cursor)["start_time"] == NOW and state.last_error is None
    assert all("q" in p and "start_time" in p for p in fake.params_of("newsfeed.search"))


# --- the client and the fake's strictness -----------------------------------------------------


def test_client_maps_vk_errors_and_never_shows_the_token(fake):
    with VKClient(fake.url, "no-such-token") as api, pytest.raises(PermanentError) as failure:
        api.users_get([1001])
    assert failure.value.code == 5 and "no-such-token" not in failure.value.description
    for kind, error in (("error9", RetryableError), ("503", RetryableError), ("truncated", MalformedResponse)):
        fake.fail_next(kind)
        with VKClient(fake.url, "group-token") as api, pytest.raises(error):
            api.users_get([1001])


def test_fake_rate_limits_a_user_token_and_the_client_spaces_its_calls(fake):
    with VKClient(fake.url, "user-token", rps=0) as api:
        api.users_get([1001])
        with pytest.raises(RetryableError) as failure:
            for _ in range(5):
                api.users_get([1001])
    assert failure.value.code == 6
    # Spaced at 2 a second, four calls never put three in one second: the fake allows
    # three, so arrival jitter on a busy machine (up to ~half a second) cannot fail this.
    spaced = FakeVK(rate_limits={"user": 3}).start()
    spaced.add_token("user-token", "user")
    with VKClient(spaced.url, "user-token", rps=2) as api:
        started = time.monotonic()
        for _ in range(4):
            api.users_get([1])
        assert time.monotonic() - started >= 1.5  # the client waited between the calls
    spaced.stop()


def test_fake_requires_version_and_token_like_vk(fake):
    import httpx

    no_version = httpx.post(f"{fake.url}/method/users.get", data={"access_token": "group-token", "user_ids": "1"})
    no_token = httpx.post(f"{fake.url}/method/users.get", data={"v": "5.199", "user_ids": "1"})
    assert no_version.status_code == 200 and no_version.json()["error"]["error_code"] == 100
    assert no_token.json()["error"]["error_code"] == 5


def test_group_info_and_comment_posting_shapes(fake):
    fake.add_post(OWNER, 456, "Пост", NOW)
    with VKClient(fake.url, "service-token", rps=0) as api:
        groups = api.groups_get_by_id([GROUP], fields="members_count")
        with pytest.raises(PermanentError) as failure:
            api.create_comment(OWNER, 456, "Ответ")
    assert groups[0]["members_count"] == 48211 and failure.value.code == 28
    with VKClient(fake.url, "group-token") as api:
        first = api.create_comment(OWNER, 456, "Заявка принята", from_group=GROUP, guid="reply-1")
        again = api.create_comment(OWNER, 456, "Заявка принята", from_group=GROUP, guid="reply-1")
    assert first == again and len(fake.created_comments) == 1


def test_flask_collect_backfill_draws_progress_for_a_vk_account(fake, account, app):
    fake.add_post(OWNER, 20, "Отключение воды", NOW - 3600)
    fake.add_comment(OWNER, 20, 1001, "Надолго?", NOW - 3000)
    since = datetime.fromtimestamp(NOW - 86400, UTC).date().isoformat()
    result = app.test_cli_runner().invoke(args=["collect", "backfill", "--account", str(account.id), "--since", since])
    assert result.exit_code == 0, result.output
    assert "1/1" in result.output and "created 1" in result.output
    assert message(f"{OWNER}_{fake.comments[(OWNER, 20)][0]['id']}").text == "Надолго?"


def test_periodic_mentions_job_runs_for_accounts_with_keywords(fake, account, make):
    make.account("vk", settings={"group_id": 1}, credentials={"service_token": "service-token"})  # no keywords
    fake.add_feed_post(-777, 9, "Белогорск: перекрыли мост", NOW - 60)
    assert vk_collector.collect_all_mentions() == [account.id]
    run_jobs()
    assert db.session.scalars(db.select(Ticket)).one().is_mention


def test_a_mentions_search_that_cannot_run_is_shown_on_the_collector_state(fake, make):
    broken = make.account("vk", settings={"group_id": GROUP, "mention_keywords": ["Белогорск"]},
                          credentials={"group_token": "group-token"})
    with pytest.raises(PermanentError):
        vk_collector.collect_mentions(broken.id)
    state = db.session.scalars(db.select(CollectorState).where(CollectorState.stream == "mentions")).one()
    assert "service_token" in state.last_error and "group-token" not in state.last_error
    assert state.consecutive_failures == 1
