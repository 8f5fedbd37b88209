"""Every action on a ticket, each one object in one registry (:data:`ACTIONS`).

An :class:`Action` names its form, its handler, who may take it in which statuses,
whether and how it applies to many tickets at once (the queue's bulk bar), and how the
card shows it. The card view, the bulk view, the permission checks
(``desk.tickets.permissions``) and the templates all read the registry; adding an action
is one entry here (and its template slot if it needs more than a button or one field).

Handlers take a ticket, its validated form and the user, call the ticket services and
return the message to flash. They only flush (through the services); the view commits
once. A refusal raises ``TicketError`` with a message for the user.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from .. import labels
from ..auth.scope import ticket_scope
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Category, Department, Priority, Role, Ticket, TicketStatus, User
from . import forms, services
from .services import TicketError
from .workflow import REASON_REQUIRED, allowed_next, change_status

S = TicketStatus
_Org = TypeVar("_Org", Department, Category)


def _find_active(model: type[_Org], row_id: int | None, missing: str) -> _Org | None:
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
    target: Ticket | None = None
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
    assert ticket.department is not None  # appeal() refuses to route without one
    return _("Ticket #%(id)s routed to %(department)s.", id=ticket.id, department=ticket.department.name)


def do_not_appeal(ticket: Ticket, form: FlaskForm, user: User) -> str:
    change_status(ticket, S.NOT_APPEAL, user)
    return _("Ticket #%(id)s marked as not an appeal.", id=ticket.id)


def do_spam(ticket: Ticket, form: FlaskForm, user: User) -> str:
    change_status(ticket, S.SPAM, user)
    return _("Ticket #%(id)s marked as spam.", id=ticket.id)


def undo(ticket: Ticket, user: User) -> None:
    """Back to new: from spam or "not an appeal", or out of a merge."""
    if ticket.status == S.MERGED.value:
        services.unmerge(ticket, user)
    else:
        change_status(ticket, S.NEW, user)


def do_undo(ticket: Ticket, form: FlaskForm, user: User) -> str:
    undo(ticket, user)
    return _("Ticket #%(id)s is back in the queue as new.", id=ticket.id)


def _saved(changed: bool) -> str:
    return _("Saved.") if changed else _("Nothing changed.")


def do_category(ticket: Ticket, form: forms.CategoryForm, user: User) -> str:
    return _saved(services.set_category(ticket, find_category(form.category_id.data), user))


def do_department(ticket: Ticket, form: forms.DepartmentForm, user: User) -> str:
    department = find_department(form.department_id.data)  # required by the form
    if department is None or department.id == ticket.department_id:
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


def do_status_link(ticket: Ticket, form: FlaskForm, user: User) -> str:
    services.rotate_status_link(ticket, user)
    return _("The status page of #%(id)s has a new link; the old one no longer opens.", id=ticket.id)


# The registry.

Handler = Callable[[Ticket, Any, User], str]
StatusRule = Callable[[TicketStatus], bool]


@dataclass
class BulkRequest:
    action: str
    ticket_ids: list[int]
    department: Department | None = None
    category: Category | None = None
    priority: str | None = None
    target: Ticket | None = None


@dataclass(frozen=True)
class Bulk:
    """How an action applies to each ticket of a batch (flush only; raise to skip one)."""

    apply: Callable[[Ticket, BulkRequest, User], None]
    #: the summary: (number done, target ticket id or None) -> "3 routed"
    done: Callable[[int, int | None], str]
    #: refuses the whole batch before any ticket is touched
    check: Callable[[BulkRequest], None] | None = None
    #: the batch names a ticket to merge into (the view looks it up in the user's scope)
    needs_target: bool = False


@dataclass(frozen=True)
class Action:
    name: str
    #: the button's text
    label: Any
    form: type[FlaskForm]
    handler: Handler
    #: roles that have the action at all (others get 403)
    roles: frozenset[Role]
    #: the statuses in which it applies (read from the status traits where one fits)
    when: StatusRule
    #: a further refusal that needs the ticket, not only its status
    refuse: Callable[[Ticket], str | None] | None = None
    bulk: Bulk | None = None
    # How the card shows it (templates/tickets/_actions.html): the routing form, a bare
    # button, one field and a button, or its own section of the card (note, draft).
    slot: str = "button"
    #: the form field a "field" slot shows, and the attributes of its input
    field: str | None = None
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    style: str = ""
    confirm: Any = None
    #: shown on the card only in these statuses (it is allowed in more: POST, bulk)
    card_when: StatusRule | None = None

    def applies(self, status: TicketStatus | str) -> bool:
        return self.when(TicketStatus(status))

    def on_card(self, ticket: Ticket) -> bool:
        return self.card_when is None or self.card_when(TicketStatus(ticket.status))


STAFF = frozenset({Role.OPERATOR, Role.ADMIN})
HEAD = frozenset({Role.DEPARTMENT_HEAD})
ADMIN = frozenset({Role.ADMIN})


def _moves_to(target: TicketStatus) -> StatusRule:
    """Applies where the transition table allows ``target`` next."""
    return lambda status: target in status.next_statuses


def _any(status: TicketStatus) -> bool:
    return True


def _routable(status: TicketStatus) -> bool:
    return status.routable


def _held(status: TicketStatus) -> bool:
    """A department holds it (its head works on it)."""
    return status.in_department


def _worked(status: TicketStatus) -> bool:
    """Routed and still open: someone in the department may be assigned."""
    return status.routable and status.in_department


def head_statuses(ticket: Ticket) -> list[TicketStatus]:
    """The statuses a department head may move this ticket to (its status form)."""
    return [s for s in allowed_next(ticket) if s.may_be_set_by(Role.DEPARTMENT_HEAD)]


def _no_next_status(ticket: Ticket) -> str | None:
    return None if head_statuses(ticket) else _("#%(id)s has no next status", id=ticket.id)


def _bulk_check_route(request: BulkRequest) -> None:
    check_routable(request.department, request.category)


def _bulk_check_merge(request: BulkRequest) -> None:
    if request.target is None:
        raise TicketError(_("Give the number of the ticket to merge into."))


def _bulk_merge(ticket: Ticket, request: BulkRequest, user: User) -> None:
    assert request.target is not None  # checked for the whole batch
    if ticket.id == request.target.id:
        raise TicketError(_("#%(id)s is the target", id=ticket.id))
    merge_into(ticket, user, request.target)


def _set_status(status: TicketStatus) -> Callable[[Ticket, BulkRequest, User], None]:
    def apply(ticket: Ticket, request: BulkRequest, user: User) -> None:
        change_status(ticket, status, user)

    return apply


ACTIONS: dict[str, Action] = {a.name: a for a in (
    # Triage (operators and administrators).
    Action("route", _l("Appeal: route"), forms.RouteForm, do_route, STAFF, _routable, slot="route",
           card_when=lambda s: not s.in_department,  # a routed ticket is re-routed field by field
           bulk=Bulk(lambda t, r, u: appeal(t, u, r.department, r.category, r.priority),
                     lambda n, target: _("%(num)s routed", num=n), check=_bulk_check_route)),
    Action("accept", _l("Accept into work"), forms.ActionForm, do_accept, HEAD,
           lambda s: s is S.TRIAGED, style="primary"),
    Action("not_appeal", _l("Not an appeal"), forms.ActionForm, do_not_appeal, STAFF, _moves_to(S.NOT_APPEAL),
           bulk=Bulk(_set_status(S.NOT_APPEAL), lambda n, target: _("%(num)s marked as not an appeal", num=n))),
    Action("spam", _l("Spam"), forms.ActionForm, do_spam, STAFF, _moves_to(S.SPAM), style="danger",
           bulk=Bulk(_set_status(S.SPAM), lambda n, target: _("%(num)s marked as spam", num=n))),
    # Undo a triage decision: back to new from a status that is no longer open.
    Action("undo", _l("Undo: back to new"), forms.ActionForm, do_undo, STAFF,
           lambda s: not s.is_open and S.NEW in s.next_statuses,
           bulk=Bulk(lambda t, r, u: undo(t, u), lambda n, target: _("%(num)s back in the queue as new", num=n))),
    Action("close", _l("Close"), forms.ActionForm, do_close, STAFF, _moves_to(S.CLOSED), style="primary",
           confirm=_l("Close the ticket? It cannot be reopened.")),
    Action("department", _l("Re-route"), forms.DepartmentForm, do_department, STAFF, _routable,
           slot="field", field="department_id", card_when=_held),
    Action("category", _l("Save"), forms.CategoryForm, do_category, STAFF, _routable,
           slot="field", field="category_id", card_when=_held),
    Action("priority", _l("Save"), forms.PriorityForm, do_priority, STAFF, _routable,
           slot="field", field="priority", card_when=_held),
    Action("assignee", _l("Assign"), forms.AssigneeForm, do_assignee, STAFF, _worked,
           slot="field", field="assignee_id"),
    # The department (its head).
    Action("status", _l("Change status"), forms.StatusForm, do_status, HEAD, _held, refuse=_no_next_status,
           slot="field", field="status"),
    Action("return", _l("Return to triage"), forms.ReturnForm, do_return, HEAD,
           lambda s: (s, S.NEW) in REASON_REQUIRED, slot="field", field="reason", attrs={"rows": 2, "required": True}),
    Action("merge", _l("Merge"), forms.MergeForm, do_merge, STAFF, _routable,
           slot="field", field="target_id", attrs={"min": 1, "required": True},
           confirm=_l("Merge this ticket into the one with the number given? Its resident will get the incident's "
                      "answers; \"Undo\" on this ticket separates it again."),
           bulk=Bulk(_bulk_merge, lambda n, target: _("%(num)s merged into #%(target)s", num=n, target=target),
                     check=_bulk_check_merge, needs_target=True)),
    # The public status page (desk.status_page): a new link, the old one stops working.
    Action("status_link", _l("Change the status page link"), forms.ActionForm, do_status_link, ADMIN,
           lambda s: s.public, confirm=_l("The link already given to residents will stop working. Change it?")),
    # Sections of their own on the card.
    Action("note", _l("Add note"), forms.NoteForm, do_note, STAFF | HEAD, _any,
           slot="note", field="text", attrs={"rows": 3, "required": True}),
)}


def bulk_actions() -> list[Action]:
    return [a for a in ACTIONS.values() if a.bulk is not None]


def bulk_form() -> forms.BulkForm:
    """The queue's bulk form, its action choices read from the registry."""
    form = forms.BulkForm()
    form.action.choices = [SelectChoice(a.name) for a in bulk_actions()]
    return form

