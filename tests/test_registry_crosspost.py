"""Crossposting against the strict fakes: composed once, published once per account
(Telegram sendMessage to the channel, VK wall.post from the group, MAX POST /messages),
length checked up front, scheduling, faults, unknown outcomes and a person's resend."""
from __future__ import annotations

from datetime import timedelta

import pytest

from desk.extensions import db
from desk.models import utcnow
from desk.models.announcements import Announcement, AnnouncementDelivery
from desk.outbox import engine
from desk.queue import get_queue
from desk.registry import crosspost
from desk.registry.crosspost import ANNOUNCEMENTS
from workers import crosspost as job

from .conftest import csrf_from
from .fakes.max import FakeMax
from .fakes.telegram import FakeTelegram
from .fakes.vk import FakeVK

GROUP, MAX_TOKEN, MAX_CHAT = 4242, "max-bot-token", -71234567890
TEXT = "Завтра с 9:00 до 15:00 плановое отключение воды в микрорайоне Транспортный."


@pytest.fixture
def fakes(app):
    tg, vk, mx = FakeTelegram(seed=5).start(), FakeVK(seed=5).start(), FakeMax(MAX_TOKEN, seed=5, channel_id=MAX_CHAT).start()
    vk.add_token("admin-user-token", "user")
    vk.add_token("group-token", "group", GROUP)
    vk.add_group(GROUP, "Водоканал", members_count=100)
    app.config.update(TELEGRAM_API_BASE=tg.url, VK_API_BASE=vk.url, MAX_API_BASE=mx.url, REPLY_HTTP_TIMEOUT=10,
                      MAX_HTTP_TIMEOUT=10.0, CROSSPOST_BACKOFF_BASE=0.0)
    yield tg, vk, mx
    for fake in (tg, vk, mx):
        fake.stop()


@pytest.fixture
def accounts(make, fakes):
    tg, vk, mx = fakes
    bot = tg.add_bot()
    return {
        "tg": make.account("telegram", "housing", "ЖКХ в Telegram", settings={"channel_id": bot.channel_id,
                                                                            "username": bot.channel_username},
                           credentials={"bot_token": bot.token}),
        "vk": make.account("vk", "housing", "Водоканал", settings={"group_id": str(GROUP)},
                           credentials={"group_token": "group-token", "user_token": "admin-user-token"}),
        "max": make.account("max", "housing", "ЖКХ в MAX", settings={"chat_id": MAX_CHAT},
                            credentials={"bot_token": MAX_TOKEN}),
        "ok": make.account("ok", "housing", "ЖКХ в ОК"),
        "sport": make.account("telegram", "sport", "Стадион", settings={"channel_id": bot.channel_id},
                              credentials={"bot_token": bot.token}),
    }


def drain(limit: int = 30) -> list[str]:
    """Run the posting job for every queued delivery until none is left (backoff is 0)."""
    outcomes = []
    for _ in range(limit):
        queued = db.session.scalars(db.select(AnnouncementDelivery.id).where(
            AnnouncementDelivery.state == "queued").order_by(AnnouncementDelivery.id)).all()
        if not queued:
            return outcomes
        outcomes += [job.post_announcement_delivery(i) for i in queued]
    raise AssertionError(f"still queued after {limit} rounds: {outcomes[-5:]}")


def states(announcement_id: int) -> dict[str, str]:
    rows = db.session.execute(db.select(AnnouncementDelivery.platform, AnnouncementDelivery.state)
                              .where(AnnouncementDelivery.announcement_id == announcement_id)).all()
    return dict(rows)


def compose(client, confirmed: bool = True, **fields):
    """Fill the form; ``confirmed``: press "publish" on the preview too (the first send only shows it)."""
    token = csrf_from(client.get("/registry/crosspost").get_data(as_text=True))
    data = {"text": TEXT, "direction": "housing", "networks": ["telegram", "vk", "max"], "csrf_token": token,
            **fields}
    if confirmed:
        data["confirmed"] = "1"
    return client.post("/registry/crosspost", data=data)


def test_the_first_send_is_a_preview_naming_the_accounts_that_cannot_publish(make, login_as, fakes, accounts):
    broken = make.account("vk", "housing", name="ЖКХ без токена", settings={"group_id": 77})
    client = login_as(make.user("manager"))
    response = compose(client, confirmed=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-test="crosspost-preview"' in html
    assert db.session.scalars(db.select(Announcement)).all() == []  # nothing sent yet
    assert f'data-account="{broken.id}" data-ready="no"' in html and "не задан ключ «user_token»" in html
    assert f'data-account="{accounts["tg"].id}" data-ready="yes"' in html
    assert 'data-test="confirm-publish"' in html
    response = compose(client)  # "publish" on the preview
    announcement = db.session.scalars(db.select(Announcement)).one()
    assert broken.id not in {d.account_id for d in announcement.deliveries}  # left out, said so
    assert response.status_code == 302


def test_composed_once_published_once_per_account(make, login_as, fakes, accounts):
    tg, vk, mx = fakes
    client = login_as(make.user("manager"))
    response = compose(client)
    assert response.status_code == 302
    announcement = db.session.scalars(db.select(Announcement)).one()
    assert sorted(d.account_id for d in announcement.deliveries) == sorted(
        accounts[k].id for k in ("tg", "vk", "max"))  # OK cannot be published to; sport is another direction
    assert drain() == ["sent", "sent", "sent"]
    sends = tg.calls("sendMessage")
    assert len(sends) == 1 and sends[0].params["text"] == TEXT
    assert str(sends[0].params["chat_id"]) == str(accounts["tg"].settings["channel_id"])
    assert vk.params_of("wall.post") == [{"owner_id": str(-GROUP), "message": TEXT, "from_group": "1",
                                          "guid": f"ann{announcement.id}-acc{accounts['vk'].id}", "v": "5.199"}]
    assert [(m["chat_id"], m["text"]) for m in mx.sent_messages] == [(str(MAX_CHAT), TEXT)]
    # running the job again, or a stray duplicate job, publishes nothing more
    assert {job.post_announcement_delivery(d.id) for d in announcement.deliveries} == {"sent"}
    assert len(tg.calls("sendMessage")) == 1 and len(vk.wall_posts) == 1 and len(mx.sent_messages) == 1
    page = client.get(f"/registry/crosspost/{announcement.id}").get_data(as_text=True)
    assert page.count('data-state="sent"') == 3
    assert f'href="https://vk.com/wall-{GROUP}_1"' in page and "https://t.me/city_official/" in page


def test_text_over_a_networks_limit_is_refused_before_anything_is_stored(make, login_as, fakes, accounts):
    client = login_as(make.user("manager"))
    long_text = "Ж" * 4050  # over MAX's 4000, under Telegram's 4096
    page = compose(client, text=long_text).get_data(as_text=True)
    assert 'data-test="text-error"' in page and "max: не больше 4000" in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Announcement)) == 0
    assert compose(client, text=long_text, networks=["telegram"]).status_code == 302
    assert drain() == ["sent"]


def test_scheduled_announcement_waits_for_its_time(app, make, fakes, accounts):
    tg, vk, mx = fakes
    at = utcnow() + timedelta(hours=2)
    announcement = crosspost.create_announcement(TEXT, [accounts["tg"]], None, at)
    db.session.commit()
    crosspost.enqueue_announcement(announcement)
    assert get_queue().scheduled_job_registry.count == 1
    delivery = announcement.deliveries[0]
    assert job.post_announcement_delivery(delivery.id) == "later"
    assert tg.calls("sendMessage") == [] and delivery.state == "queued"
    delivery.next_attempt_at = utcnow() - timedelta(seconds=1)  # the time has come
    db.session.commit()
    assert job.post_announcement_delivery(delivery.id) == "sent"


def test_faults_retry_where_nothing_was_posted_and_vk_guid_prevents_a_double(app, fakes, accounts):
    tg, vk, mx = fakes
    tg.faults.methods = frozenset({"sendMessage"})
    tg.faults.rate_429, tg.faults.retry_after = 1.0, 0
    mx.fail_next("503", "429")
    vk.fail_next("truncated")  # the post is made, the answer is cut: retried with the same guid
    announcement = crosspost.create_announcement(TEXT, [accounts[k] for k in ("tg", "vk", "max")], None)
    db.session.commit()
    outcomes = [job.post_announcement_delivery(d.id) for d in announcement.deliveries]
    assert outcomes == ["retry", "retry", "retry"]
    tg.faults.rate_429 = 0.0
    drain()
    assert states(announcement.id) == {"telegram": "sent", "vk": "sent", "max": "sent"}
    assert len(vk.wall_posts) == 1 and len(vk.params_of("wall.post")) == 2
    assert len(mx.sent_messages) == 1
    assert len([r for r in tg.calls("sendMessage") if r.fault is None]) == 1


def test_lost_answer_is_unknown_never_resent_until_a_person_does(app, make, login_as, fakes, accounts):
    tg, vk, mx = fakes
    tg.faults.methods = frozenset({"sendMessage"})
    tg.faults.rate_truncated = 1.0  # Telegram posts it, the answer is unreadable
    announcement = crosspost.create_announcement(TEXT, [accounts["tg"]], None)
    db.session.commit()
    delivery = announcement.deliveries[0]
    assert job.post_announcement_delivery(delivery.id) == "unknown"
    assert drain() == [] and len(tg.calls("sendMessage")) == 1
    assert job.sweep(older_than_seconds=0) == {"requeued": 0, "unknown": 0}
    tg.faults.rate_truncated = 0.0
    client = login_as(make.user("manager"))
    page = client.get(f"/registry/crosspost/{announcement.id}").get_data(as_text=True)
    assert 'data-state="unknown"' in page and 'data-test="resend"' in page
    client.post(f"/registry/crosspost/deliveries/{delivery.id}/resend", data={"csrf_token": csrf_from(page)})
    assert drain() == ["sent"] and len(tg.calls("sendMessage")) == 2


def test_a_worker_dying_mid_call_leaves_unknown(app, fakes, accounts):
    announcement = crosspost.create_announcement(TEXT, [accounts["max"]], None)
    db.session.commit()
    delivery = announcement.deliveries[0]
    assert engine.claim(ANNOUNCEMENTS, delivery) and not engine.claim(ANNOUNCEMENTS, delivery)  # one claim only
    from desk.queue import get_redis

    get_redis().delete(job.LEASE_KEY.format(delivery.id))  # the worker died: its lease expired
    assert job.post_announcement_delivery(delivery.id) == "unknown"
    assert fakes[2].sent_messages == []


def test_missing_vk_user_token_fails_with_a_reason(app, make, fakes):
    account = make.account("vk", "housing", "Без токена", settings={"group_id": str(GROUP)},
                           credentials={"group_token": "group-token"})
    announcement = crosspost.create_announcement(TEXT, [account], None)
    db.session.commit()
    assert job.post_announcement_delivery(announcement.deliveries[0].id) == "failed"
    db.session.refresh(announcement.deliveries[0])
    assert "user_token" in announcement.deliveries[0].last_error
    assert fakes[1].params_of("wall.post") == []


def test_crossposting_is_for_managers_and_admins(client, make, login_as):
    assert client.get("/registry/crosspost").status_code == 302
    login_as(make.user("operator"))
    assert client.get("/registry/crosspost").status_code == 403


def test_resend_all_failed_queues_every_failed_delivery(make, login_as, fakes, accounts):
    client = login_as(make.user("manager"))
    compose(client)
    announcement = db.session.scalars(db.select(Announcement)).one()
    for delivery in announcement.deliveries[:2]:
        delivery.state, delivery.last_error = "failed", "VK error 15: access denied"
    db.session.commit()
    page = client.get(f"/registry/crosspost/{announcement.id}").get_data(as_text=True)
    assert 'data-test="resend-failed"' in page and "(2)" in page
    client.post(f"/registry/crosspost/{announcement.id}/resend-failed", data={"csrf_token": csrf_from(page)})
    db.session.expire_all()
    assert sorted(d.state for d in db.session.get(Announcement, announcement.id).deliveries) == \
        ["queued", "queued", "queued"]
