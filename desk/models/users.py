"""People who log in to the desk, and their API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Model
from .types import EnumText, Role, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .org import Department


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(Role.check_sql("role"), name="role"),
        # A department head is always bound to a department.
        CheckConstraint("role <> 'department_head' OR department_id IS NOT NULL", name="head_has_department"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(EnumText(Role, 32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    is_active_user: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    #: notification kinds the user chose not to receive (desk.notify.kinds)
    muted_notices: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # For the administrator's eyes: until when new browsers were last refused after too
    # many wrong passwords. The lock itself lives in Redis (desk.auth.throttle), keyed by
    # the e-mail, so unknown e-mails are locked the same way.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department | None] = relationship("Department", back_populates="members", foreign_keys=[department_id])

    # Set by desk.auth.sessions when this object is loaded for (or logged in as) one
    # server-side session; not a column. (Typed for mypy only: Declarative would take a
    # runtime annotation without Mapped[] for a column.)
    if TYPE_CHECKING:
        session_token: str | None
        session_id: int | None
    session_token = None
    session_id = None

    def set_password(self, password: str) -> None:
        # Tests configure a cheap method; production keeps Werkzeug's default (scrypt).
        method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
        self.password_hash = generate_password_hash(password, **({"method": method} if method else {}))

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_user

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: the token of
        one server-side session, never the user id (which would outlive a logout)."""
        if not self.session_token:
            raise RuntimeError("start a session with desk.auth.sessions.start_session first")
        return self.session_token

    # UserMixin compares get_id(); a user is the same user whichever session loaded it.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {str(r.value if isinstance(r, Role) else r) for r in roles}

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: never

    user: Mapped[User] = relationship("User")

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str = "", expires_at: datetime | None = None) -> tuple[ApiToken, str]:
        """Create a token row; returns it and the plain token (shown once)."""
        plain = "dsk_" + secrets.token_urlsafe(32)
        return cls(user=user, name=name, token_hash=cls.hash(plain), expires_at=expires_at), plain
