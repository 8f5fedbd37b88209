"""JSON API v1: the ticket queue, one ticket, routing and status changes.

Views stay thin: they authenticate the token, load the ticket through the shared
scope helper (another department's ticket is a 404, never a 403), validate the
input, call the ticket services and commit once.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from ..auth.scope import get_ticket_or_404
from ..extensions import db
from ..models import Category, Department, Role, TicketStatus
from ..tickets import services
from ..tickets.workflow import change_status
from . import serializers
from .auth import api_user, require_role, token_required
from .errors import ApiError, register_error_handlers, unprocessable
from .openapi import OPENAPI
from .permissions import check_status_change
from .queue import list_tickets
from .specs import PATH_ID_MAX, ROUTE_BODY, STATUS_BODY
from .validation import read_json_body

bp = Blueprint("api", __name__, url_prefix="/api/v1")
register_error_handlers(bp)


@bp.url_value_preprocessor
def _ids_in_range(endpoint, values):
    """An id no row can have is simply not found (the database would refuse to compare it)."""
    for value in (values or {}).values():
        if isinstance(value, int) and not 0 < value <= PATH_ID_MAX:
            raise ApiError(404, "not_found", "no such ticket")


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@bp.get("/tickets")
@token_required()
def tickets():
    return jsonify(list_tickets(api_user()))


@bp.get("/tickets/<int:ticket_id>")
@token_required()
def ticket(ticket_id: int):
    return jsonify(serializers.ticket_detail(get_ticket_or_404(ticket_id, api_user())))


def _active(model, ident: int, field: str):
    row = db.session.get(model, ident)
    if row is None or not row.is_active:
        raise unprocessable(f"no active {field} with id {ident}", {field: "unknown or inactive id"})
    return row


@bp.post("/tickets/<int:ticket_id>/route")
@token_required()
def route(ticket_id: int):
    user = api_user()
    ticket = get_ticket_or_404(ticket_id, user, for_update=True)
    require_role(user, Role.OPERATOR, Role.ADMIN)
    body = read_json_body(ROUTE_BODY)
    if not body:
        raise unprocessable("give at least one of department, category, priority")
    department = _active(Department, body["department"], "department") if "department" in body else None
    category = _active(Category, body["category"], "category") if "category" in body else None
    priority = body.get("priority")
    services.route(ticket, user, department=department, category=category, priority=priority)
    db.session.commit()
    return jsonify(serializers.ticket_detail(ticket))


@bp.post("/tickets/<int:ticket_id>/status")
@token_required()
def status(ticket_id: int):
    user = api_user()
    ticket = get_ticket_or_404(ticket_id, user, for_update=True)
    require_role(user, Role.OPERATOR, Role.ADMIN, Role.DEPARTMENT_HEAD)
    body = read_json_body(STATUS_BODY)
    new = TicketStatus(body["status"])
    reason = (body.get("reason") or "").strip() or None
    check_status_change(user, ticket, new, reason)
    change_status(ticket, new, user, reason=reason)
    db.session.commit()
    return jsonify(serializers.ticket_detail(ticket))


from . import replies as _replies  # noqa: E402,F401  (routes of the replies feature on this blueprint)
