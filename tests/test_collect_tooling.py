"""Collector tooling: faults and crashes never lose or double a comment; the commands,
the periodic jobs, and the admin page with the dead letters."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from rq import SimpleWorker

from desk.channels.errors import ChannelError
from desk.extensions import db
from desk.models import CollectorState, DeadLetter, Message, Ticket, utcnow
from desk.periodic import PERIODIC_JOBS
from desk.queue import get_queue
from workers.collectors.base import poll_account, poll_due_accounts

from .conftest import TEST_SECRET
from .fakes.telegram import Faults
from .telegram_support import count, fake_tg, telegram_account, tg_account, tg_bot  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def _comments(bot, n: int, prefix: str = "comment") -> list[str]:
    _, forward = bot.publish("Пост о ремонте дорог")
    for i in range(n):
        bot.comment(forward, f"{prefix} {i}", user=bot.user(50_000 + i))
    return [f"{prefix} {i}" for i in range(n)]


def _assert_each_once(expected: list[str]) -> None:
    stored = Counter(db.session.scalars(db.select(Message.text)).all())
    assert set(stored) == set(expected), "a comment was lost"
    assert max(stored.values()) == 1, "a comment was stored twice"
    assert count(Ticket) == len(expected)


@pytest.mark.slow
def test_faulty_network_ends_with_every_comment_ingested_exactly_once(app, fake_tg, tg_bot, tg_account):
    app.config["TELEGRAM_HTTP_TIMEOUT"] = 0.5
    fake_tg.faults = Faults(rate_429=0.15, rate_5xx=0.15, rate_hang=0.07, rate_truncated=0.15,
                            retry_after=3, hang_seconds=1.0)
    expected = _comments(tg_bot, 700)
    sleeps: list[float] = []
    failed_runs = 0
    for _ in range(60):  # like cron: a run that outlives its retries is simply run again
        try:
            poll_account(tg_account.id, sleep=sleeps.append)
        except ChannelError:
            failed_runs += 1
            continue
        if fake_tg.pending(tg_bot) == 0:
            break
    faults = Counter(r.fault for r in fake_tg.calls("getUpdates"))
    assert all(faults[kind] > 0 for kind in ("429", "5xx", "hang", "truncated")), faults
    assert 3 in sleeps  # Telegram's retry_after is honoured
    _assert_each_once(expected)


def _flask(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "desk:create_app", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_collector_killed_mid_batch_loses_and_doubles_nothing(app, fake_tg, tg_bot, tg_account):
    expected = _comments(tg_bot, 1200)
    fake_tg.slow_seconds = 0.15
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               SECRET_KEY=TEST_SECRET, TELEGRAM_API_BASE=fake_tg.url, DESK_INSTANCE_PATH=app.instance_path)
    db.session.commit()
    first = _flask("collect", "run", "--account", str(tg_account.id), env=env)
    deadline = time.monotonic() + 60
    while count(Message) < 250 and time.monotonic() < deadline and first.poll() is None:
        db.session.rollback()
        time.sleep(0.05)
    time.sleep(0.07)  # somewhere inside the next batch: reading, ingesting or committing
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    db.session.rollback()
    stored_at_kill = count(Message)
    assert 0 < stored_at_kill < len(expected), "the kill did not land mid-run"
    second = _flask("collect", "run", "--account", str(tg_account.id), env=env)
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output
    db.session.rollback()
    _assert_each_once(expected)


def test_collect_run_prints_counts_per_account(app, fake_tg, tg_bot, tg_account, make):
    _comments(tg_bot, 3)
    other = make.account("telegram", settings={"mode": "webhook"})
    result = app.test_cli_runner().invoke(args=["collect", "run", "--platform", "telegram"])
    assert result.exit_code == 0, result.output
    assert f"account {tg_account.id} (telegram, {tg_account.name}): created 3" in result.output
    assert f"account {other.id} (telegram, {other.name}): not collected by polling" in result.output
    assert tg_bot.token not in result.output


def test_collect_run_reports_a_failing_account_and_exits_non_zero(app, make, fake_tg):
    broken = make.account("telegram", credentials={"bot_token": "42:NOSUCHtokenNOSUCHtoken"})
    result = app.test_cli_runner().invoke(args=["collect", "run", "--account", str(broken.id)])
    assert result.exit_code == 1
    assert "FAILED: Unauthorized" in result.output and "NOSUCH" not in result.output


def test_backfill_says_when_a_network_cannot_do_it(app, tg_account):
    result = app.test_cli_runner().invoke(args=["collect", "backfill", "--account", str(tg_account.id),
                                                "--since", "2026-01-01"])
    assert result.exit_code != 0 and "not supported by this network" in result.output


def test_periodic_jobs_poll_only_due_polling_accounts(app, make, tg_account):
    recent = make.account("telegram", credentials={"bot_token": "1:x"})
    db.session.add(CollectorState(account_id=recent.id, stream="main", last_run_at=utcnow() - timedelta(seconds=5)))
    make.account("telegram", settings={"mode": "webhook"})
    stale = make.account("telegram", credentials={"bot_token": "2:x"})
    db.session.add(CollectorState(account_id=stale.id, stream="main", last_run_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert sorted(poll_due_accounts()) == sorted([tg_account.id, stale.id])
    jobs = get_queue().get_jobs()
    assert sorted(j.args[0] for j in jobs) == sorted([tg_account.id, stale.id])
    assert {j.func_name for j in jobs} == {"workers.collectors.base.poll_account_job"}
    names = [name for name, _ in PERIODIC_JOBS]
    assert "workers.collectors.base.poll_due_accounts" in names
    assert "workers.collectors.base.sweep_pending_deliveries" in names


def test_poll_job_run_by_a_worker_ingests_and_shows_on_the_admin_page(app, fake_tg, tg_bot, tg_account, make,
                                                                        login_as):
    _comments(tg_bot, 4)
    name = tg_account.name
    poll_due_accounts()
    db.session.remove()
    SimpleWorker([get_queue()], connection=get_queue().connection).work(burst=True)
    assert count(Message) == 4
    client = login_as(make.user("admin"))
    page = client.get("/admin/collectors/").get_data(as_text=True)
    assert name in page
    assert 'data-test="items-today">4<' in page


# --- dead letters on the admin page ------------------------------------------------------


def _letter(account, payload: str, error: str = "ValueError: broken") -> DeadLetter:
    letter = DeadLetter(account_id=account.id, platform="telegram", source="poll", payload=payload, error=error)
    db.session.add(letter)
    db.session.commit()
    return letter


def _csrf(page: str) -> str:
    from .conftest import csrf_from

    return csrf_from(page)


def _work() -> None:
    db.session.remove()
    SimpleWorker([get_queue()], connection=get_queue().connection).work(burst=True)


def test_dead_letter_replay_after_a_fix_creates_the_ticket(client, make, login_as, tg_account):
    payload = ('{"update_id": 7, "message": {"message_id": 9, "date": 1767225700, "text": "Нет отопления",'
               ' "from": {"id": 31, "is_bot": false, "first_name": "Пётр"},'
               ' "chat": {"id": -1002222222222, "type": "supergroup"}, "message_thread_id": 501}}')
    letter = _letter(tg_account, payload)
    login_as(make.user("admin"))
    page = client.get("/admin/collectors/").get_data(as_text=True)
    assert f'data-dead-letter="{letter.id}"' in page
    response = client.post(f"/admin/collectors/dead-letters/{letter.id}/replay", data={"csrf_token": _csrf(page)})
    assert response.status_code == 302
    _work()
    assert db.session.get(DeadLetter, letter.id).status == "replayed"
    assert db.session.scalars(db.select(Ticket)).one().subject == "Нет отопления"
    assert 'data-test="no-dead-letters"' in client.get("/admin/collectors/").get_data(as_text=True)


def test_still_broken_dead_letter_stays_with_the_new_error(client, make, login_as, tg_account):
    letter = _letter(tg_account, '{"update_id": 8, "message": {"text": "без чата"}}')
    login_as(make.user("admin"))
    page = client.get("/admin/collectors/").get_data(as_text=True)
    client.post(f"/admin/collectors/dead-letters/{letter.id}/replay", data={"csrf_token": _csrf(page)})
    _work()
    letter = db.session.get(DeadLetter, letter.id)
    assert letter.status == "pending" and letter.replay_count == 1 and "without a chat" in letter.error


def test_dead_letter_payload_is_escaped_and_can_be_discarded(client, make, login_as, tg_account):
    letter = _letter(tg_account, '{"text": "<script>alert(1)</script>"}', error="<b>bad</b>")
    login_as(make.user("admin"))
    page = client.get("/admin/collectors/").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<b>bad</b>" not in page
    assert client.post(f"/admin/collectors/dead-letters/{letter.id}/discard", data={}).status_code == 400
    client.post(f"/admin/collectors/dead-letters/{letter.id}/discard", data={"csrf_token": _csrf(page)})
    assert db.session.get(DeadLetter, letter.id).status == "discarded"
    listing = client.get("/admin/collectors/").get_data(as_text=True)
    assert f'data-dead-letter="{letter.id}"' not in listing
    # the next page offers to undo the discard (once)
    assert f'action="/admin/collectors/dead-letters/{letter.id}/restore"' in listing
    client.post(f"/admin/collectors/dead-letters/{letter.id}/restore", data={"csrf_token": _csrf(listing)})
    db.session.expire_all()
    assert db.session.get(DeadLetter, letter.id).status == "pending"
    assert client.post(f"/admin/collectors/dead-letters/{letter.id}/restore",
                       data={"csrf_token": _csrf(listing)}).status_code == 404  # not discarded now


def test_collectors_page_is_for_admins_only(client, make, login_as):
    assert client.get("/admin/collectors/").status_code == 302  # to the login page
    login_as(make.user("operator"))
    assert client.get("/admin/collectors/").status_code == 403


def test_collectors_page_shows_the_last_error(client, make, login_as, fake_tg):
    broken = make.account("telegram", credentials={"bot_token": "42:NOSUCHtokenNOSUCHtoken"})
    with pytest.raises(ChannelError):
        poll_account(broken.id, sleep=lambda s: None)
    login_as(make.user("admin"))
    page = client.get("/admin/collectors/").get_data(as_text=True)
    assert "PermanentError: Unauthorized" in page and 'data-test="failures">1<' in page
    assert "Последняя ошибка" in page and "Неразобранных сообщений нет." in page  # Russian by default
    assert "NOSUCH" not in page


def test_ingest_many_gives_the_same_outcomes_as_one_by_one(app, make):
    from desk.ingest import ingest_many

    acc = make.account()
    make.ticket(acc, "Старая заявка", author_id="7", thread_ref="p1", external_id="old")
    batch = [
        make.inbound(acc, "Новая", external_id="n1", author_id="1", thread_ref="p1"),
        make.inbound(acc, "Ещё от того же", external_id="n2", author_id="1", thread_ref="p1"),
        make.inbound(acc, "Повтор", external_id="old", author_id="7", thread_ref="p1"),
        make.inbound(acc, "Снова пишу", external_id="n3", author_id="7", thread_ref="p1"),
        make.inbound(acc, "Новая (ред.)", external_id="n1", author_id="1", thread_ref="p1", is_edit=True),
        make.inbound(acc, "Другой пост", external_id="n4", author_id="1", thread_ref="p2"),
    ]
    outcomes = [r.outcome for r in ingest_many(batch)]
    db.session.commit()
    assert outcomes == ["created", "joined", "duplicate", "joined", "edited", "created"]
    assert count(Ticket) == 3 and count(Message) == 5
    first = db.session.scalars(db.select(Message).where(Message.external_id == "n1")).one()
    assert first.text == "Новая (ред.)" and first.ticket.message_count == 2
    assert first.ticket.reaction_due_at is not None  # the SLA listener ran for the batched ticket
