"""What each API operation accepts: request bodies and query strings, declared once.

The views check requests against these declarations and ``openapi.py`` writes them
into the document, so the two cannot disagree.
"""
from __future__ import annotations

from ..models import Direction, Platform, Priority, TicketStatus
from ..replies.text import LIMITS
from ..tickets.queries import MAX_LIMIT, MAX_QUERY, SORTS
from ..web_input import DB_INT_MAX
from .validation import Field, enum_choices, id_field

#: an id in a URL path (``/tickets/{ticket_id}``); others are 404 like unknown ones
PATH_ID_MAX = DB_INT_MAX
#: a reason or a note is a sentence or two; more is a paste gone wrong
MAX_REASON = 2000
#: the longest text any network takes (each thread's own limit is checked when posting)
MAX_REPLY = max(LIMITS.values())
#: cursors are short base64url strings made by the server
MAX_CURSOR = 200

ROUTE_BODY = {
    "department": id_field(description="Department id."),
    "category": id_field(description="Category id."),
    "priority": Field(str, choices=enum_choices(Priority)),
}
#: ``merged`` needs a target ticket: it is not a status change
STATUS_BODY = {
    "status": Field(str, required=True, choices=enum_choices(TicketStatus, exclude=[TicketStatus.MERGED])),
    "reason": Field(str, nullable=True, max_length=MAX_REASON,
                    description="Why; required when a routed ticket goes back to `new`."),
}
REPLY_BODY = {
    "text": Field(str, required=True, non_blank=True, max_length=MAX_REPLY,
                  description="The answer; `{name}`, `{ticket}`, `{department}` and `{status_link}` "
                              "are filled in per resident thread. Each network's own length limit "
                              "applies to the filled-in text (422 when over it)."),
}

_FLAG = ("1", "0", "true", "false", "yes", "no", "on", "off")
LIST_QUERY = {
    "status": Field(str, repeated=True, choices=(*TicketStatus.values(), "all"),
                    description="Repeat to match any of several statuses; absent or `all` means every status."),
    "platform": Field(str, choices=enum_choices(Platform), description="Network the ticket came from."),
    "direction": Field(str, choices=enum_choices(Direction), description="Direction of the city account."),
    "department": id_field(description="Department id."),
    "category": id_field(description="Category id."),
    "priority": Field(str, choices=enum_choices(Priority), description="Priority."),
    "overdue": Field(str, choices=_FLAG, description="Only open tickets past their resolution deadline."),
    "unassigned": Field(str, choices=_FLAG, description="Only tickets without an assignee."),
    "q": Field(str, max_length=MAX_QUERY,
               description="Text search in the subject and the author's name; `#123` finds ticket 123."),
    "sort": Field(str, choices=SORTS, default="newest",
                  description="Newest first (default) or nearest resolution deadline first."),
    "limit": Field(int, minimum=1, maximum=MAX_LIMIT, default=50, description="Page size."),
    "cursor": Field(str, pattern="[A-Za-z0-9_-]+", max_length=MAX_CURSOR,
                    description="The `next_cursor` of the previous page, with the same filters and sort."),
}
