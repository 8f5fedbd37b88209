"""The city's organisation: departments and categories of problems."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model
from .types import Direction, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .users import User


class Department(Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Answers written in this department wait for an operator's approval (replies issue).
    answers_need_approval: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[User]] = relationship("User", back_populates="department", foreign_keys="User.department_id")

    @property
    def heads(self):
        return [u for u in self.members if u.role == "department_head" and u.is_active_user]

    def __repr__(self) -> str:
        return f"<Department {self.name}>"


class Category(Model):
    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("direction IS NULL OR " + Direction.check_sql("direction"), name="direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    direction: Mapped[str | None] = mapped_column(String(32))
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    #: words residents use for this problem ("батарея", "отопление"): the triage's prior on day one
    keywords: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    default_department: Mapped[Department | None] = relationship("Department")

    def __repr__(self) -> str:
        return f"<Category {self.name}>"
