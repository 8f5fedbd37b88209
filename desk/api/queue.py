"""``GET /api/v1/tickets``: the pages' queue query (desk.tickets.queries) as JSON."""
from __future__ import annotations

from flask import request

from ..models import User, utcnow
from ..tickets.queries import MAX_LIMIT, FilterError, QueueFilters, queue_page
from .errors import unprocessable
from .serializers import ticket_summary
from .validation import int_param, reject_unknown_params

FILTER_PARAMS = ("status", "platform", "direction", "department", "category", "priority",
                 "overdue", "unassigned", "q", "sort")
LIST_PARAMS = (*FILTER_PARAMS, "limit", "cursor")
DEFAULT_LIMIT = 50


def list_tickets(user: User) -> dict:
    """One page of the tickets ``user`` may see; every status unless filtered."""
    reject_unknown_params(LIST_PARAMS)
    limit = int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    try:
        filters = QueueFilters.from_args(request.args)
        page = queue_page(user, filters, request.args.get("cursor") or None, limit)
    except FilterError as exc:
        raise unprocessable("some query parameters are not acceptable", exc.errors) from None
    now = utcnow()
    # queue_page loads category, department and assignee with the rows: no N+1 here.
    return {"items": [ticket_summary(t, now) for t in page.rows], "next_cursor": page.next_cursor}
