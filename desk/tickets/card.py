"""Everything the ticket card shows, loaded in a fixed number of queries.

The ticket comes with its thread, revisions, notes, events and their people through
``selectinload``/``joinedload``; the merged-in tickets and the author's other tickets
come in one UNION ALL. The count does not grow with the number of messages or events.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import abort
from sqlalchemy import Select
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..auth.scope import can_see_ticket, ticket_scope
from ..extensions import db
from ..models import DIRECT_PLATFORMS, Category, Department, Message, Note, Ticket, TicketEvent, User, utcnow
from ..models.intake import ResidentContact, Submission

AUTHOR_HISTORY_LIMIT = 20


@dataclass
class Deadline:
    due_at: datetime | None
    done_at: datetime | None
    state: str  # none | pending | overdue | met | late


@dataclass
class CardData:
    ticket: Ticket
    merged_in: list[Ticket] = field(default_factory=list)
    author_tickets: list[Ticket] = field(default_factory=list)
    #: every resident thread of the incident (the ticket and all merged into it, whatever
    #: the user's scope), for the reply panel
    threads: list[Ticket] = field(default_factory=list)
    reaction: Deadline | None = None
    resolution: Deadline | None = None
    #: the messages of the tickets merged into this one that the user may see, by ticket
    merged_messages: dict[int, list[Message]] = field(default_factory=dict)
    #: what a web-form or Open311 appeal carries beyond its text, and the resident's e-mails
    submission: Submission | None = None
    contacts: list[ResidentContact] = field(default_factory=list)


def deadline(due_at: datetime | None, done_at: datetime | None, is_open: bool, now: datetime) -> Deadline:
    """Where a deadline stands; an open ticket past its due time is overdue."""
    if due_at is None:
        state = "none"
    elif done_at is not None:
        state = "late" if done_at > due_at else "met"
    elif is_open and due_at < now:
        state = "overdue"
    else:
        state = "pending"
    return Deadline(due_at, done_at, state)


def _card_query(ticket_id: int, user: User) -> Select[Ticket]:
    query: Select[Ticket] = (
        db.select(Ticket)
        .where(Ticket.id == ticket_id, ticket_scope(user))
        .options(
            joinedload(Ticket.category),
            joinedload(Ticket.department),
            joinedload(Ticket.assignee),
            joinedload(Ticket.account),
            joinedload(Ticket.post),
            joinedload(Ticket.merged_into),
            # Revisions are rare and short: joined to the messages' query, not one more.
            selectinload(Ticket.messages).joinedload(Message.revisions),
            selectinload(Ticket.notes).joinedload(Note.author),
            selectinload(Ticket.events).joinedload(TicketEvent.actor),
        )
    )
    return query


def load_card(ticket_id: int, user: User) -> CardData:
    """The ticket and what surrounds it, as ``user`` may see it (404 otherwise)."""
    ticket = db.session.scalars(_card_query(ticket_id, user)).unique().first()
    if ticket is None:
        abort(404)
    merged_in, author_tickets = _related(ticket, user)
    now = utcnow()
    submission, contacts = _direct(ticket)
    visible_merged = [t for t in merged_in if can_see_ticket(user, t)]
    return CardData(
        ticket=ticket,
        merged_in=visible_merged,
        merged_messages=_messages_of(visible_merged),
        author_tickets=author_tickets,
        threads=[ticket, *merged_in],
        reaction=deadline(ticket.reaction_due_at, ticket.first_reply_at, ticket.is_open, now),
        resolution=deadline(ticket.resolution_due_at, ticket.resolved_at, ticket.is_open, now),
        submission=submission, contacts=contacts,
    )


def _messages_of(tickets: list[Ticket]) -> dict[int, list[Message]]:
    """The messages of merged tickets, in one query (none when nothing is merged in)."""
    if not tickets:
        return {}
    out: dict[int, list[Message]] = {t.id: [] for t in tickets}
    for message in db.session.scalars(db.select(Message).where(Message.ticket_id.in_(list(out)))
                                      .order_by(Message.sent_at, Message.id)):
        if message.ticket_id is not None:
            out[message.ticket_id].append(message)
    return out


def _direct(ticket: Ticket) -> tuple[Submission | None, list[ResidentContact]]:
    """A directly filed appeal's submission (with photos and key) and contacts; no query
    for a comment from a network."""
    if ticket.platform not in DIRECT_PLATFORMS:
        return None, []
    submission = db.session.scalars(db.select(Submission).where(Submission.ticket_id == ticket.id).options(
        selectinload(Submission.photos), joinedload(Submission.open311_key))).first()
    contacts = list(db.session.scalars(db.select(ResidentContact).where(ResidentContact.ticket_id == ticket.id)
                                       .order_by(ResidentContact.id)))
    return submission, contacts


def _related(ticket: Ticket, user: User) -> tuple[list[Ticket], list[Ticket]]:
    """Tickets merged into ``ticket`` (all of them: the reply panel answers every thread;
    the caller hides those out of scope) and the author's other tickets, in one round trip."""
    merged = db.select(Ticket, db.literal("m").label("kind")).where(Ticket.merged_into_id == ticket.id)
    parts = [merged]
    if ticket.author_external_id:
        author = (
            db.select(Ticket.id)
            .where(
                Ticket.platform == ticket.platform,
                Ticket.author_external_id == ticket.author_external_id,
                Ticket.id != ticket.id,
                ticket_scope(user),
            )
            .order_by(Ticket.id.desc())
            .limit(AUTHOR_HISTORY_LIMIT)
            .subquery()
        )
        parts.append(db.select(Ticket, db.literal("a").label("kind")).where(Ticket.id.in_(db.select(author.c.id))))
    both = db.union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    row = aliased(Ticket, both)
    rows = db.session.execute(db.select(row, both.c.kind)).all()
    merged_in = sorted((t for t, kind in rows if kind == "m"), key=lambda t: t.id)
    author_tickets = sorted((t for t, kind in rows if kind == "a"), key=lambda t: t.id, reverse=True)
    return merged_in, author_tickets


def active_departments() -> list[Department]:
    return list(db.session.scalars(
        db.select(Department).where(Department.is_active.is_(True)).order_by(Department.name)))


def active_categories() -> list[Category]:
    return list(db.session.scalars(
        db.select(Category).where(Category.is_active.is_(True)).order_by(Category.name)))


def department_members(department_id: int | None) -> list[User]:
    """People a ticket of this department may be assigned to."""
    if department_id is None:
        return []
    return list(db.session.scalars(
        db.select(User)
        .where(User.department_id == department_id, User.is_active_user.is_(True))
        .order_by(User.name, User.id)))
