"""Collector bookkeeping: cursors and health per account, the webhook inbox, dead letters."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import Account


class CollectorState(Model):
    """Where a collector is for one account (and one stream of it) and how it is doing.

    ``cursor`` is the network's position (Telegram offset, VK ts, MAX marker, OK
    anchor); it is written in the same transaction as the batch it covers, so it
    never runs ahead of what is stored.
    """

    __tablename__ = "collector_states"
    __table_args__ = (UniqueConstraint("account_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(64), default="main")
    cursor: Mapped[str | None] = mapped_column(Text)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_item_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    items_total: Mapped[int] = mapped_column(default=0)
    items_day: Mapped[date | None] = mapped_column(Date)
    items_today: Mapped[int] = mapped_column(default=0)

    account: Mapped[Account] = relationship("Account")


class WebhookDelivery(Model):
    """A webhook body as received, stored before the network gets its 200.

    The endpoint only verifies, stores and enqueues; a job parses and ingests. A
    repeated delivery (same ``event_key``, e.g. VK ``event_id``, Telegram
    ``update_id``) hits the unique key and is acknowledged without work.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("account_id", "event_key"),
        Index("ix_webhook_deliveries_pending", "processed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeadLetter(Model):
    """A payload that could not be parsed or ingested after retries: kept with its
    error for an admin to see and replay after a fix; never silently dropped."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))  # webhook | poll | backfill
    payload: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | replayed | discarded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replay_count: Mapped[int] = mapped_column(default=0)

    account: Mapped[Account | None] = relationship("Account")
