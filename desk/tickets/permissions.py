"""Which actions a user may take on a ticket: one table read by the card template
(to show only the buttons that work) and by the views (to refuse the rest).

Department scope is not checked here: every route loads the ticket through
``desk.auth.scope.get_ticket_or_404`` first, so a head never reaches another
department's ticket. This module answers two questions: does the role have the
action at all (403 otherwise), and does the ticket's status allow it now.
"""
from __future__ import annotations

from flask_babel import gettext as _

from .. import labels
from ..models import Role, Ticket, TicketStatus, User
from .workflow import allowed_next

S = TicketStatus

OPEN = frozenset({S.NEW, S.TRIAGED, S.IN_PROGRESS, S.WAITING_RESIDENT})
TRIAGING = frozenset({S.TRIAGED, S.IN_PROGRESS, S.WAITING_RESIDENT})
ANY = frozenset(TicketStatus)

# action -> statuses in which it applies, per role.
OPERATOR_ACTIONS: dict[str, frozenset[TicketStatus]] = {
    "route": OPEN,
    "not_appeal": frozenset({S.NEW}),
    "spam": frozenset({S.NEW}),
    "undo": frozenset({S.NOT_APPEAL, S.SPAM}),
    "category": OPEN,
    "department": OPEN,
    "priority": OPEN,
    "assignee": TRIAGING,
    "merge": OPEN,
    "note": ANY,
    "close": frozenset({S.RESOLVED}),
}
HEAD_ACTIONS: dict[str, frozenset[TicketStatus]] = {
    "accept": frozenset({S.TRIAGED}),
    "return": frozenset({S.TRIAGED, S.IN_PROGRESS}),
    "status": TRIAGING | {S.RESOLVED},
    "note": ANY,
    "draft": TRIAGING | {S.RESOLVED},
}
ROLE_ACTIONS: dict[str, dict[str, frozenset[TicketStatus]]] = {
    Role.OPERATOR.value: OPERATOR_ACTIONS,
    Role.ADMIN.value: OPERATOR_ACTIONS,
    Role.DEPARTMENT_HEAD.value: HEAD_ACTIONS,
    Role.MANAGER.value: {},
}
BULK_ACTIONS = ("route", "not_appeal", "spam", "merge")

# A head's status changes exclude the ones that have their own action (return -> new)
# or belong to the operators (merge, close after the public answer, triage decisions).
HEAD_STATUS_EXCLUDED = frozenset({S.NEW, S.MERGED, S.CLOSED, S.NOT_APPEAL, S.SPAM})


def role_has(user: User, action: str) -> bool:
    """Whether the user's role has ``action`` at all (whatever the ticket's status)."""
    return action in ROLE_ACTIONS.get(user.role, {})


def refusal(user: User, action: str, ticket: Ticket) -> str | None:
    """Why ``user`` cannot do ``action`` on ``ticket`` now, or None when allowed."""
    statuses = ROLE_ACTIONS.get(user.role, {}).get(action)
    if statuses is None:
        return _("Your role cannot do this.")
    if TicketStatus(ticket.status) not in statuses:
        return _("#%(id)s is %(status)s", id=ticket.id, status=labels.label("status", ticket.status).lower())
    if action == "status" and not head_statuses(ticket):
        return _("#%(id)s has no next status", id=ticket.id)
    return None


def can(user: User, action: str, ticket: Ticket) -> bool:
    return refusal(user, action, ticket) is None


def allowed_actions(user: User, ticket: Ticket) -> frozenset[str]:
    """Every action the card should offer this user on this ticket."""
    return frozenset(a for a in ROLE_ACTIONS.get(user.role, {}) if can(user, a, ticket))


def head_statuses(ticket: Ticket) -> list[TicketStatus]:
    """The statuses a department head may move this ticket to."""
    return [s for s in allowed_next(ticket) if s not in HEAD_STATUS_EXCLUDED]
