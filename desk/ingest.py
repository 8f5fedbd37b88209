"""The one door through which every inbound message becomes a ticket.

Collectors, webhooks and the site's form normalise what they receive into an
:class:`InboundMessage` and call :func:`ingest`. It is idempotent on
``(account, external_id)``: the same comment twice changes nothing, an edit updates
the text and keeps the old one, a follow-up from the same author in the same thread
joins that author's open ticket (a resolved one reopens), anything else opens a new
ticket in ``new``. :func:`ingest` only flushes; :func:`ingest_batch` commits a whole
batch once and is safe against a concurrent worker inserting the same comment.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast, overload

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .links import http_url
from .models import (
    JOINABLE_STATUSES,
    Account,
    Message,
    MessageDirection,
    MessageRevision,
    Post,
    Ticket,
    TicketEvent,
    TicketStatus,
    utcnow,
)
from .sla.services import set_opening_deadlines
from .text import clean_text
from .tickets.services import merge_root
from .tickets.workflow import change_status, record_event, signals

#: sent as ``ticket_opened.send(ticket)`` after ingest stored a new ticket
ticket_opened = signals.signal("ticket-opened")
#: sent as ``resident_wrote.send(ticket, message=...)`` for every new inbound message
resident_wrote = signals.signal("resident-wrote")

SUBJECT_LENGTH = 200
MAX_NAME = 300
MAX_REF = 160

#: column values of one row for a bulk INSERT (the fast path of :func:`ingest_many`)
Values = dict[str, Any]


@dataclass(frozen=True)
class InboundMessage:
    """A resident's message as every network looks once normalised."""

    account_id: int
    external_id: str
    text: str
    sent_at: datetime | None  # None when the network gave no time: ingest takes the current one
    author_id: str | None = None
    author_name: str = ""
    # The conversation the message belongs to: a post's comment thread or a chat.
    thread_ref: str | None = None
    # The city's post the comment was left under (network id of the post or its thread root).
    post_ref: str | None = None
    # False when post_ref is only the root of the message's thread, which may or may not
    # be a post (Telegram sets a thread id on plain reply chains too): the message joins
    # the post whose thread root it is, once that post is recorded, and no placeholder
    # post is made for it.
    post_ref_confirmed: bool = True
    reply_to_external_id: str | None = None
    permalink: str = ""
    is_mention: bool = False
    is_edit: bool = False
    edited_at: datetime | None = None


@dataclass
class IngestResult:
    outcome: str  # created | joined | reopened | duplicate | edited
    message_id: int
    ticket_id: int | None
    changes: list[str] = field(default_factory=list)


class IngestError(ValueError):
    """The message cannot be ingested (unknown account, missing id): never silently dropped."""


def make_subject(text: str) -> str:
    flat = " ".join(text.split())
    if not flat.isprintable():  # printable text has no control/format characters to drop
        flat = "".join(ch for ch in flat if unicodedata.category(ch) not in ("Cc", "Cf") or ch == " ")
    if len(flat) > SUBJECT_LENGTH:
        return flat[: SUBJECT_LENGTH - 1] + "…"
    return flat


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@overload
def _short(value: str, limit: int = MAX_REF) -> str: ...
@overload
def _short(value: str | None, limit: int = MAX_REF) -> str | None: ...
def _short(value: str | None, limit: int = MAX_REF) -> str | None:
    if value is None:
        return None
    return clean_text(str(value))[:limit]


def find_post(account_id: int, post_ref: str | None, *, confirmed: bool = True) -> Post | None:
    """The post a comment belongs to, by the post's id or its thread root; created as a
    placeholder when the post itself was never seen (its text arrives later). An
    unconfirmed ref (see :attr:`InboundMessage.post_ref_confirmed`) only finds the post
    whose thread root it is and never makes a placeholder."""
    if not post_ref:
        return None
    post_ref = str(post_ref)
    match = Post.thread_ref == post_ref
    if confirmed:
        match = match | (Post.external_id == post_ref)
    post = db.session.scalars(db.select(Post).where(Post.account_id == account_id, match).limit(1)).first()
    if post is None and confirmed:
        post = Post(account_id=account_id, external_id=post_ref, thread_ref=post_ref)
        db.session.add(post)
        db.session.flush()
    return post


def record_post(
    account_id: int,
    external_id: str,
    text: str,
    posted_at: datetime | None = None,
    link: str = "",
    thread_ref: str | None = None,
) -> Post:
    """Create or update a post of a city account (idempotent on the post's id).

    A placeholder created earlier by a comment that pointed at ``thread_ref`` is
    completed instead of duplicated.
    """
    external_id = str(external_id)
    cond = Post.external_id == external_id
    if thread_ref:
        cond = cond | (Post.thread_ref == str(thread_ref)) | (Post.external_id == str(thread_ref))
    post = db.session.scalars(db.select(Post).where(Post.account_id == account_id, cond).limit(1)).first()
    if post is None:
        post = Post(account_id=account_id, external_id=external_id)
        db.session.add(post)
    post.external_id = external_id
    if thread_ref:
        post.thread_ref = str(thread_ref)
    post.text = clean_text(text)
    post.posted_at = _aware(posted_at) or post.posted_at
    post.link = http_url(link) or post.link or ""
    db.session.flush()
    if post.thread_ref:
        _join_thread(post)
    return post


def _join_thread(post: Post) -> None:
    """Messages and tickets of the post's thread stored before the post was known (their
    thread root was not yet known to be a post) belong to it from now on."""
    for model in (Message, Ticket):
        db.session.execute(
            db.update(model)
            .where(model.account_id == post.account_id, model.thread_ref == post.thread_ref,
                   model.post_id.is_(None))
            .values(post_id=post.id))


def _find_followup_ticket(account_id: int, thread_ref: str, author_id: str) -> Ticket | None:
    latest = db.session.scalars(
        db.select(Ticket)
        .where(
            Ticket.account_id == account_id,
            Ticket.thread_ref == thread_ref,
            Ticket.author_external_id == author_id,
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    if latest.status == TicketStatus.MERGED.value:
        latest = merge_root(latest)
    return latest if latest.status in {s.value for s in JOINABLE_STATUSES} else None


def _apply_edit(message: Message, incoming: InboundMessage, text: str) -> IngestResult:
    if text == message.text:
        return IngestResult("duplicate", message.id, message.ticket_id)
    db.session.add(MessageRevision(message=message, text=message.text))
    message.text = text
    message.is_edited = True
    message.edited_at = _aware(incoming.edited_at) or utcnow()
    if message.ticket is not None:
        record_event(message.ticket, None, "message_edited", field="text",
                     old=None, new=str(message.id))
        # The subject follows the ticket's first message; look up only its id, not the thread.
        first_id = db.session.scalar(
            db.select(Message.id).where(Message.ticket_id == message.ticket_id)
            .order_by(Message.sent_at, Message.id).limit(1)
        )
        if first_id == message.id:
            message.ticket.subject = make_subject(text)
    db.session.flush()
    return IngestResult("edited", message.id, message.ticket_id)


def _ticket_values(account: Account, incoming: InboundMessage, text: str, post_id: int | None,
                   thread_ref: str | None, author_id: str | None, author_name: str, sent_at: datetime) -> Values:
    """Column values of a new ticket (before the SLA adds its deadlines)."""
    now = utcnow()
    return {
        "status": TicketStatus.NEW.value,
        "subject": make_subject(text),
        "account_id": account.id,
        "platform": account.platform,
        "direction": account.direction,
        "post_id": post_id,
        "thread_ref": thread_ref,
        "author_external_id": author_id,
        "author_name": author_name,
        "is_mention": incoming.is_mention,
        "created_at": sent_at if sent_at < now else now,
    }


def _new_ticket(account: Account, incoming: InboundMessage, text: str, post: Post | None, thread_ref: str | None,
                author_id: str | None, author_name: str, sent_at: datetime) -> Ticket:
    values = _ticket_values(account, incoming, text, post.id if post else None, thread_ref, author_id,
                            author_name, sent_at)
    set_opening_deadlines([values])  # in the INSERT: no UPDATE follows
    ticket = Ticket(**values, message_count=0)
    db.session.add(ticket)
    return ticket


def _new_message(account: Account, incoming: InboundMessage, ticket: Ticket, external_id: str, text: str,
                 post: Post | None, thread_ref: str | None, author_id: str | None, author_name: str,
                 sent_at: datetime) -> Message:
    message = Message(
        ticket=ticket,
        direction=MessageDirection.INBOUND.value,
        platform=account.platform,
        account_id=account.id,
        external_id=external_id,
        post_id=post.id if post else None,
        thread_ref=thread_ref,
        reply_to_external_id=_short(incoming.reply_to_external_id),
        author_external_id=author_id,
        author_name=author_name,
        text=text,
        sent_at=sent_at,
        is_edited=incoming.is_edit,
        edited_at=_aware(incoming.edited_at) if incoming.is_edit else None,
        permalink=http_url(incoming.permalink) or "",
    )
    db.session.add(message)
    ticket.message_count = (ticket.message_count or 0) + 1
    ticket.last_message_at = max(filter(None, [ticket.last_message_at, sent_at]))
    return message


def ingest(incoming: InboundMessage) -> IngestResult:
    """Turn one normalised inbound message into a ticket message (see module doc)."""
    if not incoming.external_id:
        raise IngestError("the message has no external id")
    account = db.session.get(Account, incoming.account_id)
    if account is None:
        raise IngestError(f"unknown account {incoming.account_id}")
    external_id = _short(incoming.external_id)
    text = clean_text(incoming.text)

    existing = db.session.scalars(
        db.select(Message).where(Message.account_id == account.id, Message.external_id == external_id)
    ).first()
    if existing is not None:
        if incoming.is_edit:
            return _apply_edit(existing, incoming, text)
        return IngestResult("duplicate", existing.id, existing.ticket_id)

    thread_ref = _short(incoming.thread_ref)
    author_id = _short(incoming.author_id, 128)
    author_name = clean_text(incoming.author_name)[:MAX_NAME]
    sent_at = _aware(incoming.sent_at) or utcnow()
    post = find_post(account.id, _short(incoming.post_ref), confirmed=incoming.post_ref_confirmed)

    ticket = None
    outcome = "created"
    if thread_ref and author_id:
        ticket = _find_followup_ticket(account.id, thread_ref, author_id)
    if ticket is not None:
        outcome = "joined"
        if ticket.status == TicketStatus.RESOLVED.value:
            change_status(ticket, TicketStatus.IN_PROGRESS, None, reason="the resident wrote again")
            outcome = "reopened"
        elif ticket.status == TicketStatus.WAITING_RESIDENT.value:
            change_status(ticket, TicketStatus.IN_PROGRESS, None, reason="the resident answered")
    else:
        ticket = _new_ticket(account, incoming, text, post, thread_ref, author_id, author_name, sent_at)

    message = _new_message(account, incoming, ticket, external_id, text, post, thread_ref, author_id,
                           author_name, sent_at)
    db.session.flush()
    if outcome == "created":
        record_event(ticket, None, "created", new=account.platform)
        ticket_opened.send(ticket)
    else:
        record_event(ticket, None, "message", new=str(message.id))
    resident_wrote.send(ticket, message=message)
    db.session.flush()
    return IngestResult(outcome, message.id, ticket.id)



def ingest_many(messages: list[InboundMessage]) -> list[IngestResult]:
    """:func:`ingest` for a run of messages with the same outcome, in far fewer queries.

    Three queries look up, for the whole run, the comments already stored, the posts
    and the residents who already have a ticket in those threads. A comment that is
    new, by a resident with no ticket in its thread yet, under a known post or in a
    thread whose root is not known to be a post (the common cases) opens its ticket on
    the fast path: the run's new tickets, messages and
    events are inserted with one multi-row INSERT each, deadlines included. Anything
    else (repeats, edits, follow-ups, unseen posts) goes through :func:`ingest` one by
    one, after the fast-path rows before it are stored, so the order of the run is
    kept. Flushes only; the caller commits.
    """
    if not messages:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement run 5 times; PostgreSQL may then switch to a generic
        # plan, and without statistics yet (a young table, no autovacuum) that plan finds
        # the batch's comments by account alone, reading all of them: slower every batch.
        db.session.execute(db.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    accounts = {a: db.session.get(Account, a) for a in {m.account_id for m in messages}}
    known_ids = {a.id for a in accounts.values() if a is not None}
    keys = {_short(m.external_id) for m in messages if m.external_id}
    refs = {_short(m.post_ref) for m in messages if m.post_ref}
    pairs = [(_short(m.thread_ref), _short(m.author_id, 128)) for m in messages if m.thread_ref and m.author_id]
    stored: set[tuple[int, str | None]] = set()
    if keys and known_ids:
        stored = {(account_id, external_id) for account_id, external_id in db.session.execute(
            db.select(Message.account_id, Message.external_id).where(
                Message.account_id.in_(known_ids), Message.external_id.in_(keys)))}
    post_ids: dict[tuple[int, str | None], int] = {}  # a confirmed ref: the post by its id or thread root
    root_posts: dict[tuple[int, str | None], int] = {}  # an unconfirmed ref: only the post it is the root of
    if refs and known_ids:
        for post_id, account_id, external_id, thread_ref in db.session.execute(db.select(
                Post.id, Post.account_id, Post.external_id, Post.thread_ref).where(
                Post.account_id.in_(known_ids), Post.external_id.in_(refs) | Post.thread_ref.in_(refs))):
            # find_post takes either match; prefer the thread root like it does by id order
            post_ids.setdefault((account_id, thread_ref), post_id)
            post_ids.setdefault((account_id, external_id), post_id)
            root_posts.setdefault((account_id, thread_ref), post_id)
    for m in messages:  # posts not seen yet get their placeholder now, as ingest would
        post_key = (m.account_id, _short(m.post_ref))
        if (m.post_ref and m.post_ref_confirmed and m.account_id in known_ids and post_key not in post_ids
                and (m.account_id, _short(m.external_id)) not in stored):
            post = find_post(*post_key)
            assert post is not None  # a confirmed ref finds its post or makes a placeholder
            post_ids[post_key] = post.id
    with_ticket: set[tuple[int, str | None, str | None]] = set()
    if pairs and known_ids:
        with_ticket = {(account_id, thread_ref, author_id) for account_id, thread_ref, author_id in db.session.execute(
            db.select(Ticket.account_id, Ticket.thread_ref, Ticket.author_external_id).where(
                Ticket.account_id.in_(known_ids), Ticket.thread_ref.in_({t for t, _ in pairs}),
                Ticket.author_external_id.in_({a for _, a in pairs})))}

    results: list[IngestResult | None] = [None] * len(messages)
    pending: list[tuple[int, Values, Values]] = []
    for index, incoming in enumerate(messages):
        account = accounts.get(incoming.account_id)
        key = (incoming.account_id, _short(incoming.external_id))
        thread_ref, author_id = _short(incoming.thread_ref), _short(incoming.author_id, 128)
        pair = (incoming.account_id, thread_ref, author_id)
        post_key = (incoming.account_id, _short(incoming.post_ref))
        if (account is None or not incoming.external_id or incoming.is_edit or key in stored
                or pair in with_ticket
                or (incoming.post_ref and incoming.post_ref_confirmed and post_key not in post_ids)):
            if pending:  # the slow path must see everything before it (follow-ups, repeats)
                _insert_opened(pending, results)
            results[index] = ingest(incoming)
            stored.add(key)
            with_ticket.add(pair)
            continue
        stored.add(key)
        with_ticket.add(pair)
        text = clean_text(incoming.text)
        author_name = clean_text(incoming.author_name)[:MAX_NAME]
        sent_at = _aware(incoming.sent_at) or utcnow()
        post_id = None
        if incoming.post_ref:
            post_id = (post_ids if incoming.post_ref_confirmed else root_posts).get(post_key)
        ticket = _ticket_values(account, incoming, text, post_id, thread_ref, author_id, author_name, sent_at)
        ticket["message_count"] = 1
        ticket["last_message_at"] = sent_at
        message = {
            "direction": MessageDirection.INBOUND.value,
            "platform": account.platform,
            "account_id": account.id,
            "external_id": key[1],
            "post_id": post_id,
            "thread_ref": thread_ref,
            "reply_to_external_id": _short(incoming.reply_to_external_id),
            "author_external_id": author_id,
            "author_name": author_name,
            "text": text,
            "sent_at": sent_at,
            "permalink": http_url(incoming.permalink) or "",
        }
        pending.append((index, ticket, message))
    if pending:
        _insert_opened(pending, results)
    return cast("list[IngestResult]", results)  # every message has its result by now


def _insert_rows(table: Table, rows: list[Values], key: tuple[str, ...]) -> list[int]:
    """Insert ``rows`` into ``table`` in as few statements as the backend allows and
    return their ids in the order of ``rows``.

    PostgreSQL: ids are taken from the sequence in one query and the rows go in with
    one pipelined executemany; a multi-row INSERT ... RETURNING has a different text
    for every row count, which psycopg re-parses each time at a cost above the insert's.
    Elsewhere: multi-row INSERT ... RETURNING, matched back by ``key`` (unique in the
    batch) rather than by position: SQLite does not promise RETURNING's order, and asking
    SQLAlchemy to sort it makes it insert one row per statement there.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(db.session.scalars(
            db.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table.name, "n": len(rows)}).all())
        for row, row_id in zip(rows, ids, strict=False):
            row["id"] = row_id
        db.session.execute(table.insert(), rows)
        return ids
    returned = db.session.execute(table.insert().returning(table.c.id, *(table.c[k] for k in key)), rows)
    by_key = {tuple(r[1:]): r[0] for r in returned}
    if len(by_key) != len(rows):
        raise RuntimeError(f"{table.name}: the batch's rows are not unique on {key}")
    return [by_key[tuple(row[k] for k in key)] for row in rows]


def _insert_opened(pending: list[tuple[int, Values, Values]], results: list[IngestResult | None]) -> None:
    """Insert the fast path's new tickets with their first message and "created" event,
    a few statements per table for the whole batch (see :func:`_insert_rows`)."""
    db.session.flush()  # the ORM's pending rows go first (posts, slow-path tickets)
    ticket_table, message_table = Ticket.__table__, Message.__table__
    ticket_rows = [ticket for _, ticket, _ in pending]
    set_opening_deadlines(ticket_rows)  # the whole batch in one pass, carried by the INSERT
    # (account, thread, author) is unique among the pending tickets: a second comment of
    # that author in that thread took the slow path (it joins the first one's ticket).
    ticket_ids = _insert_rows(ticket_table, ticket_rows, ("account_id", "thread_ref", "author_external_id"))
    message_rows: list[Values] = []
    for ticket_id, (_, _, message) in zip(ticket_ids, pending, strict=False):
        message["ticket_id"] = ticket_id
        message_rows.append(message)
    message_ids = _insert_rows(message_table, message_rows, ("account_id", "external_id"))
    db.session.execute(TicketEvent.__table__.insert(), [
        {"ticket_id": ticket_id, "kind": "created", "new_value": ticket["platform"]}
        for ticket_id, (_, ticket, _) in zip(ticket_ids, pending, strict=False)])
    for (index, _, _), ticket_id, message_id in zip(pending, ticket_ids, message_ids, strict=False):
        results[index] = IngestResult("created", message_id, ticket_id)
    if ticket_opened.receivers or resident_wrote.receivers:
        # Listeners want the objects: load them in two queries (nothing to pay otherwise).
        tickets = {t.id: t for t in db.session.scalars(db.select(Ticket).where(Ticket.id.in_(ticket_ids)))}
        stored = {m.id: m for m in db.session.scalars(db.select(Message).where(Message.id.in_(message_ids)))}
        for ticket_id, message_id in zip(ticket_ids, message_ids, strict=False):
            ticket_opened.send(tickets[ticket_id])
            resident_wrote.send(tickets[ticket_id], message=stored[message_id])
        db.session.flush()
    pending.clear()


def mark_deleted(account_id: int, external_id: str, deleted_at: datetime | None = None) -> Message | None:
    """Mark a resident's message deleted on the network; its text stays for the record."""
    message: Message | None = db.session.scalars(
        db.select(Message).where(Message.account_id == account_id, Message.external_id == _short(external_id))
    ).first()
    if message is None or message.is_deleted:
        return message
    message.is_deleted = True
    message.deleted_at = _aware(deleted_at) or utcnow()
    if message.ticket is not None:
        record_event(message.ticket, None, "message_deleted", new=str(message.id))
    db.session.flush()
    return message


def mark_restored(account_id: int, external_id: str) -> Message | None:
    """Undo :func:`mark_deleted` (VK ``wall_reply_restore``)."""
    message: Message | None = db.session.scalars(
        db.select(Message).where(Message.account_id == account_id, Message.external_id == _short(external_id))
    ).first()
    if message is None or not message.is_deleted:
        return message
    message.is_deleted = False
    message.deleted_at = None
    if message.ticket is not None:
        record_event(message.ticket, None, "message_restored", new=str(message.id))
    db.session.flush()
    return message


def ingest_batch(messages: list[InboundMessage], attempts: int = 3) -> list[IngestResult]:
    """Ingest a batch in one transaction and commit it.

    If another worker inserted one of the same comments meanwhile, the unique key
    rejects ours; the batch is rolled back and ingested again, and the second pass
    sees those comments as duplicates. Nothing is lost, nothing doubles.
    """
    for attempt in range(attempts):
        try:
            results = ingest_many(messages)
            db.session.commit()
            return results
        except IntegrityError:
            db.session.rollback()
            if attempt == attempts - 1:
                raise
    return []
