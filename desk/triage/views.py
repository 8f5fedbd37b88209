"""The operators' queue: every incoming ticket, filtered, with bulk triage actions."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..auth.scope import roles_required
from ..models import Priority, Role, TicketStatus
from ..tickets.listing import list_context

bp = Blueprint("triage", __name__)

S = TicketStatus
QUEUE_TABS = S.values()  # every status, in the enum's order


@bp.route("/queue")
@roles_required(Role.OPERATOR, Role.ADMIN)
def queue():
    context = list_context(current_user, request.args, default_status=[S.NEW.value], tabs=QUEUE_TABS)
    return render_template("triage/queue.html", priorities=Priority.values(), **context), \
        400 if context["errors"] else 200
