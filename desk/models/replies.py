"""Public replies: the answer written on a ticket, its outbox rows and canned texts.

A :class:`Reply` is what a person wrote once for an incident; it goes through the
approval states. When approved it fans out into one :class:`ReplyDelivery` (an outbox
row) per resident thread of the incident (the ticket and every ticket merged into it),
each with a unique ``outbox_key`` and its own delivery state machine::

    queued -> sending -> sent | failed | unknown
    failed/unknown -> queued (a person resends), unknown -> sent (a person checked)
    manual -> sent (OK: a person posts it and confirms with the link)
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model
from .types import LabeledEnum, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import Account
    from .org import Category, Department
    from .tickets import Message, Ticket
    from .users import User


class ReplyState(LabeledEnum):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Waiting for approval"
    RETURNED = "returned", "Sent back"
    APPROVED = "approved", "Approved"


class DeliveryState(LabeledEnum):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Posted"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown: check the thread"
    MANUAL = "manual", "To post by hand"
    CANCELLED = "cancelled", "Cancelled"


D = DeliveryState
#: the delivery state machine; every change goes through desk.replies.outbox.move
DELIVERY_TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    D.QUEUED: frozenset({D.SENDING, D.CANCELLED, D.FAILED}),
    D.SENDING: frozenset({D.SENT, D.FAILED, D.UNKNOWN, D.QUEUED}),
    D.FAILED: frozenset({D.QUEUED, D.CANCELLED}),
    D.UNKNOWN: frozenset({D.SENT, D.QUEUED, D.CANCELLED}),
    D.MANUAL: frozenset({D.SENT, D.CANCELLED}),
    D.SENT: frozenset(),
    D.CANCELLED: frozenset(),
}


class Reply(Model):
    __tablename__ = "replies"
    __table_args__ = (
        CheckConstraint(ReplyState.check_sql("state"), name="state"),
        Index("ix_replies_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(24), default=ReplyState.DRAFT.value)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    ticket: Mapped[Ticket] = relationship("Ticket")
    author: Mapped[User | None] = relationship("User", foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship("User", foreign_keys=[reviewed_by_id])
    deliveries: Mapped[list[ReplyDelivery]] = relationship("ReplyDelivery", back_populates="reply", order_by="ReplyDelivery.id")


class ReplyDelivery(Model):
    """One outbox row: the reply to one resident's thread on one network."""

    __tablename__ = "reply_deliveries"
    __table_args__ = (
        CheckConstraint(DeliveryState.check_sql("state"), name="state"),
        UniqueConstraint("outbox_key"),
        UniqueConstraint("reply_id", "ticket_id"),
        Index("ix_reply_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_reply_deliveries_account_thread", "account_id", "thread_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("replies.id"), index=True)
    # The resident's ticket whose thread this row answers (the root or a merged one).
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    platform: Mapped[str] = mapped_column(String(16))
    thread_ref: Mapped[str | None] = mapped_column(String(160))
    # The resident's message the reply answers (network id, as stored on Message).
    target_external_id: Mapped[str | None] = mapped_column(String(160))
    outbox_key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sending_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(160))
    permalink: Mapped[str] = mapped_column(String(500), default="")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    reply: Mapped[Reply] = relationship("Reply", back_populates="deliveries")
    ticket: Mapped[Ticket] = relationship("Ticket")
    account: Mapped[Account | None] = relationship("Account")
    message: Mapped[Message | None] = relationship("Message")

    @property
    def state_enum(self) -> DeliveryState:
        return DeliveryState(self.state)


class CannedReply(Model):
    """A ready answer with placeholders, offered for a department and/or category
    (empty = everywhere)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department | None] = relationship("Department")
    category: Mapped[Category | None] = relationship("Category")
