"""Appeals filed straight with the desk, not under a post: the web form and Open311.

A :class:`Submission` carries what such an appeal has beyond the resident's text (the
service chosen, address and coordinates, photos, the Open311 client's key and token).
A :class:`ResidentContact` is a resident's e-mail for answers and status changes, with
the token of its one-click unsubscribe link. An :class:`Open311Key` lets one city system
post requests; only its SHA-256 is stored.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .org import Category
    from .tickets import Ticket
    from .users import User


class Open311Key(Model):
    """An Open311 client's API key, named and revocable; the plain key is shown once."""

    __tablename__ = "open311_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the key's first characters, to tell keys apart on the admin page
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship("User")

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()

    @classmethod
    def issue(cls, name: str, created_by: User | None = None) -> tuple[Open311Key, str]:
        """A new key row and the plain key (show it once; only the hash is kept)."""
        plain = "o311_" + secrets.token_urlsafe(24)
        return cls(name=name, key_hash=cls.hash(plain), prefix=plain[:9], created_by=created_by), plain

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Submission(Model):
    """What a directly filed appeal carries beyond its text (one per ticket)."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint("channel IN ('web', 'open311')", name="channel"),
        Index("ix_submissions_token", "token", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    #: the category (Open311 service) the resident chose
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    address: Mapped[str] = mapped_column(String(500), default="")
    address_id: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    #: a picture's URL given by an Open311 client (http/https only)
    media_url: Mapped[str] = mapped_column(String(1000), default="")
    #: Open311 ``attribute[code]`` answers
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    open311_key_id: Mapped[int | None] = mapped_column(ForeignKey("open311_keys.id"))
    #: the Open311 ``token`` answered to clients that poll ``tokens/{id}``
    token: Mapped[str | None] = mapped_column(String(64))
    #: when the resident agreed to the processing of personal data (the web form asks)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: whether the resident let the photos keep their location
    photo_location_kept: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship("Ticket")
    category: Mapped[Category | None] = relationship("Category")
    open311_key: Mapped[Open311Key | None] = relationship("Open311Key")
    photos: Mapped[list[SubmissionPhoto]] = relationship(
        "SubmissionPhoto", back_populates="submission", order_by="SubmissionPhoto.id")


class SubmissionPhoto(Model):
    """A photo sent with the web form, stored under the instance folder by a random name."""

    __tablename__ = "submission_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(default=0)
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship("Submission", back_populates="photos")


class ResidentContact(Model):
    """A resident's e-mail for the answers and status changes of one ticket."""

    __tablename__ = "resident_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(300), default="")
    #: the language the resident filed in: their e-mails speak it
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    #: the secret of the one-click unsubscribe link
    token: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: secrets.token_urlsafe(24))
    subscribed: Mapped[bool] = mapped_column(default=True)
    #: "<incident id>:<status>" last e-mailed (no second message for the same state)
    last_notified: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship("Ticket")
