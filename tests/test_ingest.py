"""The one door: idempotency, edits, follow-ups, reopening and odd input."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.ingest import InboundMessage, IngestError, ingest, ingest_batch, mark_deleted, record_post
from desk.models import Message, Post, Ticket, TicketEvent, TicketStatus
from desk.tickets import services
from desk.tickets.workflow import change_status


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_same_comment_twice_changes_nothing(make):
    acc = make.account()
    msg = make.inbound(acc, external_id="c-1")
    first = ingest(msg)
    db.session.commit()
    second = ingest(msg)
    db.session.commit()
    assert first.outcome == "created"
    assert second.outcome == "duplicate"
    assert second.ticket_id == first.ticket_id
    assert count(Message) == 1 and count(Ticket) == 1


def test_edit_updates_text_and_keeps_the_old_one(make):
    acc = make.account()
    ingest(make.inbound(acc, "Яма у дома 5", external_id="c-2"))
    db.session.commit()
    result = ingest(make.inbound(acc, "Яма у дома 7", external_id="c-2", is_edit=True))
    db.session.commit()
    assert result.outcome == "edited"
    message = db.session.get(Message, result.message_id)
    assert message.text == "Яма у дома 7" and message.is_edited
    assert [r.text for r in message.revisions] == ["Яма у дома 5"]
    assert db.session.get(Ticket, result.ticket_id).subject == "Яма у дома 7"


def test_edit_of_unseen_comment_is_stored_not_lost(make):
    acc = make.account()
    result = ingest(make.inbound(acc, "Новый текст", external_id="c-3", is_edit=True))
    db.session.commit()
    assert result.outcome == "created"
    assert db.session.get(Message, result.message_id).is_edited


def test_follow_up_from_same_author_in_same_thread_joins_open_ticket(make):
    acc = make.account()
    a = ingest(make.inbound(acc, "Нет света в подъезде", author_id="42", thread_ref="p1"))
    b = ingest(make.inbound(acc, "Уже третий день!", author_id="42", thread_ref="p1"))
    c = ingest(make.inbound(acc, "У нас тоже", author_id="43", thread_ref="p1"))
    d = ingest(make.inbound(acc, "Другая тема", author_id="42", thread_ref="p2"))
    db.session.commit()
    assert b.outcome == "joined" and b.ticket_id == a.ticket_id
    assert c.ticket_id != a.ticket_id and d.ticket_id != a.ticket_id
    assert db.session.get(Ticket, a.ticket_id).message_count == 2


def test_resident_writing_again_reopens_a_resolved_ticket(make):
    acc = make.account()
    dept = make.department("ЖКХ")
    operator = make.user("operator")
    first = ingest(make.inbound(acc, "Течёт крыша", author_id="7", thread_ref="p9"))
    ticket = db.session.get(Ticket, first.ticket_id)
    services.route(ticket, operator, department=dept)
    change_status(ticket, TicketStatus.RESOLVED, operator)
    db.session.commit()
    again = ingest(make.inbound(acc, "Опять течёт", author_id="7", thread_ref="p9"))
    db.session.commit()
    assert again.outcome == "reopened" and again.ticket_id == ticket.id
    assert ticket.status == TicketStatus.IN_PROGRESS.value
    assert ticket.resolved_at is None


def test_closed_ticket_is_not_joined(make):
    acc = make.account()
    first = ingest(make.inbound(acc, "Спасибо!", author_id="8", thread_ref="p3"))
    ticket = db.session.get(Ticket, first.ticket_id)
    change_status(ticket, TicketStatus.NOT_APPEAL, None)
    db.session.commit()
    again = ingest(make.inbound(acc, "А вот вопрос", author_id="8", thread_ref="p3"))
    assert again.outcome == "created" and again.ticket_id != ticket.id


def test_html_and_nul_and_huge_text_are_stored_safely(make):
    acc = make.account()
    evil = "<script>alert(1)</script>\x00<img src=x onerror=alert(2)>" + "я" * 200_000
    result = ingest(make.inbound(acc, evil))
    db.session.commit()
    db.session.expire_all()
    message = db.session.get(Message, result.message_id)
    assert message.text.startswith("<script>alert(1)</script>\ufffd<img")
    assert len(message.text) == len(evil)
    assert len(db.session.get(Ticket, result.ticket_id).subject) <= 200


def test_unknown_account_is_a_clear_error(make):
    with pytest.raises(IngestError):
        ingest(InboundMessage(account_id=999, external_id="x", text="t", sent_at=None))


def test_comment_links_to_post_and_post_record_completes_placeholder(make):
    acc = make.account()
    result = ingest(make.inbound(acc, thread_ref="501", post_ref="501"))
    db.session.commit()
    post = record_post(acc.id, "42", "Ремонт улицы Ленина", link="https://t.me/city/42", thread_ref="501")
    db.session.commit()
    assert count(Post) == 1
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.post_id == post.id and ticket.post.text == "Ремонт улицы Ленина"


def test_deleted_comment_is_marked_not_dropped(make):
    acc = make.account()
    result = ingest(make.inbound(acc, external_id="c-del"))
    mark_deleted(acc.id, "c-del")
    db.session.commit()
    message = db.session.get(Message, result.message_id)
    assert message.is_deleted and message.text
    kinds = [e.kind for e in db.session.scalars(db.select(TicketEvent)).all()]
    assert "message_deleted" in kinds


def test_batch_retries_when_another_worker_inserted_the_same_comment(make, app):
    acc = make.account()
    msgs = [make.inbound(acc, f"comment {i}", external_id=f"b{i}", author_id=str(i)) for i in range(5)]
    # Another worker committed b2 after our existence check: simulate by inserting it
    # through a separate connection before the batch flushes.
    ingest(msgs[2])
    db.session.commit()
    results = ingest_batch(msgs)
    assert [r.outcome for r in results] == ["created", "created", "duplicate", "created", "created"]
    assert count(Message) == 5


def test_unconfirmed_thread_root_makes_no_placeholder_and_joins_the_post_once_recorded(make):
    """Telegram names a reply chain's root like a post's: the comment waits for the post
    instead of inventing an empty one, and is tied to it when the post is recorded."""
    acc = make.account()
    first = ingest(make.inbound(acc, "Надолго?", author_id="1", thread_ref="501", post_ref_confirmed=False))
    db.session.commit()
    assert count(Post) == 0 and db.session.get(Ticket, first.ticket_id).post_id is None
    post = record_post(acc.id, "42", "Отключение воды", thread_ref="501")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Ticket, first.ticket_id).post_id == post.id
    assert db.session.get(Message, first.message_id).post_id == post.id
    later = ingest(make.inbound(acc, "И у нас", author_id="2", thread_ref="501", post_ref_confirmed=False))
    assert db.session.get(Ticket, later.ticket_id).post_id == post.id and count(Post) == 1


def test_unconfirmed_ref_is_never_taken_for_a_post_id(make):
    """Telegram's channel message 501 and discussion-group message 501 are different
    things: a thread root only matches the post whose root it is."""
    acc = make.account()
    record_post(acc.id, "501", "Другой пост", thread_ref="9000")
    result = ingest(make.inbound(acc, thread_ref="501", post_ref_confirmed=False))
    assert db.session.get(Ticket, result.ticket_id).post_id is None and count(Post) == 1


def test_only_http_links_from_a_network_are_stored(make):
    acc = make.account()
    ticket = make.ticket(acc, permalink="javascript:alert(1)")
    assert ticket.messages[0].permalink == ""
    ticket = make.ticket(acc, permalink="https://vk.com/wall-1_2?reply=3")
    assert ticket.messages[0].permalink == "https://vk.com/wall-1_2?reply=3"
