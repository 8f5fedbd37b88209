"""The managers' overview: tickets by status and by department, and the oldest open ones."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..auth.scope import roles_required
from ..models import Role, TicketStatus
from ..tickets.counts import department_counts, oldest_open, status_counts

bp = Blueprint("overview", __name__)

OPEN_ORDER = list(TicketStatus.open_values())  # in the enum's order


@bp.route("/overview")
@roles_required(Role.MANAGER, Role.ADMIN, Role.OPERATOR)
def overview():
    by_status = status_counts(current_user)
    departments = department_counts()
    for row in departments:  # bar segments in a fixed status order
        row["segments"] = [(s, row["statuses"].get(s, 0)) for s in OPEN_ORDER]
    return render_template(
        "overview/overview.html",
        statuses=[(s.value, by_status.get(s.value, 0)) for s in TicketStatus],
        max_status=max(by_status.values(), default=0),
        open_total=sum(by_status.get(s, 0) for s in OPEN_ORDER),
        open_statuses=OPEN_ORDER,
        departments=departments,
        max_open=max((d["open"] for d in departments), default=0),
        oldest=oldest_open(current_user),
    )
