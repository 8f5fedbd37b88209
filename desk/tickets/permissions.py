"""Which actions a user may take on a ticket, read from the action registry
(``desk.tickets.actions.ACTIONS``: each action names its roles and the statuses it
applies in). The card template shows only the buttons that work; the views refuse the rest.

Department scope is not checked here: every route loads the ticket through
``desk.auth.scope.get_ticket_or_404`` first, so a head never reaches another
department's ticket. This module answers two questions: does the role have the
action at all (403 otherwise), and does the ticket's status allow it now.
"""
from __future__ import annotations

from .. import labels
from ..i18n import gettext as _
from ..models import Role, Ticket, User
from .actions import ACTIONS, Action, head_statuses

__all__ = ["allowed_actions", "can", "head_statuses", "refusal", "role_has"]


def _action(user: User, name: str) -> Action | None:
    """The action if ``user``'s role has it."""
    action = ACTIONS.get(name)
    if action is None or user.role not in action.roles:
        return None
    return action


def role_has(user: User, action: str) -> bool:
    """Whether the user's role has ``action`` at all (whatever the ticket's status)."""
    return _action(user, action) is not None


def refusal(user: User, action: str, ticket: Ticket) -> str | None:
    """Why ``user`` cannot do ``action`` on ``ticket`` now, or None when allowed."""
    found = _action(user, action)
    if found is None:
        return _("Your role cannot do this.")
    if not found.applies(ticket.status):
        return _("#%(id)s is %(status)s", id=ticket.id, status=labels.label("status", ticket.status).lower())
    return found.refuse(ticket) if found.refuse is not None else None


def can(user: User, action: str, ticket: Ticket) -> bool:
    return refusal(user, action, ticket) is None


def allowed_actions(user: User, ticket: Ticket) -> frozenset[str]:
    """Every action the card should offer this user on this ticket."""
    return frozenset(name for name in ACTIONS if can(user, name, ticket))


def role_actions(role: Role | str) -> frozenset[str]:
    """The names of the actions a role has."""
    return frozenset(a.name for a in ACTIONS.values() if Role(role) in a.roles)
