"""Column types and enums shared by the models."""
from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones, so values are stored as naive UTC and come back aware;
    PostgreSQL stores ``timestamptz``. Naive input is rejected: it is always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class LabeledEnum(str, enum.Enum):
    """A string enum whose members carry an English label (translated in templates)."""

    def __new__(cls, value: str, label: str = ""):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label or value
        return obj

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def check_sql(cls, column: str) -> str:
        quoted = ", ".join(f"'{v}'" for v in cls.values())
        return f"{column} IN ({quoted})"


class Platform(LabeledEnum):
    TELEGRAM = "telegram", "Telegram"
    VK = "vk", "VK"
    MAX = "max", "MAX"
    OK = "ok", "Odnoklassniki"
    WEB = "web", "Website"


class Direction(LabeledEnum):
    HOUSING = "housing", "Housing and utilities"
    EDUCATION = "education", "Education"
    CULTURE = "culture", "Culture"
    SPORT = "sport", "Sport"
    PUBLIC_ASSOCIATIONS = "public_associations", "Public associations"
    SOCIAL = "social", "Social structures"
    BUSINESS = "business", "Business"
    AUTHORITIES = "authorities", "Authorities"


class Role(LabeledEnum):
    ADMIN = "admin", "Administrator"
    OPERATOR = "operator", "Operator"
    DEPARTMENT_HEAD = "department_head", "Department head"
    MANAGER = "manager", "Manager"


class Priority(LabeledEnum):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TicketStatus(LabeledEnum):
    NEW = "new", "New"
    TRIAGED = "triaged", "Routed"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_RESIDENT = "waiting_resident", "Waiting for resident"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    NOT_APPEAL = "not_appeal", "Not an appeal"
    SPAM = "spam", "Spam"
    MERGED = "merged", "Merged"


# Statuses in which a ticket still needs work (used by queues, follow-ups and SLA).
OPEN_STATUSES = frozenset(
    {TicketStatus.NEW, TicketStatus.TRIAGED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_RESIDENT}
)
# Statuses a resident's follow-up in the same thread may join (resolved reopens).
JOINABLE_STATUSES = OPEN_STATUSES | {TicketStatus.RESOLVED}


class MessageDirection(LabeledEnum):
    INBOUND = "inbound", "Resident"
    OUTBOUND = "outbound", "City"
