"""Column types and enums shared by the models."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, TypeDecorator


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


class EnumText(TypeDecorator):
    """A :class:`LabeledEnum` column stored as its plain string (the same VARCHAR and CHECK
    constraint as before, no database enum type): values are checked against the enum on
    the way in and come back as members, so code reads the member's traits directly."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[LabeledEnum], length: int):
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return str(self.enum_cls(value).value)  # an unknown value fails here, not at the CHECK

    def process_result_value(self, value: Any, dialect: Any) -> LabeledEnum | str | None:
        if value is None:
            return None
        try:
            return self.enum_cls(value)
        except ValueError:  # a value written before the enum lost it: shown, not crashed on
            return str(value)


class LabeledEnum(str, enum.Enum):
    """A string enum whose members carry an English label (translated in templates)."""

    label: str  # set per member in __new__ (an annotation, not a member)

    # A member prints, formats and serialises as its stored string ("new"), like StrEnum,
    # so columns can load members and templates, logs and JSON still see the plain value.
    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, format_spec: str) -> str:
        return str.__format__(self, format_spec)

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
    OPEN311 = "open311", "Open311"


#: the platforms whose appeals come straight to the desk (the web form, Open311): no
#: network, no post; answers reach the resident on the status page and by e-mail
DIRECT_PLATFORMS = (Platform.WEB.value, Platform.OPEN311.value)


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
    """Priorities; ``css`` is the badge class (``priority-<value>``)."""

    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"

    @property
    def css(self) -> str:
        return f"priority-{self.value}"


_STAFF = frozenset({Role.OPERATOR, Role.ADMIN})
_WORKERS = _STAFF | {Role.DEPARTMENT_HEAD}


@dataclass(frozen=True)
class StatusTraits:
    """What a status means to the rest of the desk, declared once per status."""

    #: still needs work: queues, overdue counts, escalation, deadlines shown as running
    is_open: bool
    #: the resolution clock stands still (Zammad's ``ignore_escalation``); leaving it for an
    #: open status that does not pause resumes the clock
    pauses_sla: bool
    #: a public answer may be written to the resident
    replyable: bool
    #: operators may still (re)route it: department, category, priority, merge it away
    routable: bool
    #: a resident's follow-up in the same thread joins it (and a ticket may be merged into it)
    joinable: bool
    #: a department holds it: its inbox shows it, its head works on it
    in_department: bool
    #: entering it sets ``closed_at`` (the ticket leaves the desk until undone)
    closes: bool
    #: counted by the reports (junk and merged duplicates are not)
    reported: bool
    #: roles that may pick it in a status change (the card's status form, the API)
    set_by: frozenset[Role]
    #: statuses it may move to next (the transition table, as values)
    next: tuple[str, ...]
    #: CSS class of its badge and chart bar
    css: str
    #: its public status page opens for whoever has the link (spam and "not an appeal" are
    #: hidden: 404; a merged ticket's page shows the incident it joined)
    public: bool = True


class TicketStatus(LabeledEnum):
    """The life cycle of a ticket. Each member declares all its traits here; the sets the
    queries, permissions and the SLA use are derived from them (``open_values()`` etc.).
    Stored strings and the CHECK constraint are the values."""

    NEW = "new", "New", StatusTraits(
        is_open=True, pauses_sla=False, replyable=True, routable=True, joinable=True, in_department=False,
        closes=False, reported=True, set_by=_STAFF,
        next=("triaged", "not_appeal", "spam", "merged"), css="status-new")
    # A head may set it too: a new ticket already in their department (API) may be marked routed.
    TRIAGED = "triaged", "Routed", StatusTraits(
        is_open=True, pauses_sla=False, replyable=True, routable=True, joinable=True, in_department=True,
        closes=False, reported=True, set_by=_WORKERS,
        # A department may return a ticket to triage (-> new) with a reason.
        next=("in_progress", "waiting_resident", "resolved", "new", "merged"), css="status-triaged")
    IN_PROGRESS = "in_progress", "In progress", StatusTraits(
        is_open=True, pauses_sla=False, replyable=True, routable=True, joinable=True, in_department=True,
        closes=False, reported=True, set_by=_WORKERS,
        next=("waiting_resident", "resolved", "new", "merged"), css="status-in_progress")
    WAITING_RESIDENT = "waiting_resident", "Waiting for resident", StatusTraits(
        is_open=True, pauses_sla=True, replyable=True, routable=True, joinable=True, in_department=True,
        closes=False, reported=True, set_by=_WORKERS,
        next=("in_progress", "resolved", "merged"), css="status-waiting_resident")
    RESOLVED = "resolved", "Resolved", StatusTraits(
        is_open=False, pauses_sla=True, replyable=True, routable=False, joinable=True, in_department=True,
        closes=False, reported=True, set_by=_WORKERS,
        # Reopened when the resident writes again in the same thread, or by staff.
        next=("closed", "in_progress"), css="status-resolved")
    CLOSED = "closed", "Closed", StatusTraits(
        is_open=False, pauses_sla=False, replyable=False, routable=False, joinable=False, in_department=False,
        closes=True, reported=True, set_by=_STAFF,
        next=(), css="status-closed")
    # An operator may undo a wrong "not an appeal" / "spam" decision.
    NOT_APPEAL = "not_appeal", "Not an appeal", StatusTraits(
        is_open=False, pauses_sla=True, replyable=False, routable=False, joinable=False, in_department=False,
        closes=True, reported=False, set_by=_STAFF,
        next=("new",), css="status-not_appeal", public=False)
    SPAM = "spam", "Spam", StatusTraits(
        is_open=False, pauses_sla=True, replyable=False, routable=False, joinable=False, in_department=False,
        closes=True, reported=False, set_by=_STAFF,
        next=("new",), css="status-spam", public=False)
    # The clock of a closed or merged ticket stays stopped where it is (neither paused nor resumed).
    MERGED = "merged", "Merged", StatusTraits(
        is_open=False, pauses_sla=False, replyable=False, routable=False, joinable=False, in_department=False,
        closes=True, reported=False, set_by=_STAFF,
        next=("new",), css="status-merged")  # "Undo" separates a wrongly merged ticket

    traits: StatusTraits

    # Defaults only so that type checkers read ``TicketStatus("new")`` as the lookup it is.
    def __new__(cls, value: str, label: str = "", traits: StatusTraits | None = None):
        if traits is None:
            raise TypeError(f"status {value!r} declares no traits")
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        obj.traits = traits
        return obj

    # Per-member traits, read as attributes: ``TicketStatus.RESOLVED.pauses_sla``.
    @property
    def is_open(self) -> bool:
        return self.traits.is_open

    @property
    def pauses_sla(self) -> bool:
        return self.traits.pauses_sla

    @property
    def replyable(self) -> bool:
        return self.traits.replyable

    @property
    def routable(self) -> bool:
        return self.traits.routable

    @property
    def joinable(self) -> bool:
        return self.traits.joinable

    @property
    def in_department(self) -> bool:
        return self.traits.in_department

    @property
    def closes(self) -> bool:
        return self.traits.closes

    @property
    def reported(self) -> bool:
        return self.traits.reported

    @property
    def set_by(self) -> frozenset[Role]:
        return self.traits.set_by

    @property
    def css(self) -> str:
        return self.traits.css

    @property
    def public(self) -> bool:
        return self.traits.public

    @property
    def next_statuses(self) -> frozenset[TicketStatus]:
        return frozenset(TicketStatus(v) for v in self.traits.next)

    @property
    def resumes_sla(self) -> bool:
        """Entering it restarts a paused resolution clock."""
        return self.is_open and not self.pauses_sla

    def may_be_set_by(self, role: Role | str) -> bool:
        return Role(role) in self.set_by

    @classmethod
    def having(cls, trait: str) -> tuple[TicketStatus, ...]:
        """The members with ``trait`` true, in declaration order."""
        return tuple(s for s in cls if getattr(s, trait))

    @classmethod
    def values_having(cls, trait: str) -> tuple[str, ...]:
        """Their stored strings, for SQL filters: ``Ticket.status.in_(...)``."""
        return tuple(s.value for s in cls.having(trait))

    @classmethod
    def open_values(cls) -> tuple[str, ...]:
        return cls.values_having("is_open")

    @classmethod
    def joinable_values(cls) -> tuple[str, ...]:
        return cls.values_having("joinable")

    @classmethod
    def replyable_values(cls) -> tuple[str, ...]:
        return cls.values_having("replyable")

    @classmethod
    def routable_values(cls) -> tuple[str, ...]:
        return cls.values_having("routable")

    @classmethod
    def department_values(cls) -> tuple[str, ...]:
        return cls.values_having("in_department")

    @classmethod
    def unreported_values(cls) -> tuple[str, ...]:
        return tuple(s.value for s in cls if not s.reported)


# Kept for the modules that import them; both derive from the traits.
OPEN_STATUSES = frozenset(TicketStatus.having("is_open"))
JOINABLE_STATUSES = frozenset(TicketStatus.having("joinable"))


class MessageDirection(LabeledEnum):
    INBOUND = "inbound", "Resident"
    OUTBOUND = "outbound", "City"
