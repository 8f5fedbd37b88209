"""Telegram collector over real HTTP against the strict fake: every normalisation rule,
offset confirmation, 409 while a webhook is set, the webhook endpoint, token hygiene."""
from __future__ import annotations

import json
import logging

import pytest
from rq import SimpleWorker

from desk.channels.errors import PermanentError
from desk.channels.telegram import TelegramClient
from desk.extensions import db
from desk.models import CollectorState, DeadLetter, MessageRevision, WebhookDelivery
from desk.queue import get_queue
from workers.collectors.base import poll_account, process_delivery

from .telegram_support import Message, Post, Ticket, count, fake_tg, telegram_account, texts, tg_account, tg_bot  # noqa: F401


def poll(account) -> object:
    return poll_account(account.id, sleep=lambda s: None)


def test_comment_under_a_post_becomes_a_ticket_linked_to_that_post(tg_bot, tg_account):
    post, forward = tg_bot.publish("Ремонт улицы Ленина начнётся 1 июня")
    tg_bot.comment(forward, "Когда починят ямы во дворе дома 5?")
    counts = poll(tg_account)
    assert counts.created == 1 and counts.posts == 2  # channel_post and its automatic forward
    stored = db.session.scalars(db.select(Post)).one()
    assert stored.external_id == str(post["message_id"])
    assert stored.thread_ref == str(forward["message_id"])
    assert stored.link == f"https://t.me/city_official/{post['message_id']}"
    assert stored.text == "Ремонт улицы Ленина начнётся 1 июня"
    ticket = db.session.scalars(db.select(Ticket)).one()
    assert ticket.post_id == stored.id and ticket.thread_ref == str(forward["message_id"])
    assert ticket.author_name == "Иван Петров" and ticket.subject.startswith("Когда починят ямы")
    message = ticket.messages[0]
    assert message.permalink.startswith(f"https://t.me/city_official/{post['message_id']}?comment=")


def test_comment_seen_before_its_post_is_joined_when_the_forward_arrives(tg_bot, tg_account):
    _, forward = tg_bot.publish("Отключение воды", channel_post_update=False)
    tg_bot.updates.clear()  # the forward arrives late (out-of-order webhook deliveries)
    tg_bot.comment(forward, "Воды нет с утра")
    poll(tg_account)
    tg_bot.push("message", dict(forward))
    poll(tg_account)
    assert count(Post) == 1
    assert db.session.scalars(db.select(Ticket)).one().post.text == "Отключение воды"


def test_reply_to_another_comment_stays_in_the_post_thread(tg_bot, tg_account):
    _, forward = tg_bot.publish("Пост")
    first = tg_bot.comment(forward, "Яма у дома 5")
    other = tg_bot.user(2001, "Ольга", "Смирнова")
    tg_bot.comment(forward, "У нас тоже яма", user=other, reply_to=first)
    poll(tg_account)
    reply = db.session.scalars(db.select(Message).where(Message.author_external_id == "2001")).one()
    assert reply.thread_ref == str(forward["message_id"])
    assert reply.reply_to_external_id == f"{tg_bot.discussion_chat_id}:{first['message_id']}"
    assert reply.ticket.post_id is not None and count(Ticket) == 2


def test_follow_up_of_the_same_resident_joins_the_open_ticket(tg_bot, tg_account):
    _, forward = tg_bot.publish("Пост")
    tg_bot.comment(forward, "Нет света")
    tg_bot.comment(forward, "Уже третий день")
    counts = poll(tg_account)
    assert counts.created == 1 and counts.joined == 1 and count(Ticket) == 1


def test_edited_comment_updates_the_text_and_keeps_the_old_one(tg_bot, tg_account):
    _, forward = tg_bot.publish("Пост")
    comment = tg_bot.comment(forward, "Яма у дома 5")
    poll(tg_account)
    tg_bot.edit(comment, "Яма у дома 7")
    counts = poll(tg_account)
    assert counts.edited == 1
    message = db.session.scalars(db.select(Message)).one()
    assert message.text == "Яма у дома 7" and message.is_edited
    assert [r.text for r in db.session.scalars(db.select(MessageRevision))] == ["Яма у дома 5"]


def test_messages_of_bots_and_of_the_city_are_not_tickets(tg_bot, tg_account):
    _, forward = tg_bot.publish("Пост")
    tg_bot.bot_message(forward, "Ответ города", own=True)
    tg_bot.bot_message(forward, "Купите слона")
    tg_bot.comment(forward, "Ответ от имени канала", sender_chat=tg_bot.channel_chat)
    counts = poll(tg_account)
    assert count(Ticket) == 0
    assert counts.skip_reasons == {"the desk's own bot": 1, "a bot": 1, "the city's own channel or group": 1}


def test_resident_writing_as_their_own_channel_is_the_author(tg_bot, tg_account):
    _, forward = tg_bot.publish("Пост")
    resident_channel = {"id": -1003333333333, "type": "channel", "title": "ТСЖ Ленина 5", "username": "tsj_lenina5"}
    tg_bot.comment(forward, "Когда уберут снег?", sender_chat=resident_channel)
    poll(tg_account)
    ticket = db.session.scalars(db.select(Ticket)).one()
    assert ticket.author_name == "ТСЖ Ленина 5" and ticket.author_external_id == "-1003333333333"


def test_direct_message_to_the_bot_is_a_ticket_in_its_own_thread(tg_bot, tg_account):
    dm = tg_bot.direct_message("Здравствуйте, не вывозят мусор")
    tg_bot.direct_message("Адрес: Ленина 5")
    poll(tg_account)
    ticket = db.session.scalars(db.select(Ticket)).one()
    assert ticket.thread_ref == f"dm:{dm['chat']['id']}" and ticket.post_id is None
    assert ticket.message_count == 2 and ticket.author_name == "Мария Иванова"


def test_photo_without_caption_is_kept_with_a_readable_label(tg_bot, tg_account):
    _, forward = tg_bot.publish("Пост")
    tg_bot.comment(forward, None, photo=[{"file_id": "AgAD", "width": 90, "height": 90}])
    tg_bot.comment(forward, None, user=tg_bot.user(2002, "Ольга", None), caption="Яма у дома 5",
                   photo=[{"file_id": "AgAE", "width": 90, "height": 90}])
    poll(tg_account)
    assert texts() == ["[фото]", "[фото] Яма у дома 5"]


def test_the_real_variety_of_a_discussion_group(tg_bot, tg_account):
    """Attachments with and without captions, service messages, an anonymous admin, a
    reply chain that is no post and update kinds the desk does not ask for."""
    _, forward = tg_bot.publish("Пост")
    tg_bot.media_comment(forward, "voice")
    tg_bot.media_comment(forward, "photo", "Яма у дома 5", user=tg_bot.user(2002, "Ольга", None))
    tg_bot.media_comment(forward, "animation", user=tg_bot.user(2003, "Пётр", None, language_code=None))
    tg_bot.media_comment(forward, "venue", user=tg_bot.user(2004, "Анна", None))
    tg_bot.service_message("new_chat_members", [tg_bot.user(2005, "Нина", None)])
    tg_bot.service_message("video_chat_started", {})
    tg_bot.anonymous_admin("Работы начнутся завтра", root=forward)
    root = tg_bot.group_message("Кто знает про отопление?", user=tg_bot.user(2006, "Олег", None))
    tg_bot.group_message("С 15-го", user=tg_bot.user(2007, "Мария", None), reply_to=root)
    tg_bot.push_raw({"update_id": tg_bot.next_update_id, "chat_boost": {"chat": tg_bot.channel_chat, "boost": {}}})
    counts = poll(tg_account)
    assert texts() == sorted(["[голосовое]", "[фото] Яма у дома 5", "[анимация]", "[геолокация] Школа № 3",
                              "Кто знает про отопление?", "С 15-го"])
    assert counts.skip_reasons == {"service message": 2, "the city's own channel or group": 1,
                                   "update type chat_boost": 1}
    assert count(Post) == 1  # the channel's post; the reply chain made none
    chain = db.session.scalars(db.select(Message).where(Message.author_external_id == "2007")).one()
    assert chain.post_id is None and chain.reply_to_external_id == f"{tg_bot.discussion_chat_id}:{root['message_id']}"


def test_forum_topics_are_threads_without_a_post(tg_bot, make):
    account = telegram_account(make, tg_bot, discussion_chat_id=None)
    topic = tg_bot.create_topic("Дороги")
    tg_bot.topic_message(topic, "На Кирова провал асфальта")
    tg_bot.topic_message(topic, "Уже неделю", user=tg_bot.user(123456789, "Иван", "Петров"))
    counts = poll(account)
    assert counts.skip_reasons == {"service message": 1} and counts.created == 1 and counts.joined == 1
    ticket = db.session.scalars(db.select(Ticket)).one()
    assert ticket.thread_ref == f"topic:{tg_bot.forum_chat_id}:{topic['message_id']}" and ticket.post_id is None
    assert count(Post) == 0


def test_other_update_types_are_skipped(tg_bot, tg_account):
    tg_bot.push("my_chat_member", {"chat": tg_bot.group_chat, "from": tg_bot.user(1), "date": 1,
                                   "old_chat_member": {}, "new_chat_member": {}})
    counts = poll(tg_account)
    assert counts.skip_reasons == {"update type my_chat_member": 1} and count(Ticket) == 0


def test_updates_are_confirmed_by_the_next_offset_and_never_read_twice(fake_tg, tg_bot, tg_account):
    _, forward = tg_bot.publish("Пост")
    for i in range(250):
        tg_bot.comment(forward, f"comment {i}", user=tg_bot.user(10_000 + i))
    counts = poll(tg_account)
    assert counts.created == 250
    offsets = [r.params.get("offset") for r in fake_tg.calls("getUpdates")]
    assert offsets[0] is None and all(b > a for a, b in zip(offsets[1:], offsets[2:], strict=False))
    assert all(r.params["limit"] == 100 for r in fake_tg.calls("getUpdates"))
    assert fake_tg.calls("getUpdates")[0].params["allowed_updates"][:2] == ["message", "edited_message"]
    state = db.session.scalars(db.select(CollectorState)).one()
    assert int(state.cursor) == tg_bot.next_update_id  # last update_id + 1
    again = poll(tg_account)
    assert again.created == 0 and again.duplicate == 0 and fake_tg.pending(tg_bot) == 0


def test_fake_forgets_confirmed_updates_and_keeps_the_last_n_for_a_negative_offset(fake_tg, tg_bot):
    client = TelegramClient(tg_bot.token, fake_tg.url)
    first = tg_bot.direct_message("one")
    tg_bot.direct_message("two")
    tg_bot.direct_message("three")
    assert [u["message"]["text"] for u in client.get_updates(-2)] == ["two", "three"]
    assert [u["message"]["text"] for u in client.get_updates(None)] == ["two", "three"]
    last = client.get_updates(None)[-1]["update_id"]
    assert client.get_updates(last + 1) == [] and first
    with pytest.raises(PermanentError, match="limit"):
        client.get_updates(None, limit=101)


def test_getupdates_is_refused_while_a_webhook_is_set(fake_tg, tg_bot, tg_account):
    client = TelegramClient(tg_bot.token, fake_tg.url)
    with pytest.raises(PermanentError, match="unallowed characters"):
        client.set_webhook("https://desk.example/hooks/telegram/1", "bad secret!")
    assert client.set_webhook("https://desk.example/hooks/telegram/1", "s3cret_-Token") is True
    assert client.get_webhook_info()["url"] == "https://desk.example/hooks/telegram/1"
    tg_bot.direct_message("Привет")
    with pytest.raises(PermanentError) as raised:
        poll(tg_account)
    assert raised.value.code == 409
    state = db.session.scalars(db.select(CollectorState)).one()
    assert "webhook is active" in state.last_error and state.consecutive_failures == 1 and state.cursor is None
    client.delete_webhook()
    assert poll(tg_account).created == 1


def test_unknown_token_is_a_permanent_error_and_the_token_never_shows(fake_tg, tg_bot, make, caplog):
    account = make.account("telegram", credentials={"bot_token": "123:WRONGwrongWRONGwrong_-x"})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PermanentError) as raised:
        poll(account)
    assert raised.value.code == 401
    assert "123:WRONG" not in caplog.text and "bot<hidden>" in caplog.text
    assert "123:WRONG" not in (db.session.scalars(db.select(CollectorState)).one().last_error or "")


def test_send_message_and_member_count_are_recorded_exactly(fake_tg, tg_bot):
    client = TelegramClient(tg_bot.token, fake_tg.url)
    _, forward = tg_bot.publish("Пост")
    comment = tg_bot.comment(forward, "Вопрос")
    tg_bot.member_counts[tg_bot.channel_id] = 4821
    sent = client.send_message(tg_bot.discussion_chat_id, "Ответ", reply_to=comment["message_id"])
    assert sent["message_thread_id"] == forward["message_id"] and sent["from"]["is_bot"]
    assert client.get_chat_member_count("@city_official") == 4821
    assert fake_tg.calls("sendMessage")[0].params == {
        "chat_id": tg_bot.discussion_chat_id, "text": "Ответ",
        "reply_parameters": {"message_id": comment["message_id"], "allow_sending_without_reply": True}}
    with pytest.raises(PermanentError, match="chat not found"):
        client.send_message(-100999, "x")


# --- the webhook ------------------------------------------------------------------------


def _update(tg_bot, text="Воды нет"):
    _, forward = tg_bot.publish("Пост")
    tg_bot.comment(forward, text)
    return list(tg_bot.updates)


def test_webhook_checks_the_secret_token(client, tg_bot, tg_account):
    update = _update(tg_bot)[-1]
    url = f"/hooks/telegram/{tg_account.id}"
    assert client.post(url, json=update).status_code == 401
    assert client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
    assert client.post(f"/hooks/telegram/{tg_account.id + 99}", json=update,
                       headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret_-Token"}).status_code == 404
    assert count(WebhookDelivery) == 0


def test_webhook_delivery_end_to_end_through_the_worker(live_server, fake_tg, tg_bot, tg_account):
    _update(tg_bot, "Когда починят фонарь?")
    TelegramClient(tg_bot.token, fake_tg.url).set_webhook(
        f"{live_server.url}/hooks/telegram/{tg_account.id}", "s3cret_-Token")
    assert fake_tg.deliver_webhook(tg_bot) == [200, 200, 200]
    tg_bot.updates.extend([{"update_id": 900000003, "message": {}}])  # a repeat of update 3 is harmless
    db.session.remove()
    SimpleWorker([get_queue()], connection=get_queue().connection).work(burst=True)
    assert count(WebhookDelivery) == 3
    assert texts() == ["Когда починят фонарь?"] and count(Post) == 1


def test_repeated_delivery_is_stored_once(client, tg_bot, tg_account):
    update = _update(tg_bot)[-1]
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_-Token"}
    for _ in range(3):
        assert client.post(f"/hooks/telegram/{tg_account.id}", json=update, headers=headers).status_code == 200
    assert count(WebhookDelivery) == 1


def test_malformed_webhook_body_is_kept_as_a_dead_letter_and_answered_200(client, tg_account):
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_-Token", "Content-Type": "application/json"}
    response = client.post(f"/hooks/telegram/{tg_account.id}", data=b'{"update_id": 5, "message": {"te',
                           headers=headers)
    assert response.status_code == 200
    delivery = db.session.scalars(db.select(WebhookDelivery)).one()
    counts = process_delivery(delivery.id)
    assert counts.dead == 1
    letter = db.session.scalars(db.select(DeadLetter)).one()
    assert letter.payload.startswith('{"update_id": 5') and letter.source == "webhook"
    assert json.loads(json.dumps(letter.error))
