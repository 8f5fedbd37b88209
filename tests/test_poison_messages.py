"""One bad message never blocks an account and never vanishes: on the polling path and
the webhook path it becomes a dead letter with its error and payload, the rest of its
batch is stored, the cursor moves on, and the collectors page says so."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy.exc import OperationalError

from desk.channels import telegram_events
from desk.extensions import db
from desk.models import CollectorState, DeadLetter, Role, WebhookDelivery
from desk.networks import SPECS
from tests.collect_helpers import drain_queue
from workers.collectors import base
from workers.collectors.base import poll_account, process_delivery

from .telegram_support import Message, Ticket, count, fake_tg, telegram_account, tg_bot  # noqa: F401

SECRET = "s3cret_-Token"
POISON = "ЯД"


def poisoned_normalize(account, update):
    events = telegram_events.normalize(account, update)
    return [replace(e, sent_at="not a date") if POISON in (getattr(e, "text", "") or "") else e
            for e in events]


@pytest.fixture
def poisoned(monkeypatch):
    """Make every message whose text contains POISON impossible to store (its sent_at is
    not a date): a stand-in for any bug that a message's content can trigger in ingest."""
    spec = replace(SPECS["telegram"], normaliser=f"{__name__}.poisoned_normalize")
    monkeypatch.setitem(SPECS, "telegram", spec)


@pytest.fixture
def account(make, tg_bot):
    return telegram_account(make, tg_bot)


def poll(account):
    return poll_account(account.id, sleep=lambda _s: None)


def state_of(account) -> CollectorState:
    db.session.expire_all()
    return db.session.scalars(db.select(CollectorState).where(CollectorState.account_id == account.id,
                                                              CollectorState.stream == "main")).one()


def test_a_poisoned_poll_stores_the_others_and_moves_on(fake_tg, tg_bot, account, poisoned):
    _, forward = tg_bot.publish("Ремонт дороги")
    tg_bot.comment(forward, "Яма у дома 5")
    tg_bot.comment(forward, f"{POISON}: сообщение, которое ломает сохранение", user=tg_bot.user(2002))
    tg_bot.comment(forward, "Нет света в подъезде", user=tg_bot.user(2003))
    last_update_id = tg_bot.updates[-1]["update_id"]

    counts = poll(account)

    assert counts.created == 2 and counts.dead == 1
    assert sorted(db.session.scalars(db.select(Message.text))) == ["Нет света в подъезде", "Яма у дома 5"]
    letter = db.session.scalars(db.select(DeadLetter)).one()
    assert letter.account_id == account.id and letter.source == "poll"
    assert POISON in letter.payload and json.loads(letter.payload)["update_id"]
    assert "AttributeError" in letter.error or "TypeError" in letter.error
    # The cursor is past the whole batch: the poison is confirmed to Telegram, never read again.
    assert int(state_of(account).cursor) == last_update_id + 1
    assert poll(account).dead == 0 and count(DeadLetter) == 1 and fake_tg.pending(tg_bot) == 0

    # Later comments still arrive.
    tg_bot.comment(forward, "Спасибо, дорогу починили", user=tg_bot.user(2004))
    assert poll(account).created == 1 and count(Ticket) == 3


def test_the_collectors_page_shows_the_poisoned_account(tg_bot, account, poisoned, make, login_as, client):
    _, forward = tg_bot.publish("Пост")
    tg_bot.comment(forward, f"{POISON} в тексте")
    tg_bot.comment(forward, "Обычный комментарий", user=tg_bot.user(2002))
    poll(account)
    login_as(make.user(Role.ADMIN))

    page = client.get("/admin/collectors/").get_data(as_text=True)

    row = page[page.index(f'data-account="{account.id}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-test="dead-letters"' in row and ">1</a>" in row
    assert "Не удалось разобрать сообщение" in row
    filtered = client.get(f"/admin/collectors/?account={account.id}").get_data(as_text=True)
    assert 'data-test="dead-letters-filter"' in filtered and POISON in filtered
    assert client.get("/admin/collectors/?account=99999").status_code == 404


def test_a_poisoned_webhook_update_is_a_dead_letter_and_the_next_one_lands(tg_bot, account, poisoned, client):
    _, forward = tg_bot.publish("Пост")
    tg_bot.updates.clear()
    bad = tg_bot.comment(forward, f"{POISON}!")
    good = tg_bot.comment(forward, "Когда уберут снег?", user=tg_bot.user(2002))
    for update in list(tg_bot.updates):
        answer = client.post(f"/hooks/telegram/{account.id}", json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert answer.status_code == 200
    drain_queue()
    db.session.expire_all()
    assert [m.text for m in db.session.scalars(db.select(Message))] == [good["text"]]
    letter = db.session.scalars(db.select(DeadLetter)).one()
    assert letter.source == "webhook" and bad["text"] in letter.payload
    assert all(d.processed_at is not None for d in db.session.scalars(db.select(WebhookDelivery)))


def test_a_delivery_that_keeps_failing_becomes_a_dead_letter_after_the_limit(tg_bot, account, app, client,
                                                                             monkeypatch):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 3
    _, forward = tg_bot.publish("Пост")
    tg_bot.updates.clear()
    tg_bot.comment(forward, "Нет воды")

    def database_away(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, Exception("could not connect to server"))

    monkeypatch.setattr(base, "apply_updates", database_away)
    answer = client.post(f"/hooks/telegram/{account.id}", json=tg_bot.updates[0],
                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert answer.status_code == 200
    delivery = db.session.scalars(db.select(WebhookDelivery)).one()
    for attempt in (1, 2):
        process_delivery(delivery.id)
        db.session.expire_all()
        assert delivery.processed_at is None and delivery.attempts == attempt
        assert "could not connect" in delivery.last_error and count(DeadLetter) == 0
    process_delivery(delivery.id)
    db.session.expire_all()
    assert delivery.processed_at is not None
    letter = db.session.scalars(db.select(DeadLetter)).one()
    assert letter.error.startswith("gave up after 3 failed attempts") and "Нет воды" in letter.payload

    # Replayed by an admin once the database is back, the comment lands.
    monkeypatch.undo()
    base.replay_dead_letter(letter.id)
    assert [m.text for m in db.session.scalars(db.select(Message))] == ["Нет воды"]


def test_a_job_that_dies_mid_delivery_still_counts_its_attempts(tg_bot, account, app, client):
    """A worker killed while processing can't record an error; the attempt was counted
    before the work began, so the delivery still ends as a dead letter, not forever."""
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    _, forward = tg_bot.publish("Пост")
    tg_bot.updates.clear()
    tg_bot.comment(forward, "Текст")
    client.post(f"/hooks/telegram/{account.id}", json=tg_bot.updates[0],
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    delivery = db.session.scalars(db.select(WebhookDelivery)).one()
    delivery.attempts = 2  # two attempts began and never finished
    db.session.commit()
    counts = process_delivery(delivery.id)
    assert counts.dead == 1 and count(Message) == 0
    assert db.session.scalars(db.select(DeadLetter)).one().error.startswith("gave up after 2 failed attempts")


def test_lone_surrogates_are_stored_on_both_paths(tg_bot, account, client):
    _, forward = tg_bot.publish("Пост")
    tg_bot.updates.clear()
    tg_bot.comment(forward, "Осталось \ud800 без ответа")
    poll(account)
    tg_bot.comment(forward, "Через вебхук \udfff тоже", user=tg_bot.user(2002))
    body = json.dumps(tg_bot.updates[-1])  # ASCII JSON carries the lone surrogate as \udfff
    answer = client.post(f"/hooks/telegram/{account.id}", data=body, content_type="application/json",
                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert answer.status_code == 200
    drain_queue()
    assert sorted(db.session.scalars(db.select(Message.text))) == [
        "Осталось \ufffd без ответа", "Через вебхук \ufffd тоже"]
    assert count(DeadLetter) == 0


def test_the_sweeper_retries_a_pending_delivery_until_it_lands(tg_bot, account, client, monkeypatch):
    _, forward = tg_bot.publish("Пост")
    tg_bot.updates.clear()
    tg_bot.comment(forward, "Подтопило подвал")
    calls = {"n": 0}
    real = base.apply_updates

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("INSERT", {}, Exception("the database is restarting"))
        return real(*args, **kwargs)

    monkeypatch.setattr(base, "apply_updates", flaky)
    client.post(f"/hooks/telegram/{account.id}", json=tg_bot.updates[0],
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    drain_queue()
    assert count(Message) == 0
    assert base.sweep_pending_deliveries(older_than_seconds=-1) == 1
    drain_queue()
    assert [m.text for m in db.session.scalars(db.select(Message))] == ["Подтопило подвал"]
    assert count(DeadLetter) == 0
