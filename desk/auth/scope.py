"""Who may see and do what: role checks and department scope, in one place.

Every page and API route that touches tickets goes through :func:`ticket_scope`
or :func:`get_ticket_or_404`. A department head sees only the tickets of their own
department; any other ticket answers 404, never 403, so its existence is not revealed.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import abort
from flask_login import current_user

from ..extensions import db, login_manager
from ..models import Role, Ticket, User

#: a view function, kept as it is by the decorators below
View = TypeVar("View", bound=Callable[..., Any])

if TYPE_CHECKING:
    # Flask-Login ships no type information: its decorator would make every view untyped.
    # Views import it from here: the same function at run time, typed for the checker.
    def login_required(func: View) -> View: ...
else:
    from flask_login import login_required

STAFF_WITH_ALL_TICKETS = {Role.ADMIN.value, Role.OPERATOR.value, Role.MANAGER.value}


def ticket_scope(user: User):
    """A SQL condition restricting tickets to those ``user`` may see."""
    return scope_of(user, Ticket)


def scope_of(user: User, tickets: Any):
    """:func:`ticket_scope` for an alias of the tickets table (a query that joins it twice)."""
    if user.role in STAFF_WITH_ALL_TICKETS:
        return db.true()
    if user.role == Role.DEPARTMENT_HEAD.value and user.department_id is not None:
        return tickets.department_id == user.department_id
    return db.false()


def can_see_ticket(user: User, ticket: Ticket) -> bool:
    if user.role in STAFF_WITH_ALL_TICKETS:
        return True
    return user.role == Role.DEPARTMENT_HEAD.value and ticket.department_id == user.department_id \
        and user.department_id is not None


def get_ticket_or_404(ticket_id: int, user: User | None = None, *, for_update: bool = False) -> Ticket:
    user = user or current_user
    query = db.select(Ticket).where(Ticket.id == ticket_id, ticket_scope(user))
    if for_update:
        query = query.with_for_update()
    ticket = db.session.scalars(query).first()
    if ticket is None:
        abort(404)
    return ticket


def roles_required(*roles: Role) -> Callable[[View], View]:
    """Allow a view only to logged-in users with one of ``roles`` (403 otherwise)."""
    allowed = {r.value for r in roles}

    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return cast(View, wrapped)

    return decorator


def restrict_blueprint(bp, *roles: Role) -> None:
    """Every view of ``bp`` requires a login and one of ``roles`` (403 otherwise)."""
    allowed = {r.value for r in roles}

    @bp.before_request
    def _check_role():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in allowed:
            abort(403)
        return None


def home_endpoint(user: User) -> str:
    """Where each role lands after logging in."""
    return {
        Role.OPERATOR.value: "triage.queue",
        Role.ADMIN.value: "triage.queue",
        Role.DEPARTMENT_HEAD.value: "inbox.inbox",
        Role.MANAGER.value: "overview.overview",
    }.get(user.role, "auth.login")
