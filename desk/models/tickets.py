"""Tickets, the messages on them, internal notes and the append-only event log."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Model
from .types import EnumText, MessageDirection, Platform, Priority, TicketStatus, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import Account, Post
    from .org import Category, Department
    from .users import User


class Ticket(Model):
    """The problem to solve. One ticket may collect several messages of one resident
    (follow-ups in the same thread) and, through merges, many residents' tickets."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(TicketStatus.check_sql("status"), name="status"),
        CheckConstraint(Priority.check_sql("priority"), name="priority"),
        CheckConstraint(Platform.check_sql("platform"), name="platform"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"),
        # Queue pages: newest first within a status, or by the nearest deadline; department inboxes.
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_status_next_due", "status", "next_due_at", "id"),
        Index("ix_tickets_department_status_id", "department_id", "status", "id"),
        Index("ix_tickets_department_next_due", "department_id", "next_due_at", "id"),
        Index("ix_tickets_platform_id", "platform", "id"),
        Index("ix_tickets_direction_id", "direction", "id"),
        Index("ix_tickets_category_id", "category_id", "id"),
        Index("ix_tickets_assignee_id", "assignee_id", "id"),
        Index("ix_tickets_next_due_id", "next_due_at", "id"),
        # Follow-ups: the same author in the same thread of the same account.
        Index("ix_tickets_thread_author", "account_id", "thread_ref", "author_external_id"),
        Index("ix_tickets_author", "platform", "author_external_id", "id"),
        Index("ix_tickets_merged_into", "merged_into_id"),
        Index("ix_tickets_created_at", "created_at"),
        # SLA reports on SQLite: every column they read, so a year is one index-only scan
        # rather than a million row lookups (PostgreSQL scans the table fast enough).
        Index("ix_tickets_report", "created_at", "status", "department_id", "direction", "category_id",
              "platform", "sla_breached", "reaction_due_at", "first_reply_at", "resolution_due_at",
              "resolved_at", "closed_at").ddl_if(dialect="sqlite"),
        # Full-text search (desk/tickets/search.py uses the same expression); PostgreSQL only.
        Index("ix_tickets_search", text("to_tsvector('russian', coalesce(subject, '') || ' ' || "
                                        "coalesce(author_name, ''))"),
              postgresql_using="gin").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # loaded as enum members (str subclasses): ticket.status.pauses_sla and the like
    status: Mapped[str] = mapped_column(EnumText(TicketStatus, 24), default=TicketStatus.NEW.value)
    priority: Mapped[str] = mapped_column(EnumText(Priority, 16), default=Priority.NORMAL.value)
    subject: Mapped[str] = mapped_column(String(300), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Where it came from (denormalised from the first message so the queue filters
    # without joins).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    platform: Mapped[str] = mapped_column(EnumText(Platform, 16))
    direction: Mapped[str | None] = mapped_column(String(32))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    thread_ref: Mapped[str | None] = mapped_column(String(160))
    author_external_id: Mapped[str | None] = mapped_column(String(128))
    author_name: Mapped[str] = mapped_column(String(300), default="")
    is_mention: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    return_reason: Mapped[str | None] = mapped_column(Text)
    draft_answer: Mapped[str | None] = mapped_column(Text)
    message_count: Mapped[int] = mapped_column(default=0)
    # The public status page's link is an HMAC over (id, version): an administrator
    # rotates it (+1) and the old link stops working (desk.status_page.tokens).
    status_link_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    # Deadlines (filled in by the SLA policies).
    reaction_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Working time spent paused so far (waiting for the resident, resolved until reopened).
    sla_paused_seconds: Mapped[int] = mapped_column(default=0)
    # When the reaction clock stopped: first public reply or routing, per the SLA policy.
    reacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_breached: Mapped[bool] = mapped_column(default=False)
    escalation_level: Mapped[int] = mapped_column(default=0)
    # The nearest deadline still running: the reaction's until the city reacted, then the
    # resolution's (none while the clock is paused). Kept by a flush hook (next_due);
    # "overdue" and the deadline sort of the lists read it, either clock alike.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    category: Mapped[Category | None] = relationship("Category")
    department: Mapped[Department | None] = relationship("Department")
    assignee: Mapped[User | None] = relationship("User", foreign_keys=[assignee_id])
    account: Mapped[Account | None] = relationship("Account")
    post: Mapped[Post | None] = relationship("Post")
    merged_into: Mapped[Ticket | None] = relationship("Ticket", remote_side=[id], foreign_keys=[merged_into_id])
    messages: Mapped[list[Message]] = relationship("Message", back_populates="ticket", order_by="Message.sent_at, Message.id")
    notes: Mapped[list[Note]] = relationship("Note", back_populates="ticket", order_by="Note.id")
    events: Mapped[list[TicketEvent]] = relationship("TicketEvent", back_populates="ticket", order_by="TicketEvent.id")

    @property
    def status_enum(self) -> TicketStatus:
        return TicketStatus(self.status)

    @property
    def is_open(self) -> bool:
        return self.status is not None and TicketStatus(self.status).is_open

    @property
    def next_clock(self) -> str | None:
        """Which clock ``next_due_at`` is: ``reaction`` or ``resolution`` (None: none runs)."""
        if self.next_due_at is None:
            return None
        return "reaction" if self.reacted_at is None and self.reaction_due_at == self.next_due_at else "resolution"

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.status}>"


class Message(Model):
    """An inbound resident comment or an outbound city reply on a ticket."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        CheckConstraint(MessageDirection.check_sql("direction"), name="direction"),
        Index("ix_messages_ticket_sent", "ticket_id", "sent_at", "id"),
        Index("ix_messages_account_thread", "account_id", "thread_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    direction: Mapped[str] = mapped_column(String(16), default=MessageDirection.INBOUND.value)
    platform: Mapped[str] = mapped_column(EnumText(Platform, 16))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    external_id: Mapped[str] = mapped_column(String(160))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    thread_ref: Mapped[str | None] = mapped_column(String(160))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(160))
    author_external_id: Mapped[str | None] = mapped_column(String(128))
    author_name: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_edited: Mapped[bool] = mapped_column(default=False)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_deleted: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    permalink: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket | None] = relationship("Ticket", back_populates="messages")
    account: Mapped[Account] = relationship("Account")
    post: Mapped[Post | None] = relationship("Post")
    revisions: Mapped[list[MessageRevision]] = relationship("MessageRevision", back_populates="message",
                                                            order_by="MessageRevision.id")

    @property
    def is_inbound(self) -> bool:
        return self.direction == MessageDirection.INBOUND.value


class MessageRevision(Model):
    """An earlier text of an edited message: edits never erase what the resident wrote."""

    __tablename__ = "message_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    message: Mapped[Message] = relationship("Message", back_populates="revisions")


class Note(Model):
    """An internal note on a ticket; never shown to residents."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship("Ticket", back_populates="notes")
    author: Mapped[User | None] = relationship("User")


class TicketEvent(Model):
    """Append-only audit of a ticket: who, when, what, old -> new."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship("Ticket", back_populates="events")
    actor: Mapped[User | None] = relationship("User")


def next_due(reaction_due_at: datetime | None, reacted_at: datetime | None, resolution_due_at: datetime | None,
             sla_paused_at: datetime | None) -> datetime | None:
    """The nearest running deadline (see ``Ticket.next_due_at``)."""
    if reacted_at is None and reaction_due_at is not None:
        return reaction_due_at
    return resolution_due_at if sla_paused_at is None else None


@event.listens_for(Session, "before_flush")
def _keep_next_due(session: Session, _context: object, _instances: object) -> None:
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Ticket):
            obj.next_due_at = next_due(obj.reaction_due_at, obj.reacted_at, obj.resolution_due_at, obj.sla_paused_at)
