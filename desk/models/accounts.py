"""The city's official accounts on the networks, and the posts residents comment under."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import crypto
from .base import Model
from .types import DIRECT_PLATFORMS, Direction, EnumText, Platform, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .org import Department


class Account(Model):
    """One official account of the city on one network.

    ``settings`` holds the network's public ids (channel id, group id, chat id …);
    secrets (tokens, webhook secrets) live only in ``credentials_encrypted`` and are
    never rendered or logged; ``__repr__`` leaves them out on purpose.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(Platform.check_sql("platform"), name="platform"),
        CheckConstraint(Direction.check_sql("direction"), name="direction"),
        UniqueConstraint("platform", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(EnumText(Platform, 16))
    name: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(500), default="")
    direction: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department | None] = relationship("Department")

    @classmethod
    def on_networks(cls) -> ColumnElement[bool]:
        """Keeps the accounts on a network: not the web form's nor Open311's intake account,
        which have no network to collect from, post to or list in the registry."""
        return cls.platform.notin_(DIRECT_PLATFORMS)

    def set_credentials(self, credentials: dict) -> None:
        self.credentials_encrypted = crypto.encrypt_json(credentials) if credentials else None

    def get_credentials(self) -> dict:
        return crypto.decrypt_json(self.credentials_encrypted)

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.platform} {self.name!r}>"


class Post(Model):
    """A post of a city account under which residents comment.

    ``external_id`` is the post's id on the network (Telegram: the channel message id);
    ``thread_ref`` is what comments point at when that differs (Telegram: the id of the
    automatic forward in the discussion group).
    """

    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_posts_account_thread_ref", "account_id", "thread_ref"),
        Index("ix_posts_account_posted", "account_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    thread_ref: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text, default="")
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account] = relationship("Account")
