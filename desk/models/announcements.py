"""Crossposting: one announcement composed once, and its outbox row per account.

The rows use the replies outbox's states and transition table
(:data:`desk.models.replies.DELIVERY_TRANSITIONS`): ``queued -> sending -> sent |
failed | unknown``; a unique ``outbox_key`` per (announcement, account) means an
account never gets the same announcement twice.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model
from .replies import DeliveryState
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import Account
    from .users import User


class Announcement(Model):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: right away
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship("User")
    deliveries: Mapped[list[AnnouncementDelivery]] = relationship(
        "AnnouncementDelivery", back_populates="announcement", order_by="AnnouncementDelivery.id")


class AnnouncementDelivery(Model):
    __tablename__ = "announcement_deliveries"
    __table_args__ = (
        CheckConstraint(DeliveryState.check_sql("state"), name="state"),
        UniqueConstraint("outbox_key"),
        UniqueConstraint("announcement_id", "account_id"),
        Index("ix_announcement_deliveries_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    platform: Mapped[str] = mapped_column(String(16))
    outbox_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sending_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(160))
    permalink: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    announcement: Mapped[Announcement] = relationship("Announcement", back_populates="deliveries")
    account: Mapped[Account] = relationship("Account")
