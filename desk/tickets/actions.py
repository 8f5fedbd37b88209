"""The card's actions: each takes a ticket, its validated form and the user, calls the
ticket services and returns the message to flash. Shared with the bulk action.

They only flush (through the services); the view commits once. A refusal raises
``TicketError`` with a message for the user.
"""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_wtf import FlaskForm

from .. import labels
from ..auth.scope import ticket_scope
from ..extensions import db
from ..models import Category, Department, Priority, Ticket, TicketStatus, User
from . import forms, services
from .services import TicketError
from .workflow import change_status

S = TicketStatus


def _find_active(model, row_id: int | None, missing: str):
    """An active department/category by id; None when none was chosen."""
    if row_id is None:
        return None
    row = db.session.get(model, row_id)
    if row is None or not row.is_active:
        raise TicketError(missing)
    return row


def find_department(department_id: int | None) -> Department | None:
    return _find_active(Department, department_id, _("No such department."))


def find_category(category_id: int | None) -> Category | None:
    return _find_active(Category, category_id, _("No such category."))


def find_target(target_id: int | None, user: User) -> Ticket:
    """The ticket to merge into, as ``user`` may see it."""
    target = None
    if target_id:
        target = db.session.scalars(db.select(Ticket).where(Ticket.id == target_id, ticket_scope(user))).first()
    if target is None:
        raise TicketError(_("Ticket #%(id)s not found.", id=target_id or "?"))
    return target


def check_routable(department: Department | None, category: Category | None) -> None:
    """An appeal needs a department: chosen, or the category's default one."""
    if department is None and (category is None or category.default_department is None):
        raise TicketError(_("Choose a department, or a category that has a default department."))


# Operations shared by the card and the bulk action.

def appeal(ticket: Ticket, user: User, department: Department | None, category: Category | None,
           priority: str | None) -> None:
    check_routable(department, category)
    services.route(ticket, user, department=department, category=category, priority=priority or None)


def merge_into(ticket: Ticket, user: User, target: Ticket) -> Ticket:
    return services.merge(ticket, target, user)


# Card handlers: (ticket, form, user) -> message.

def do_route(ticket: Ticket, form: forms.RouteForm, user: User) -> str:
    appeal(ticket, user, find_department(form.department_id.data), find_category(form.category_id.data),
           form.priority.data)
    return _("Ticket #%(id)s routed to %(department)s.", id=ticket.id, department=ticket.department.name)


def do_not_appeal(ticket: Ticket, form: FlaskForm, user: User) -> str:
    change_status(ticket, S.NOT_APPEAL, user)
    return _("Ticket #%(id)s marked as not an appeal.", id=ticket.id)


def do_spam(ticket: Ticket, form: FlaskForm, user: User) -> str:
    change_status(ticket, S.SPAM, user)
    return _("Ticket #%(id)s marked as spam.", id=ticket.id)


def do_undo(ticket: Ticket, form: FlaskForm, user: User) -> str:
    change_status(ticket, S.NEW, user)
    return _("Ticket #%(id)s is back in the queue as new.", id=ticket.id)


def _saved(changed: bool) -> str:
    return _("Saved.") if changed else _("Nothing changed.")


def do_category(ticket: Ticket, form: forms.CategoryForm, user: User) -> str:
    return _saved(services.set_category(ticket, find_category(form.category_id.data), user))


def do_department(ticket: Ticket, form: forms.DepartmentForm, user: User) -> str:
    department = find_department(form.department_id.data)
    if department.id == ticket.department_id:
        return _saved(False)
    # Through route(): a new ticket given a department becomes routed.
    services.route(ticket, user, department=department)
    return _("Ticket #%(id)s routed to %(department)s.", id=ticket.id, department=department.name)


def do_priority(ticket: Ticket, form: forms.PriorityForm, user: User) -> str:
    return _saved(services.set_priority(ticket, Priority(form.priority.data), user))


def do_assignee(ticket: Ticket, form: forms.AssigneeForm, user: User) -> str:
    assignee = db.session.get(User, form.assignee_id.data) if form.assignee_id.data else None
    return _saved(services.assign(ticket, assignee, user))


def do_merge(ticket: Ticket, form: forms.MergeForm, user: User) -> str:
    target = merge_into(ticket, user, find_target(form.target_id.data, user))
    return _("Ticket #%(id)s merged into #%(target)s.", id=ticket.id, target=target.id)


def do_note(ticket: Ticket, form: forms.NoteForm, user: User) -> str:
    services.add_note(ticket, user, form.text.data)
    return _("Note added.")


def do_close(ticket: Ticket, form: FlaskForm, user: User) -> str:
    change_status(ticket, S.CLOSED, user)
    return _("Ticket #%(id)s closed.", id=ticket.id)


def do_accept(ticket: Ticket, form: FlaskForm, user: User) -> str:
    services.accept(ticket, user)
    return _("You took ticket #%(id)s into work.", id=ticket.id)


def do_return(ticket: Ticket, form: forms.ReturnForm, user: User) -> str:
    services.return_to_triage(ticket, user, form.reason.data)
    return _("Ticket #%(id)s returned to triage.", id=ticket.id)


def do_status(ticket: Ticket, form: forms.StatusForm, user: User) -> str:
    change_status(ticket, form.status.data, user)
    return _("Status changed to: %(status)s.", status=labels.label("status", ticket.status))


def do_draft(ticket: Ticket, form: forms.DraftForm, user: User) -> str:
    services.save_draft_answer(ticket, user, form.text.data)
    if ticket.draft_answer:
        return _("Draft saved. It is not sent to the resident.")
    return _("Draft cleared.")


Handler = Callable[[Ticket, FlaskForm, User], str]

#: action name -> (form class, handler); the names match ``permissions``.
HANDLERS: dict[str, tuple[type[FlaskForm], Handler]] = {
    "route": (forms.RouteForm, do_route),
    "not_appeal": (forms.ActionForm, do_not_appeal),
    "spam": (forms.ActionForm, do_spam),
    "undo": (forms.ActionForm, do_undo),
    "category": (forms.CategoryForm, do_category),
    "department": (forms.DepartmentForm, do_department),
    "priority": (forms.PriorityForm, do_priority),
    "assignee": (forms.AssigneeForm, do_assignee),
    "merge": (forms.MergeForm, do_merge),
    "note": (forms.NoteForm, do_note),
    "close": (forms.ActionForm, do_close),
    "accept": (forms.ActionForm, do_accept),
    "return": (forms.ReturnForm, do_return),
    "status": (forms.StatusForm, do_status),
    "draft": (forms.DraftForm, do_draft),
}
