"""``GET /api/v1/tickets``: the pages' queue query (desk.tickets.queries) as JSON."""
from __future__ import annotations

from typing import cast

from ..models import User, utcnow
from ..tickets.queries import QueueFilters, queue_page
from .serializers import ticket_summary
from .specs import LIST_QUERY
from .validation import read_query


def list_tickets(user: User) -> dict:
    """One page of the tickets ``user`` may see; every status unless filtered."""
    args = read_query(LIST_QUERY)
    limit = args.pop("limit")
    cursor = args.pop("cursor", None)
    # A FilterError is answered by the API's DeskError handler (422, the bad fields named).
    filters = QueueFilters.from_args(args)
    # read_query() checked the types LIST_QUERY declares: an optional text cursor, an integer limit
    page = queue_page(user, filters, cast("str | None", cursor), cast(int, limit))
    now = utcnow()
    # queue_page loads category, department and assignee with the rows: no N+1 here.
    return {"items": [ticket_summary(t, now) for t in page.rows], "next_cursor": page.next_cursor}
