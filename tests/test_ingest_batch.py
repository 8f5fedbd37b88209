"""The batch path of ingest (``ingest_many``): same result as one by one, deadlines in
the INSERT, listeners still served, and the concurrent-worker retry still works."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from desk import ingest as ingest_module
from desk.extensions import db
from desk.ingest import ingest, ingest_batch, ingest_many, record_post, ticket_opened
from desk.models import Message, MessageRevision, Post, Ticket, TicketEvent, TicketStatus
from desk.sla.services import compute_deadlines
from desk.sla.store import get_calendar
from desk.tickets import services
from desk.tickets.workflow import change_status

T0 = datetime(2025, 3, 7, 8, 30, tzinfo=UTC)


def _prepare(make, acc):
    """An account with a known post, a resolved ticket (author 7) and a new one (author 9)."""
    record_post(acc.id, "100", "Ремонт дороги", thread_ref="p1")
    db.session.commit()
    old = ingest(make.inbound(acc, "Старая заявка", external_id="old", author_id="7", thread_ref="p1",
                              sent_at=T0 - timedelta(days=2)))
    ticket = db.session.get(Ticket, old.ticket_id)
    services.route(ticket, None, department=make.department(f"ЖКХ {acc.id}"))
    change_status(ticket, TicketStatus.RESOLVED, None)
    ingest(make.inbound(acc, "Ещё одна", external_id="other", author_id="9", thread_ref="p1",
                        sent_at=T0 - timedelta(days=1)))
    db.session.commit()


def _batch(make, acc):
    def msg(external_id, text, author_id, thread_ref="p1", minutes=0, **kw):
        return make.inbound(acc, text, external_id=external_id, author_id=author_id, thread_ref=thread_ref,
                            sent_at=T0 + timedelta(minutes=minutes), **kw)

    return [
        msg("n1", "Новая", "1", minutes=1),
        msg("n2", "Ещё от того же", "1", minutes=2),  # follows up a ticket opened in this batch
        msg("old", "Повтор", "7", minutes=3),  # already stored
        msg("n3", "Снова течёт", "7", minutes=4),  # reopens the resolved ticket
        msg("n1", "Новая (ред.)", "1", minutes=5, is_edit=True),  # edits a comment of this batch
        msg("n4", "Под новым постом", "2", thread_ref="p2", minutes=6),  # post never seen
        msg("n5", "Тоже под ним", "3", thread_ref="p2", minutes=7),
        msg("n6", "Просто вопрос", "4", minutes=8),
        msg("n6", "Просто вопрос", "4", minutes=8),  # the same comment twice in one batch
        msg("n7", "Без треда", "5", thread_ref=None, minutes=9),
        msg("n8", "Без автора", None, minutes=10),
        msg("n9", "Ответ тому, кто ждёт", "9", minutes=11),  # joins a new ticket from before
        msg("n10", "Ещё новая", "6", minutes=12),
    ]


def _snapshot(acc):
    db.session.expire_all()
    tickets = db.session.scalars(db.select(Ticket).where(Ticket.account_id == acc.id).order_by(Ticket.id)).all()
    index = {t.id: i for i, t in enumerate(tickets)}
    rows = []
    for t in tickets:
        reopened = t.author_external_id == "7"  # its clock resumed at "now": differs by a few ms
        rows.append((t.status, t.subject, t.thread_ref, t.author_external_id, t.author_name, t.message_count,
                     t.last_message_at, t.created_at, t.post.external_id if t.post else None,
                     None if reopened else (t.reaction_due_at, t.resolution_due_at),
                     [(e.kind, e.field, e.old_value) for e in t.events]))
    messages = [(m.external_id, index.get(m.ticket_id), m.text, m.is_edited, m.post_id is not None, m.thread_ref,
                 [r.text for r in m.revisions])
                for m in db.session.scalars(db.select(Message).where(Message.account_id == acc.id)
                                            .order_by(Message.id))]
    posts = sorted((p.external_id, p.thread_ref) for p in db.session.scalars(
        db.select(Post).where(Post.account_id == acc.id)))
    return rows, messages, posts


def test_mixed_batch_gives_the_same_result_as_one_by_one(make):
    one, many = make.account(), make.account()
    _prepare(make, one)
    _prepare(make, many)
    expected = [ingest(m) for m in _batch(make, one)]
    db.session.commit()
    got = ingest_many(_batch(make, many))
    db.session.commit()
    assert [r.outcome for r in got] == [r.outcome for r in expected] == [
        "created", "joined", "duplicate", "reopened", "edited", "created", "created", "created", "duplicate",
        "created", "created", "joined", "created"]
    assert _snapshot(many) == _snapshot(one)
    for result in got:  # every result points at the stored message and its ticket
        message = db.session.get(Message, result.message_id)
        assert message.ticket_id == result.ticket_id and message.account_id == many.id


def test_deadlines_are_in_the_insert_and_match_the_policy(make):
    acc = make.account()
    statements = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        results = ingest_many([make.inbound(acc, f"Вопрос {i}", external_id=f"d{i}", author_id=str(i))
                               for i in range(30)])
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO TICKETS")]
    assert len(inserts) == 1  # one multi-row INSERT, not one per ticket
    db.session.commit()
    for result in results:
        ticket = db.session.get(Ticket, result.ticket_id)
        stored = (ticket.reaction_due_at, ticket.resolution_due_at)
        assert None not in stored
        compute_deadlines(ticket)
        assert (ticket.reaction_due_at, ticket.resolution_due_at) == stored
        assert [e.kind for e in ticket.events] == ["created"]


def test_single_ingest_sets_deadlines_without_an_update(make):
    acc = make.account()
    result = ingest(make.inbound(acc, external_id="s1"))
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.reaction_due_at is not None and ticket.resolution_due_at is not None
    assert not db.session.dirty


def test_ticket_opened_listeners_get_stored_tickets_on_the_batch_path(make):
    acc = make.account()
    seen = []

    def listener(ticket, **_):
        seen.append((ticket.id, ticket.messages[0].external_id))

    with ticket_opened.connected_to(listener):
        results = ingest_many([make.inbound(acc, external_id=f"l{i}", author_id=str(i)) for i in range(3)])
    assert seen == [(r.ticket_id, f"l{i}") for i, r in enumerate(results)]


def test_batch_retries_when_another_worker_inserts_a_comment_after_the_lookup(make, app, monkeypatch):
    acc = make.account()
    msgs = [make.inbound(acc, f"comment {i}", external_id=f"r{i}", author_id=str(i), thread_ref=None)
            for i in range(5)]
    # Nothing written before the race (calendar seeded, no placeholder post): on SQLite our
    # own pending write would lock the other worker out instead.
    get_calendar()
    db.session.commit()
    raced = []

    set_deadlines = ingest_module.set_opening_deadlines

    def other_worker(rows):
        # Runs after ingest_many looked the batch up and before it inserts (when the new
        # tickets get their deadlines): another worker commits r3 on its own connection
        # right then (once).
        set_deadlines(rows)
        if raced:
            return
        raced.append(True)
        with db.engine.begin() as conn:
            conn.execute(Message.__table__.insert(), {"account_id": acc.id, "external_id": "r3", "platform": "telegram",
                                                      "direction": "inbound", "text": "comment 3"})

    monkeypatch.setattr(ingest_module, "set_opening_deadlines", other_worker)
    results = ingest_batch(msgs)
    assert [r.outcome for r in results] == ["created", "created", "created", "duplicate", "created"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 5
    assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == 4
    assert db.session.scalar(db.select(db.func.count()).select_from(TicketEvent)) == 4
    assert db.session.scalar(db.select(db.func.count()).select_from(MessageRevision)) == 0


def test_unconfirmed_thread_roots_on_the_batch_path_match_one_by_one(make):
    """A thread root not known to be a post joins the post it roots, else no post: the
    same on the fast path as one by one, and no placeholder post is inserted."""
    one, many = make.account(), make.account()
    for acc in (one, many):
        record_post(acc.id, "42", "Отключение воды", thread_ref="501")
    db.session.commit()

    def batch(acc):
        return [make.inbound(acc, text, external_id=f"u{n}", author_id=str(n), thread_ref=root, sent_at=T0,
                             post_ref_confirmed=False)
                for n, (text, root) in enumerate([("Надолго?", "501"), ("Обещали с 15-го", "111"),
                                                  ("Не тот пост", "42")], 1)]

    expected = [ingest(m) for m in batch(one)]
    db.session.commit()
    statements = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        got = ingest_many(batch(many))
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    db.session.commit()
    assert [r.outcome for r in got] == [r.outcome for r in expected] == ["created"] * 3
    assert _snapshot(many) == _snapshot(one)
    assert [on_post for _, _, _, _, on_post, _, _ in _snapshot(many)[1]] == [True, False, False]
    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT INTO POSTS")]
