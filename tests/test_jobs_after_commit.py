"""Jobs go out after the commit, by mechanism: ``desk.jobs.enqueue_after_commit`` keeps
them on the session, the ``after_commit`` listener sends them, a rollback drops them."""
from __future__ import annotations

import importlib

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import text

from desk import jobs
from desk.extensions import db
from desk.models import Department, Role, WebhookDelivery
from desk.models.replies import ReplyDelivery
from desk.queue import get_queue

from .conftest import csrf_from
from .telegram_support import count, fake_tg, tg_account, tg_bot  # noqa: F401  (fixtures)


def queued() -> list[tuple[str, tuple]]:
    return [(job.func_name, tuple(job.args)) for job in get_queue().get_jobs()]


def test_a_job_queued_then_committed_is_enqueued_exactly_once(app):
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES, 7)
    assert queued() == []  # nothing before the commit
    db.session.commit()
    assert queued() == [(jobs.RECOMPUTE_DEADLINES, (7,))]
    db.session.commit()  # a later commit sends nothing again
    assert len(queued()) == 1 and jobs.pending_jobs() == []


def test_a_rollback_enqueues_nothing(app):
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES, 1)
    db.session.rollback()
    db.session.commit()
    assert queued() == []


def test_a_job_queued_outside_a_transaction_belongs_to_the_next_one(app):
    db.session.commit()  # no transaction open now
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES, 2)
    db.session.rollback()
    db.session.commit()
    assert queued() == []


def test_savepoints_keep_or_drop_their_own_jobs(app):
    db.session.execute(text("SELECT 1"))
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES, "outer")
    dropped = db.session.begin_nested()
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES, "rolled back")
    dropped.rollback()
    kept = db.session.begin_nested()
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES, "released")
    kept.commit()
    assert queued() == []  # releasing a savepoint is not the commit
    db.session.commit()
    assert sorted(args for _, args in queued()) == [("outer",), ("released",)]


def test_the_outer_rollback_drops_the_jobs_of_a_released_savepoint(app):
    db.session.execute(text("SELECT 1"))
    savepoint = db.session.begin_nested()
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES, 3)
    savepoint.commit()
    db.session.rollback()
    db.session.commit()
    assert queued() == []


@pytest.fixture
def redis_down(app, monkeypatch):
    """The queue on a Redis nobody listens to."""
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr("desk.queue.get_queue", lambda name="default": Queue(name, connection=dead))


def test_a_failure_to_enqueue_is_raised_after_the_rows_are_committed(app, make, redis_down):
    department = make.department("Дороги")
    department.name = "Дороги и мосты"
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES)
    with pytest.raises(Exception, match="(?i)connect"):
        db.session.commit()
    with db.engine.connect() as other:  # committed before the failure surfaced
        assert other.execute(db.select(Department.name).where(Department.id == department.id)).scalar() \
            == "Дороги и мосты"
    department.name = "Мосты"  # and the session goes on working
    db.session.commit()
    db.session.expire_all()
    assert department.name == "Мосты" and queued() == []


def test_a_best_effort_job_logs_a_failure_and_the_commit_stands(app, make, redis_down, caplog):
    jobs.enqueue_after_commit(jobs.PROCESS_DELIVERY, 5, best_effort=True)
    db.session.commit()
    assert "could not enqueue" in caplog.text


def test_every_job_name_is_a_worker_function():
    names = [value for key, value in vars(jobs).items() if key.isupper() and isinstance(value, str)
             and value.startswith("workers.")]
    assert len(names) >= 16
    for name in names:
        module, _, function = name.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), name


# --- the real view paths -------------------------------------------------------------------------


@pytest.fixture
def committed_at_enqueue(app, monkeypatch):
    """Checks, as each job reaches Redis, that its row is visible from another
    connection (committed); returns the (job, visible) pairs."""
    seen: list[tuple[str, bool]] = []
    original = Queue.enqueue
    tables = {jobs.PROCESS_DELIVERY: WebhookDelivery.__tablename__, jobs.POST_REPLY: ReplyDelivery.__tablename__}

    def enqueue(self, f, *args, **kwargs):
        table = tables.get(f)
        if table is not None:
            with db.engine.connect() as other:
                visible = other.execute(text(f"SELECT count(*) FROM {table} WHERE id = :id"),
                                        {"id": args[0]}).scalar() == 1
            seen.append((f, visible))
        return original(self, f, *args, **kwargs)

    monkeypatch.setattr(Queue, "enqueue", enqueue)
    return seen


def test_a_reply_posted_through_the_card_is_enqueued_after_its_commit(make, login_as, committed_at_enqueue):
    department = make.department("ЖКХ")
    account = make.account("vk", settings={"group_id": 42})
    ticket = make.ticket(account, "Когда починят трубу?", external_id="-42_7", thread_ref="-42_5")
    ticket.department_id, ticket.status = department.id, "in_progress"
    db.session.commit()
    client = login_as(make.user(Role.DEPARTMENT_HEAD, department=department))
    token = csrf_from(client.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    response = client.post(f"/tickets/{ticket.id}/replies", data={"csrf_token": token, "text": "Починим"})
    assert response.status_code == 302
    [row] = db.session.scalars(db.select(ReplyDelivery)).all()
    assert committed_at_enqueue == [(jobs.POST_REPLY, True)]
    assert queued() == [(jobs.POST_REPLY, (row.id,))]


def test_a_refused_reply_enqueues_nothing(make, login_as, app, committed_at_enqueue):
    app.config["REPLY_LIMIT_VK"] = 10
    department = make.department("ЖКХ")
    account = make.account("vk", settings={"group_id": 42})
    ticket = make.ticket(account, "Труба", external_id="-42_8", thread_ref="-42_5")
    ticket.department_id, ticket.status = department.id, "in_progress"
    db.session.commit()
    client = login_as(make.user(Role.DEPARTMENT_HEAD, department=department))
    token = csrf_from(client.get(f"/tickets/{ticket.id}").get_data(as_text=True))
    client.post(f"/tickets/{ticket.id}/replies", data={"csrf_token": token, "text": "x" * 11})
    assert committed_at_enqueue == [] and queued() == []


def test_a_webhook_delivery_is_enqueued_after_its_commit(client, tg_bot, tg_account, committed_at_enqueue):  # noqa: F811
    _, forward = tg_bot.publish("Новость")
    tg_bot.comment(forward, "Когда починят фонарь?")
    update = tg_bot.updates[-1]
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_-Token"}
    assert client.post(f"/hooks/telegram/{tg_account.id}", json=update, headers=headers).status_code == 200
    delivery = db.session.scalars(db.select(WebhookDelivery)).one()
    assert committed_at_enqueue == [(jobs.PROCESS_DELIVERY, True)]
    assert queued() == [(jobs.PROCESS_DELIVERY, (delivery.id,))]
    # the same event again: stored once, no second job
    assert client.post(f"/hooks/telegram/{tg_account.id}", json=update, headers=headers).status_code == 200
    assert count(WebhookDelivery) == 1 and len(queued()) == 1


def test_a_webhook_is_answered_200_while_redis_is_down(client, tg_bot, tg_account, redis_down):  # noqa: F811
    _, forward = tg_bot.publish("Новость")
    tg_bot.comment(forward, "Фонарь")
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_-Token"}
    response = client.post(f"/hooks/telegram/{tg_account.id}", json=tg_bot.updates[-1], headers=headers)
    assert response.status_code == 200 and count(WebhookDelivery) == 1  # the sweeper enqueues it later
