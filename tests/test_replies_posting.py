"""Posting public replies: the exact request per network, the outbox states, retries,
permanent failures, unknown outcomes, merged incidents and OK's manual posting."""
from __future__ import annotations

import time

import pytest

from desk.channels.vk import random_id_for as vk_random_id
from desk.extensions import db
from desk.models import Message, Role, TicketEvent
from desk.models.replies import ReplyDelivery
from desk.queue import get_redis
from desk.replies import outbox, services
from desk.replies.jobs import enqueue_deliveries
from desk.tickets.services import merge
from workers.replies import LEASE_KEY, post_delivery, sweep

from .fakes.telegram import Faults
from .replies_support import (  # noqa: F401
    VK_GROUP,
    drain,
    fast_replies,
    max_account,
    max_ticket,
    mx,
    rows,
    states,
    tg,
    tg_account,
    tg_ticket,
    vk,
    vk_account,
    vk_ticket,
)


def answer(ticket, user, text="Здравствуйте, {name}! Заявка #{ticket} принята."):
    reply = services.compose(ticket, user, text)
    db.session.commit()
    enqueue_deliveries(services.to_enqueue(reply))
    return reply


def kinds(ticket) -> list[str]:
    return db.session.scalars(db.select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)
                              .order_by(TicketEvent.id)).all()


def test_telegram_reply_goes_to_the_discussion_group_as_a_reply_to_the_comment(make, tg):
    bot = tg.add_bot()
    account = tg_account(make, bot)
    _, forward = bot.publish("Ремонт улицы Ленина")
    ticket = tg_ticket(make, account, bot, forward, "Когда починят яму?", 501)
    comment_id = int(ticket.messages[0].external_id.rsplit(":", 1)[1])
    operator = make.user(Role.OPERATOR)
    answer(ticket, operator)
    drain()
    [call] = tg.calls("sendMessage")
    assert call.params == {"chat_id": bot.discussion_chat_id,
                           "text": f"Здравствуйте, Иван Петров! Заявка #{ticket.id} принята.",
                           "reply_parameters": {"message_id": comment_id, "allow_sending_without_reply": False}}
    [row] = rows()
    assert row.state == "sent" and row.attempts == 1
    posted = bot.chat_messages[bot.discussion_chat_id][int(row.external_id.rsplit(":", 1)[1])]
    assert posted["message_thread_id"] == forward["message_id"]  # it landed in the post's thread
    city = db.session.get(Message, row.message_id)
    assert city.direction == "outbound" and city.ticket_id == ticket.id and city.text == call.params["text"]
    db.session.refresh(ticket)
    assert ticket.first_reply_at is not None and ticket.reacted_at is not None
    assert {"reply_written", "reply_approved", "reply_queued", "reply_sending", "reply_sent"} <= set(kinds(ticket))


def test_vk_reply_is_a_community_comment_with_the_outbox_key_as_guid(make, vk):
    account = vk_account(make)
    ticket = vk_ticket(make, account, vk, 77, "Нет света в подъезде", 1234567)
    comment_id = int(ticket.messages[0].external_id.split("_")[1])
    answer(ticket, make.user(Role.OPERATOR), "Передали в ЖКХ.")
    drain()
    [row] = rows()
    assert vk.params_of("wall.createComment") == [{
        "owner_id": str(-VK_GROUP), "post_id": "77", "message": "Передали в ЖКХ.", "from_group": str(VK_GROUP),
        "reply_to_comment": str(comment_id), "guid": row.outbox_key, "v": "5.199"}]
    assert row.state == "sent" and row.external_id.startswith(f"{-VK_GROUP}_")
    assert row.permalink == f"https://vk.com/wall{-VK_GROUP}_77?reply={row.external_id.split('_')[1]}&thread={comment_id}"


def test_vk_direct_message_is_answered_in_the_same_dialog_with_messages_send(make, vk):
    account = vk_account(make)
    peer = 2345678
    incoming = vk.add_direct_message(VK_GROUP, peer, "Во дворе не горит фонарь")
    cmid = incoming["conversation_message_id"]
    ticket = make.ticket(account, incoming["text"], external_id=f"dm:{peer}:{cmid}", author_id=str(peer),
                         thread_ref=f"dm:{peer}")
    vk.fail_next("truncated")  # VK sent it but the answer was cut: the retry must not post it twice
    answer(ticket, make.user(Role.OPERATOR), "Заявку передали в горсвет.")
    drain()
    [row] = rows()
    random_id = str(vk_random_id(row.outbox_key))
    request = {"peer_id": str(peer), "random_id": random_id, "message": "Заявку передали в горсвет.",
               "forward": f'{{"peer_id":{peer},"conversation_message_ids":[{cmid}],"is_reply":true}}',
               "v": "5.199"}
    assert vk.params_of("messages.send") == [request, request]  # the same random_id both times
    assert not vk.params_of("wall.createComment")
    [posted] = [m for m in vk.dialogs[(VK_GROUP, peer)] if m["out"]]  # VK kept one message
    assert posted["from_id"] == -VK_GROUP and posted["reply_message"]["conversation_message_id"] == cmid
    assert row.state == "sent" and row.attempts == 2
    assert row.external_id == f"dm:{peer}:msg{posted['id']}"
    assert row.permalink == f"https://vk.com/gim{VK_GROUP}?sel={peer}&msgid={posted['id']}"
    city = db.session.get(Message, row.message_id)
    assert city.direction == "outbound" and city.ticket_id == ticket.id and city.thread_ref == f"dm:{peer}"


def test_vk_direct_message_the_resident_closed_fails_with_a_reason(make, vk):
    account = vk_account(make)
    incoming = vk.add_direct_message(VK_GROUP, 555, "Вопрос")
    vk.blocked_peers.add(555)
    ticket = make.ticket(account, "Вопрос", external_id=f"dm:555:{incoming['conversation_message_id']}",
                         author_id="555", thread_ref="dm:555")
    answer(ticket, make.user(Role.OPERATOR), "Ответ")
    drain()
    [row] = rows()
    assert row.state == "failed" and row.error_code == "901" and "without permission" in row.last_error


def test_max_reply_is_a_comment_under_the_post_with_a_reply_link(make, mx):
    account = max_account(make, mx)
    post = mx.channel_post()
    ticket = max_ticket(make, account, mx, post, "Когда уберут снег?", 5550001)
    answer(ticket, make.user(Role.OPERATOR), "Уберём завтра.")
    drain()
    assert mx.sent_comments == [{"post_mid": post["message"]["body"]["mid"], "text": "Уберём завтра.",
                                 "link": {"type": "reply", "mid": ticket.messages[0].external_id}}]
    request = [r for r in mx.requests if r.method == "POST"][0]
    assert request.headers["Authorization"] == mx.token
    assert rows()[0].state == "sent"


def test_max_chat_message_is_answered_in_the_same_chat(make, mx):
    account = max_account(make, mx)
    update = mx.chat_message(-5001, "Помогите с пропуском")
    mid = update["message"]["body"]["mid"]
    ticket = make.ticket(account, "Помогите с пропуском", external_id=mid, thread_ref="chat:-5001")
    answer(ticket, make.user(Role.OPERATOR), "Напишите номер заявки.")
    drain()
    assert mx.sent_messages == [{"chat_id": "-5001", "user_id": None, "text": "Напишите номер заявки.",
                                 "notify": True, "link": {"type": "reply", "mid": mid}}]


def test_merged_incident_answers_every_residents_thread_once(make, tg, vk):
    bot = tg.add_bot()
    tg_acc, vk_acc = tg_account(make, bot), vk_account(make)
    _, forward = bot.publish("Пост")
    root = tg_ticket(make, tg_acc, bot, forward, "Яма на Ленина", 1)
    other = tg_ticket(make, tg_acc, bot, forward, "Та же яма", 2)
    third = vk_ticket(make, vk_acc, vk, 5, "И у нас яма", 3)
    operator = make.user(Role.OPERATOR)
    merge(other, root, operator)
    merge(third, root, operator)
    db.session.commit()
    answer(root, operator, "{name}, яму заделают к пятнице.")
    drain()
    assert sorted((r.ticket_id, r.state) for r in rows()) == sorted(
        [(root.id, "sent"), (other.id, "sent"), (third.id, "sent")])
    assert sorted(c.params["text"] for c in tg.calls("sendMessage")) == [
        "Иван Петров, яму заделают к пятнице.", "Иван Петров, яму заделают к пятнице."]
    assert len(vk.created_comments) == 1


def test_ok_reply_waits_for_a_person_who_confirms_with_the_link(make):
    account = make.account("ok", settings={"group_id": "5000"})
    ticket = make.ticket(account, "Почему не вывозят мусор?")
    operator = make.user(Role.OPERATOR)
    answer(ticket, operator, "Вывезут сегодня.")
    [row] = rows()
    assert row.state == "manual"
    with pytest.raises(outbox.DeliveryError):
        outbox.confirm_by_hand(row, operator, "")
    outbox.confirm_by_hand(row, operator, "https://ok.ru/group/5000/topic/1?comment=9")
    db.session.commit()
    assert row.state == "sent" and row.permalink.endswith("comment=9")
    assert db.session.get(Message, row.message_id).direction == "outbound"


def test_comments_closed_fails_with_the_reason_and_a_fixed_resend_posts_it(make, vk):
    account = vk_account(make)
    ticket = vk_ticket(make, account, vk, 9, "Вопрос", 11)
    vk.posts[(-VK_GROUP, 9)]["_closed"] = True
    operator = make.user(Role.OPERATOR)
    answer(ticket, operator, "Ответ")
    drain()
    [row] = rows()
    assert row.state == "failed" and "213" in row.last_error and row.error_code == "213"
    vk.posts[(-VK_GROUP, 9)]["_closed"] = False
    outbox.resend(row, operator, "Ответ, исправленный")
    db.session.commit()
    enqueue_deliveries([row.id])
    drain()
    db.session.refresh(row)
    assert row.state == "sent" and [c["message"] for c in vk.created_comments] == ["Ответ, исправленный"]


def test_telegram_429_waits_retry_after_and_posts_once(make, tg):
    bot = tg.add_bot()
    account = tg_account(make, bot)
    _, forward = bot.publish("Пост")
    ticket = tg_ticket(make, account, bot, forward, "Вопрос", 7)
    tg.faults = Faults(rate_429=1.0, retry_after=0, methods=frozenset({"sendMessage"}))
    answer(ticket, make.user(Role.OPERATOR), "Ответ")
    drain(until=lambda: len(tg.calls("sendMessage")) >= 2)
    tg.faults = Faults()
    drain()
    [row] = rows()
    assert row.state == "sent" and row.attempts >= 3
    assert sum(1 for c in tg.calls("sendMessage") if c.fault is None) == 1
    assert "reply_retry" in kinds(ticket)


def test_a_timeout_after_sending_ends_unknown_and_is_never_resent_automatically(make, tg, app):
    bot = tg.add_bot()
    account = tg_account(make, bot)
    _, forward = bot.publish("Пост")
    ticket = tg_ticket(make, account, bot, forward, "Вопрос", 7)
    tg.faults = Faults(rate_truncated=1.0, methods=frozenset({"sendMessage"}))  # posted, answer lost
    answer(ticket, make.user(Role.OPERATOR), "Ответ")
    drain()
    [row] = rows()
    assert row.state == "unknown" and "after sending" in row.last_error
    tg.faults = Faults()
    enqueue_deliveries([row.id])
    sweep(older_than_seconds=0)
    drain()
    assert len(tg.calls("sendMessage")) == 1 and rows()[0].state == "unknown"
    outbox.confirm_by_hand(rows()[0], make.user(Role.OPERATOR), "")
    db.session.commit()
    assert rows()[0].state == "sent"


def test_a_row_found_sending_without_a_lease_becomes_unknown_without_a_request(make, tg):
    bot = tg.add_bot()
    account = tg_account(make, bot)
    _, forward = bot.publish("Пост")
    ticket = tg_ticket(make, account, bot, forward, "Вопрос", 7)
    services.compose(ticket, make.user(Role.OPERATOR), "Ответ")
    [row] = rows()
    row.state = "sending"
    db.session.commit()
    get_redis().set(LEASE_KEY.format(row.id), "w", ex=60)
    assert post_delivery(row.id) == "busy"  # a live worker is on it
    get_redis().delete(LEASE_KEY.format(row.id))
    assert post_delivery(row.id) == "unknown"
    assert tg.calls("sendMessage") == []


def test_sweeper_requeues_rows_whose_job_was_lost(make, tg):
    bot = tg.add_bot()
    account = tg_account(make, bot)
    _, forward = bot.publish("Пост")
    ticket = tg_ticket(make, account, bot, forward, "Вопрос", 7)
    answer(ticket, make.user(Role.OPERATOR), "Ответ")
    get_redis().flushdb()  # Redis restarted: the job is gone
    assert sweep(older_than_seconds=3600) == {"requeued": 0, "unknown": 0}  # too recent to call lost
    assert sweep(older_than_seconds=0)["requeued"] == 1
    assert sweep(older_than_seconds=0)["requeued"] == 0  # its job is pending now
    drain()
    assert states() == {"sent": 1} and len(tg.calls("sendMessage")) == 1


@pytest.mark.slow
def test_twenty_percent_faults_end_with_each_answer_posted_once_or_unknown(make, tg, vk, mx, app):
    app.config.update(REPLY_HTTP_TIMEOUT=0.5, MAX_HTTP_TIMEOUT=1.0)  # shorter than the fakes' hangs
    bot = tg.add_bot()
    tg.faults = Faults(rate_429=0.04, rate_5xx=0.04, rate_hang=0.08, rate_truncated=0.04, retry_after=0,
                       hang_seconds=1.0, methods=frozenset({"sendMessage"}))
    vk.fail_randomly(0.2, ("error6", "error9", "error10", "500", "503", "truncated"))
    mx.fail_randomly(0.2, ("429", "500", "503", "truncated", "hang"))
    tg_acc, vk_acc, mx_acc = tg_account(make, bot), vk_account(make), max_account(make, mx)
    _, forward = bot.publish("Пост")
    post = mx.channel_post()
    operator = make.user(Role.OPERATOR)
    for i in range(30):
        answer(tg_ticket(make, tg_acc, bot, forward, f"tg {i}", 100 + i), operator, "tg #{ticket}")
        answer(vk_ticket(make, vk_acc, vk, 1 + i % 3, f"vk {i}", 200 + i), operator, "vk #{ticket}")
        answer(max_ticket(make, mx_acc, mx, post, f"max {i}", 300 + i), operator, "max #{ticket}")
    drain(limit_seconds=300)
    posted = {}
    for bot_messages in bot.chat_messages.values():
        for message in bot_messages.values():
            if message.get("from", {}).get("id") == bot.bot_id:
                posted[message["text"]] = posted.get(message["text"], 0) + 1
    for comment in vk.created_comments:
        posted[comment["message"]] = posted.get(comment["message"], 0) + 1
    for comment in mx.sent_comments:
        posted[comment["text"]] = posted.get(comment["text"], 0) + 1
    for row in rows():
        assert row.state in ("sent", "unknown"), (row.platform, row.state, row.last_error)
        if row.state == "sent":
            assert posted.get(row.text) == 1, row.text
        else:
            assert posted.get(row.text, 0) <= 1, row.text
    assert max(posted.values()) == 1
    assert states()["sent"] > 60
    assert len({c.fault for c in tg.calls("sendMessage")} - {None}) >= 3
    assert vk.faults_served and mx.faults_served


def test_delivery_transitions_are_guarded(make, tg):
    bot = tg.add_bot()
    account = tg_account(make, bot)
    _, forward = bot.publish("Пост")
    ticket = tg_ticket(make, account, bot, forward, "Вопрос", 7)
    services.compose(ticket, make.user(Role.OPERATOR), "Ответ")
    [row] = rows()
    with pytest.raises(outbox.DeliveryError):
        outbox.resend(row, make.user(Role.OPERATOR))  # queued: nothing to resend
    with pytest.raises(outbox.DeliveryError):
        outbox.move(row, outbox.D.SENT)
    assert isinstance(row, ReplyDelivery) and row.state == "queued"
    time.sleep(0)  # keep the import list honest for linters
