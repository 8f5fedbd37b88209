"""Who may move a ticket to which status through the API.

The same rules as the ticket card (``desk.tickets.permissions``): operators and
admins take any transition of the table; a department head only the work statuses
and the return to triage; managers only read.
"""
from __future__ import annotations

from ..models import Role, Ticket, TicketStatus, User
from ..tickets import permissions
from ..tickets.workflow import REASON_REQUIRED, can_transition
from .errors import ApiError, unprocessable

S = TicketStatus


def check_status_change(user: User, ticket: Ticket, new: TicketStatus, reason: str | None) -> None:
    """Raise the ApiError that explains why ``user`` may not move ``ticket`` to ``new``."""
    old = TicketStatus(ticket.status)
    if new is S.MERGED:
        raise unprocessable("merging needs a target ticket; it is not done by a status change",
                            {"status": "merged is not accepted here"})
    if not can_transition(old, new):
        raise ApiError(409, "transition_not_allowed", f"cannot change status from {old.value} to {new.value}")
    if user.has_role(Role.DEPARTMENT_HEAD):
        allowed = set(permissions.head_statuses(ticket))
        if permissions.can(user, "return", ticket):
            allowed.add(S.NEW)
        if new not in allowed:
            raise ApiError(403, "forbidden", f"a department head cannot set status {new.value}")
    if (old, new) in REASON_REQUIRED and not reason:
        raise unprocessable("say why the ticket goes back to triage", {"reason": "required for this change"})
