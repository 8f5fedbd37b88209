"""Subscriber snapshots against the strict fakes: one row per account per city day,
VK in batches, retries through faults, and a failing network left as a gap."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from desk.extensions import db
from desk.i18n import city_today
from desk.models import CollectorState
from desk.models.registry import SubscriberSnapshot
from desk.periodic import PERIODIC_JOBS
from desk.registry.snapshots import snapshot_failures
from workers import stats
from workers.collectors import vk as vk_collector

from .conftest import login
from .fakes.max import FakeMax
from .fakes.ok import FakeOk
from .fakes.telegram import FakeTelegram
from .fakes.vk import FakeVK

DAY = date(2026, 11, 20)
MAX_TOKEN, MAX_CHAT = "max-bot-token", -71234567890
OK_KEYS = {"application_key": "CBAPUBLICKEY", "application_secret": "APPSECRET0123", "access_token": "tkn-ok-access"}
OK_GROUP = "55348644610059"
NO_SLEEP = {"sleep": lambda _s: None}


@pytest.fixture
def fakes(app):
    tg = FakeTelegram(seed=3).start()
    vk = FakeVK(seed=3).start()
    mx = FakeMax(MAX_TOKEN, seed=3, channel_id=MAX_CHAT).start()
    ok = FakeOk(group_id=OK_GROUP, seed=3, **OK_KEYS).start()
    vk.add_token("service-token", "service")
    app.config.update(TELEGRAM_API_BASE=tg.url, VK_API_BASE=vk.url, MAX_API_BASE=mx.url, OK_API_BASE=ok.url,
                      MAX_HTTP_TIMEOUT=10.0, OK_HTTP_TIMEOUT=10.0, TELEGRAM_HTTP_TIMEOUT=10.0)
    yield tg, vk, mx, ok
    for client in vk_collector._clients.values():
        client.close()
    vk_collector._clients.clear()
    for fake in (tg, vk, mx, ok):
        fake.stop()


def _accounts(make, fakes, vk_groups: int = 3):
    tg, vk, mx, ok = fakes
    bot = tg.add_bot()
    bot.member_counts[bot.channel_id] = 12345
    accounts = {"telegram": make.account("telegram", settings={"channel_id": bot.channel_id},
                                         credentials={"bot_token": bot.token})}
    for n in range(vk_groups):
        vk.add_group(1000 + n, f"Group {n}", members_count=4000 + n)
        accounts[f"vk{n}"] = make.account("vk", settings={"group_id": str(1000 + n)},
                                          credentials={"service_token": "service-token"})
    accounts["max"] = make.account("max", settings={"chat_id": MAX_CHAT}, credentials={"bot_token": MAX_TOKEN})
    ok.members_count = 10234
    accounts["ok"] = make.account("ok", settings={"group_id": OK_GROUP, "application_key": OK_KEYS["application_key"]},
                                  credentials={"application_secret": OK_KEYS["application_secret"],
                                               "access_token": OK_KEYS["access_token"]})
    return accounts


def _counts(day: date = DAY) -> dict[int, int]:
    rows = db.session.execute(db.select(SubscriberSnapshot.account_id, SubscriberSnapshot.count)
                              .where(SubscriberSnapshot.day == day)).all()
    return dict(rows)


def test_every_network_counted_once_per_day_with_vk_batched(app, make, fakes):
    tg, vk, mx, ok = fakes
    accounts = _accounts(make, fakes)
    result = stats.take_snapshots(DAY, **NO_SLEEP)
    assert result == {"day": DAY.isoformat(), "recorded": 6, "failed": 0}
    counts = _counts()
    assert counts[accounts["telegram"].id] == 12345
    assert [counts[accounts[f"vk{n}"].id] for n in range(3)] == [4000, 4001, 4002]
    assert counts[accounts["max"].id] == 15234
    assert counts[accounts["ok"].id] == 10234
    # VK: one call for the three communities, asking for members_count
    assert vk.count("groups.getById") == 1
    assert vk.params_of("groups.getById")[0]["group_ids"] == "1000,1001,1002"
    assert vk.params_of("groups.getById")[0]["fields"] == "members_count"
    # a second run the same day asks nobody; a refresh replaces the day's count, not adds one
    assert stats.take_snapshots(DAY, **NO_SLEEP)["recorded"] == 0
    bot = next(iter(tg.bots.values()))
    bot.member_counts[bot.channel_id] = 12400
    stats.take_snapshots(DAY, refresh=True, **NO_SLEEP)
    assert _counts()[accounts["telegram"].id] == 12400
    assert db.session.scalar(db.select(db.func.count()).select_from(SubscriberSnapshot)) == 6


def test_transient_faults_are_retried(app, make, fakes):
    tg, vk, mx, ok = fakes
    accounts = _accounts(make, fakes, vk_groups=1)
    vk.fail_next("error6", "503")
    mx.fail_next("429", "500")
    ok.fail_next("truncated")
    result = stats.take_snapshots(DAY, **NO_SLEEP)
    assert result["recorded"] == 4 and result["failed"] == 0
    assert _counts()[accounts["max"].id] == 15234
    assert mx.faults_served == ["429", "500"]


def test_a_failing_network_leaves_a_gap_not_a_zero_and_is_shown_to_admins(app, make, fakes, client):
    tg, vk, mx, ok = fakes
    accounts = _accounts(make, fakes, vk_groups=1)
    mx.fail_randomly(1.0, ("503",))  # MAX is down all day
    result = stats.take_snapshots(DAY, **NO_SLEEP)
    assert result["failed"] == 1
    counts = _counts()
    assert accounts["max"].id not in counts  # a gap
    assert counts[accounts["ok"].id] == 10234
    state = db.session.scalars(db.select(CollectorState).where(
        CollectorState.account_id == accounts["max"].id, CollectorState.stream == "subscribers")).one()
    assert state.consecutive_failures == 1 and "HTTP 503" in state.last_error
    assert [f.account.id for f in snapshot_failures()] == [accounts["max"].id]

    admin = make.user("admin")
    login(client, admin.email)
    page = client.get("/admin/collectors/").get_data(as_text=True)
    assert "subscriber count: RetryableError: HTTP 503" in page

    # MAX is back: the next run of the day fills the gap and clears the error
    mx.fail_randomly(0.0)
    assert stats.take_snapshots(DAY, **NO_SLEEP)["recorded"] == 1
    assert _counts()[accounts["max"].id] == 15234
    assert snapshot_failures() == []


def test_unknown_vk_community_and_missing_token_fail_alone(app, make, fakes):
    tg, vk, mx, ok = fakes
    vk.add_group(2000, "Known", members_count=77)
    known = make.account("vk", settings={"group_id": "2000"}, credentials={"service_token": "service-token"})
    tokenless = make.account("vk", settings={"group_id": "2001"})
    result = stats.take_snapshots(DAY, **NO_SLEEP)
    assert result == {"day": DAY.isoformat(), "recorded": 1, "failed": 1}
    assert _counts() == {known.id: 77}
    failure = snapshot_failures()[0]
    assert failure.account.id == tokenless.id and "has no group_token" in failure.error


def test_day_is_the_city_day_and_the_job_is_periodic(app):
    # 20:00 UTC on 20 Nov is already 21 Nov in Belogorsk (UTC+9)
    assert city_today(datetime(2026, 11, 20, 20, 0, tzinfo=UTC)) == date(2026, 11, 21)
    assert any(name == "workers.stats.snapshot_subscribers" and interval < 86400
               for name, interval in PERIODIC_JOBS)


def test_job_entry_point_records_under_the_given_day(app, make, fakes):
    accounts = _accounts(make, fakes, vk_groups=1)
    result = stats.snapshot_subscribers("2026-11-19")
    assert result["day"] == "2026-11-19" and result["recorded"] == 4
    assert _counts(date(2026, 11, 19))[accounts["ok"].id] == 10234
