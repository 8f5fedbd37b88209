"""Shared set-up for the replies tests: fakes, accounts with a resident's comment on
each network, and a drain loop that runs queued and due scheduled jobs in process."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
from rq import SimpleWorker
from rq.job import Job

from desk.extensions import db
from desk.models import Ticket
from desk.models.replies import DeliveryState, ReplyDelivery
from desk.queue import get_queue

from .fakes.max import BOT_USER_ID, FakeMax
from .fakes.telegram import FakeTelegram
from .fakes.vk import FakeVK

VK_GROUP = 4242
VK_TOKEN = "vk-group-token-abc"
MAX_TOKEN = "max-bot-token-xyz"
FINAL = {DeliveryState.SENT.value, DeliveryState.FAILED.value, DeliveryState.UNKNOWN.value,
         DeliveryState.MANUAL.value, DeliveryState.CANCELLED.value}


@pytest.fixture
def fast_replies(app):
    # Fast backoff, but a generous timeout: a busy CI machine may stall a fake for a second,
    # and a test that wants timeouts to fire (hang faults) sets its own.
    app.config.update(REPLY_HTTP_TIMEOUT=10.0, REPLY_BACKOFF_BASE=0.01, REPLY_BACKOFF_MAX=0.05)
    return app


@pytest.fixture
def tg(app, fast_replies):
    fake = FakeTelegram(seed=3).start()
    app.config["TELEGRAM_API_BASE"] = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def vk(app, fast_replies):
    with FakeVK(seed=3) as fake:
        fake.add_token(VK_TOKEN, "group", VK_GROUP)
        app.config["VK_API_BASE"] = fake.url
        yield fake


@pytest.fixture
def mx(app, fast_replies):
    with FakeMax(MAX_TOKEN, seed=3) as fake:
        fake.hang_seconds = 1.5
        app.config["MAX_API_BASE"] = fake.url
        app.config["MAX_HTTP_TIMEOUT"] = 10.0
        yield fake


def tg_account(make, bot, **kw):
    return make.account("telegram", settings={"channel_id": bot.channel_id, "discussion_chat_id": bot.discussion_chat_id,
                                              "username": bot.channel_username, "bot_id": bot.bot_id},
                        credentials={"bot_token": bot.token}, **kw)


def tg_ticket(make, account, bot, forward, text: str, user_id: int, **kw) -> Ticket:
    """A resident's comment in the fake group, ingested as the collector would."""
    comment = bot.comment(forward, text, user=bot.user(user_id))
    chat = bot.discussion_chat_id
    return make.ticket(account, text, external_id=f"{chat}:{comment['message_id']}", author_id=str(user_id),
                       thread_ref=str(forward["message_id"]), **kw)


def vk_account(make, group_id: int = VK_GROUP, token: str = VK_TOKEN, **kw):
    return make.account("vk", settings={"group_id": group_id}, credentials={"group_token": token}, **kw)


def vk_ticket(make, account, fake, post_id: int, text: str, user_id: int, group_id: int = VK_GROUP) -> Ticket:
    owner = -group_id
    if (owner, post_id) not in fake.posts:
        fake.add_post(owner, post_id, "Пост", int(time.time()))
    comment = fake.add_comment(owner, post_id, user_id, text, int(time.time()))
    return make.ticket(account, text, external_id=f"{owner}_{comment['id']}", author_id=str(user_id),
                       thread_ref=f"{owner}_{post_id}")


def max_account(make, fake, **kw):
    return make.account("max", settings={"chat_id": fake.channel_id, "bot_user_id": BOT_USER_ID},
                        credentials={"bot_token": fake.token}, **kw)


def max_ticket(make, account, fake, post: dict, text: str, user_id: int) -> Ticket:
    comment = fake.comment(post, text, fake.user(user_id))
    return make.ticket(account, text, external_id=comment["message"]["body"]["mid"], author_id=str(user_id),
                       thread_ref=post["message"]["body"]["mid"])


def _move_due_scheduled(queue) -> int:
    registry = queue.scheduled_job_registry
    ids = registry.get_jobs_to_schedule(int(time.time()) + 1)
    for job_id in ids:
        registry.remove(job_id)
        job = Job.fetch(job_id, connection=queue.connection)
        queue.enqueue_job(job)
    return len(ids)


def drain(until: Callable[[], bool] | None = None, limit_seconds: float = 120) -> None:
    """Run queued jobs and scheduled ones as they fall due, until ``until()`` (default:
    every outbox row is final) or nothing is left to run."""
    queue = get_queue()
    worker = SimpleWorker([queue], connection=queue.connection)
    until = until or all_final
    stop_at = time.monotonic() + limit_seconds  # a safety net, not an assertion on speed
    while time.monotonic() < stop_at:
        _move_due_scheduled(queue)
        worker.work(burst=True)
        db.session.rollback()
        if until():
            return
        if not queue.count and not queue.scheduled_job_registry.count:
            return
        time.sleep(0.05)


def rows() -> list[ReplyDelivery]:
    return db.session.scalars(db.select(ReplyDelivery).order_by(ReplyDelivery.id)).all()


def all_final() -> bool:
    return all(r.state in FINAL for r in rows())


def states() -> Counter:
    return Counter(r.state for r in rows())
