"""All models, imported here so that Alembic and the app see every table."""
from .accounts import Account, Post
from .announcements import Announcement, AnnouncementDelivery  # noqa: F401
from .collectors import CollectorState, DeadLetter, WebhookDelivery
from .intake import Open311Key, ResidentContact, Submission, SubmissionPhoto  # noqa: F401
from .notifications import Notification  # noqa: F401
from .org import Category, Department
from .registry import SubscriberSnapshot  # noqa: F401
from .replies import CannedReply, Reply, ReplyDelivery  # noqa: F401
from .sessions import UserSession
from .sla import CalendarDay, SlaPolicy, WorkingHours  # noqa: F401
from .tickets import Message, MessageRevision, Note, Ticket, TicketEvent
from .types import (
    DIRECT_PLATFORMS,
    JOINABLE_STATUSES,
    OPEN_STATUSES,
    Direction,
    MessageDirection,
    Platform,
    Priority,
    Role,
    TicketStatus,
    utcnow,
)
from .users import ApiToken, User

__all__ = [
    "Account", "ApiToken", "CollectorState", "DeadLetter", "WebhookDelivery", "Category", "Department", "Direction",
    "DIRECT_PLATFORMS", "JOINABLE_STATUSES",
    "Message", "MessageDirection", "MessageRevision", "Note", "OPEN_STATUSES", "Platform",
    "Post", "Priority", "Role", "Ticket", "TicketEvent", "TicketStatus", "User", "UserSession", "utcnow",
]
