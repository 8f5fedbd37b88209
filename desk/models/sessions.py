"""Server-side records of signed-in browsers.

Flask's session is a signed cookie the server cannot take back. Each login therefore
creates one row here, and the cookie (and the remember-me cookie) carry only a random
token whose SHA-256 is this row's ``token_hash``: deleting the row ends that browser's
session at once, wherever the cookie was copied to.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model
from .types import UTCDateTime, utcnow


class UserSession(Model):
    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_expires", "user_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Written at most once a minute (see desk.auth.sessions), not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    remember: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id}>"
