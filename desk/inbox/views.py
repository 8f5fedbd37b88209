"""A department head's inbox: only their department's tickets (scope in the query)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..auth.scope import roles_required
from ..models import Role, TicketStatus
from ..tickets.listing import list_context

bp = Blueprint("inbox", __name__)

S = TicketStatus
# The statuses in which the department holds a ticket, in the enum's order.
INBOX_TABS = list(S.department_values())


@bp.route("/inbox")
@roles_required(Role.DEPARTMENT_HEAD)
def inbox():
    context = list_context(current_user, request.args, default_status=[S.TRIAGED.value], tabs=INBOX_TABS)
    return render_template("inbox/inbox.html", **context), 400 if context["errors"] else 200
