"""The Telegram real-payload corpus (``tests/corpus/telegram``) through both real paths.

Every case is delivered as Telegram would: POSTed to ``/hooks/telegram/<id>`` with the
secret header and applied by a burst RQ worker, and returned verbatim by the fake's
``getUpdates`` to the polling collector. The database change must be the case's
expected outcome (see :mod:`tests.corpus_support`).
"""
from __future__ import annotations

import json

import pytest

from desk.extensions import db
from desk.models import Message, Post, Ticket
from workers.collectors.base import poll_account

from .collect_helpers import drain_queue, no_sleep
from .corpus_support import by_polling, case_params, load_cases, run_case
from .telegram_support import fake_tg, telegram_account, tg_bot  # noqa: F401

SECRET_HEADER = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_-Token"}
CASES = load_cases("telegram")


def _by_webhook(client, account_id: int):
    """POST each update as Telegram does, a lone surrogate sent as its ``\\uXXXX`` escape
    (it cannot be UTF-8), then run the queued jobs."""
    def deliver(updates: list[dict]) -> None:
        for update in updates:
            answer = client.post(f"/hooks/telegram/{account_id}", data=json.dumps(update),
                                 content_type="application/json", headers=SECRET_HEADER)
            assert answer.status_code == 200, answer.get_data(as_text=True)
        drain_queue()

    return deliver


@pytest.mark.parametrize("case,path", case_params(CASES))
def test_real_payload(case, path, client, make, tg_bot):
    account_id = telegram_account(make, tg_bot, **case.settings).id
    run_case(case, _by_webhook(client, account_id) if path == "webhook" else by_polling(tg_bot.push_raw, account_id))


def test_the_corpus_is_big_enough_and_names_its_sources():
    assert len(CASES) >= 22
    assert all(c.source.strip() and c.about.strip() for c in CASES)


def test_comments_of_a_thread_are_tied_to_the_post_when_its_forward_arrives_late(tg_bot, make):
    """Replies to a comment name thread 501 before its forward is known: no placeholder
    post is made for them; when the forward (and later its edit) arrives, the messages
    and their tickets are tied to the post."""
    account = telegram_account(make, tg_bot)
    _, forward = tg_bot.publish("Отключение воды 3 июня", channel_post_update=False)
    tg_bot.updates.clear()  # the forward arrives late
    first = tg_bot.comment(forward, "Надолго отключат?", user=tg_bot.user(3001, "Ольга", None))
    tg_bot.updates.clear()  # and so does the first comment
    tg_bot.comment(forward, "Тоже хочу знать", user=tg_bot.user(3002, "Пётр", "Орлов"), reply_to=first)
    tg_bot.comment(forward, "И я", user=tg_bot.user(3003, "Анна", None), reply_to=first)
    poll_account(account.id, sleep=no_sleep)
    assert db.session.scalar(db.select(db.func.count(Post.id))) == 0
    assert db.session.scalars(db.select(Ticket.post_id)).all() == [None, None]

    tg_bot.push("message", dict(forward))
    tg_bot.edit(forward, "Отключение воды 3 июня с 9:00 до 17:00")
    poll_account(account.id, sleep=no_sleep)
    db.session.expire_all()
    post = db.session.scalars(db.select(Post)).one()
    assert post.text == "Отключение воды 3 июня с 9:00 до 17:00"
    assert {m.post_id for m in db.session.scalars(db.select(Message))} == {post.id}
    assert {t.post_id for t in db.session.scalars(db.select(Ticket))} == {post.id}


def test_a_reply_chain_never_becomes_a_post_even_with_many_replies(tg_bot, make):
    account = telegram_account(make, tg_bot)
    root = tg_bot.group_message("Кто знает, когда дадут отопление?", user=tg_bot.user(4001, "Ольга", None))
    reply = tg_bot.group_message("Обещали с 15 сентября", user=tg_bot.user(4002, "Пётр", None), reply_to=root)
    tg_bot.group_message("Уже 20-е", user=tg_bot.user(4003, "Анна", None), reply_to=reply)
    poll_account(account.id, sleep=no_sleep)
    assert db.session.scalar(db.select(db.func.count(Post.id))) == 0
    threads = db.session.scalars(db.select(Message.thread_ref).order_by(Message.id)).all()
    assert threads == [f"chat:{tg_bot.discussion_chat_id}", str(root["message_id"]), str(root["message_id"])]
