"""The accounts registry: one subscriber count per account per city day."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import Account


class SubscriberSnapshot(Model):
    """How many subscribers an account had on ``day`` (a date in the city's time zone).

    A day without a row is a gap (the network could not be asked), never a zero:
    charts break the line there and totals say how many accounts reported.
    """

    __tablename__ = "subscriber_snapshots"
    __table_args__ = (
        UniqueConstraint("account_id", "day"),
        CheckConstraint("count >= 0", name="count_not_negative"),
        Index("ix_subscriber_snapshots_day", "day", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int]
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account] = relationship("Account")

    def __repr__(self) -> str:
        return f"<SubscriberSnapshot {self.account_id} {self.day} {self.count}>"
