"""Notifications to desk users (the bell), also sent by e-mail."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .tickets import Ticket
    from .users import User


class Notification(Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # Idempotency of the escalation job: one notice per user, ticket, kind and level.
        UniqueConstraint("user_id", "ticket_id", "kind", "level"),
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship("User")
    ticket: Mapped[Ticket | None] = relationship("Ticket")
