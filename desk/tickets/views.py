"""The ticket card and every action on tickets (thin: the logic is in actions/services)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.scope import can_see_ticket, get_ticket_or_404, login_required, roles_required
from ..extensions import db
from ..i18n import gettext as _
from ..models import Role, Ticket
from ..refusals import flash_refusal
from ..undo import offer_undo, take_undo
from . import actions, forms
from . import card as card_data
from .bulk import BulkRequest, apply_bulk, summary
from .listing import choices
from .permissions import allowed_actions, head_statuses, refusal, role_has
from .services import TicketError
from .workflow import TransitionError

bp = Blueprint("tickets", __name__)

# Select lists each form needs, so a POST loads only what its form validates against.
NEEDS_DEPARTMENTS = (forms.RouteForm, forms.DepartmentForm)
NEEDS_CATEGORIES = (forms.RouteForm, forms.CategoryForm)


def build_form(action: str, ticket: Ticket, options: dict[str, Any] | None = None) -> FlaskForm:
    """The action's form, with the ticket's current values and its select options.

    ``options`` shares the loaded select lists between the forms of one card (the route
    and department forms both list departments)."""
    form_class = actions.ACTIONS[action].form
    options = {} if options is None else options

    def once(name: str, load: Callable[[], Any]) -> Any:
        if name not in options:
            options[name] = load()
        return options[name]

    defaults = {
        "department_id": ticket.department_id,
        "category_id": ticket.category_id,
        "priority": ticket.priority,
        "assignee_id": ticket.assignee_id,
    }
    form = form_class(**{k: v for k, v in defaults.items() if hasattr(form_class, k)})
    return forms.fill_choices(
        form,
        # Both lists in one query (listing.choices), loaded once per card.
        departments=once("choices", choices)["department_options"] if isinstance(form, NEEDS_DEPARTMENTS) else [],
        categories=once("choices", choices)["category_options"] if isinstance(form, NEEDS_CATEGORIES) else [],
        assignees=(once("assignees", lambda: card_data.department_members(ticket.department_id))
                   if isinstance(form, forms.AssigneeForm) else []),
        statuses=[s.value for s in head_statuses(ticket)] if isinstance(form, forms.StatusForm) else [],
    )


def form_errors(form: FlaskForm) -> str:
    parts = []
    for name, errors in form.errors.items():
        field = getattr(form, name, None)
        if name == "csrf_token":
            parts.append(_("The form has expired: reload the page and try again."))
        else:
            label = field.label.text if field is not None else name
            parts.append(f"{label}: {' '.join(str(e) for e in errors)}")
    return " ".join(parts)


@bp.route("/tickets/<int:ticket_id>")
@login_required
def card(ticket_id: int) -> str:
    data = card_data.load_card(ticket_id, current_user)
    allowed = allowed_actions(current_user, data.ticket)
    options: dict[str, Any] = {}
    action_forms = {action: build_form(action, data.ticket, options) for action in allowed}
    shown = [a for a in actions.ACTIONS.values() if a.name in allowed and a.on_card(data.ticket)]
    return render_template("tickets/card.html", card=data, ticket=data.ticket, allowed=allowed, forms=action_forms,
                           actions=actions.ACTIONS, shown=shown)


@bp.route("/tickets/<int:ticket_id>/<action>", methods=["POST"])
@login_required
def act(ticket_id: int, action: str) -> ResponseReturnValue:
    if action not in actions.ACTIONS:
        abort(404)
    # Scope first: another department's ticket is a 404 whatever the action.
    ticket = get_ticket_or_404(ticket_id, for_update=True)
    if not role_has(current_user, action):
        abort(403)
    back = redirect(url_for(".card", ticket_id=ticket.id))
    reason = refusal(current_user, action, ticket)
    if reason is not None:
        flash(reason, "error")
        return back
    form = build_form(action, ticket)
    if not form.validate_on_submit():
        flash(form_errors(form) or _("Nothing was sent."), "error")
        return back
    try:
        message = actions.ACTIONS[action].handler(ticket, form, current_user)
        db.session.commit()
    except (TicketError, TransitionError) as exc:
        db.session.rollback()
        flash_refusal(exc)
        return back
    flash(message, "success")
    if action in UNDOABLE:
        offer_undo(_("Changed your mind?"), url_for(".act", ticket_id=ticket.id, action="undo"))
    if not can_see_ticket(current_user, ticket):
        # A head who returned the ticket to triage (or moved it) no longer sees it: land
        # on their inbox with the confirmation, not on a 404.
        return redirect(url_for("inbox.inbox") if current_user.has_role(Role.DEPARTMENT_HEAD) else "/")
    return back


#: actions easy to get wrong: the next page offers to undo them
UNDOABLE = frozenset({"spam", "not_appeal", "merge"})


@bp.app_template_global("take_undo")
def _take_undo() -> dict[str, Any] | None:
    return take_undo()


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths: never redirect to another host."""
    parsed = urlparse(target or "")
    if not target or parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return fallback
    return target


@bp.route("/tickets/bulk", methods=["POST"])
@roles_required(Role.OPERATOR, Role.ADMIN)
def bulk() -> ResponseReturnValue:
    form = actions.bulk_form()
    back = redirect(safe_next(request.form.get("next"), url_for("triage.queue")))
    if not form.validate_on_submit():
        flash(form_errors(form) or _("Nothing was sent."), "error")
        return back
    how = actions.ACTIONS[form.action.data].bulk
    assert how is not None  # the form offers only bulk actions
    try:
        bulk_request = BulkRequest(
            action=form.action.data,
            ticket_ids=form.ticket_ids.data,
            department=actions.find_department(form.department_id.data),
            category=actions.find_category(form.category_id.data),
            priority=form.priority.data or None,
            target=actions.find_target(form.target_id.data, current_user) if how.needs_target else None,
        )
        result = apply_bulk(bulk_request, current_user)
        db.session.commit()
    except TicketError as exc:
        db.session.rollback()
        flash_refusal(exc)
        return back
    flash(summary(bulk_request, result), "success" if result.done and not result.skipped else "info")
    if bulk_request.action in UNDOABLE and result.done:
        offer_undo(_("Changed your mind?"), url_for(".bulk"), action="undo", ticket_ids=result.done,
                   next=safe_next(request.form.get("next"), url_for("triage.queue")))
    return back
