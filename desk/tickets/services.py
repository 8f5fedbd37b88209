"""Operations on tickets used by the pages, the API and the jobs.

They validate, change the ticket, write audit events and ``flush()``; the caller
commits once (views and jobs own the transaction).
"""
from __future__ import annotations

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Category, Department, Note, Priority, Role, Ticket, TicketStatus, User
from ..refusals import DeskError
from .workflow import (
    TransitionError,
    change_status,
    follow_root_department,
    join_department,
    record_event,
    set_field,
)

S = TicketStatus

class TicketError(DeskError):
    """An operation that cannot be done on this ticket, with a message for the user."""

    code = "conflict"
    status = 409


def status_label(status: str) -> object:
    """A status as users read it (translated when the message renders)."""
    return _l(TicketStatus(status).label)


def set_category(ticket: Ticket, category: Category | None, actor: User | None) -> bool:
    return set_field(ticket, actor, "category_id", category.id if category else None,
                     shown_old=ticket.category.name if ticket.category else None,
                     shown_new=category.name if category else None)


def set_priority(ticket: Ticket, priority: Priority | str, actor: User | None) -> bool:
    return set_field(ticket, actor, "priority", Priority(priority).value)


def set_department(ticket: Ticket, department: Department | None, actor: User | None) -> bool:
    changed = set_field(ticket, actor, "department_id", department.id if department else None,
                        shown_old=ticket.department.name if ticket.department else None,
                        shown_new=department.name if department else None)
    if changed:
        ticket.department = department
        # The assignee belonged to the old department.
        if ticket.assignee_id is not None:
            set_field(ticket, actor, "assignee_id", None)
        follow_root_department(ticket, actor)
    return changed


def assign(ticket: Ticket, assignee: User | None, actor: User | None) -> bool:
    if assignee is not None and ticket.department_id and assignee.role == Role.DEPARTMENT_HEAD.value \
            and assignee.department_id != ticket.department_id:
        raise TicketError(_l("the assignee belongs to another department"), field="assignee")
    return set_field(ticket, actor, "assignee_id", assignee.id if assignee else None,
                     shown_old=ticket.assignee.display_name if ticket.assignee else None,
                     shown_new=assignee.display_name if assignee else None)


def route(
    ticket: Ticket,
    actor: User | None,
    department: Department | None = None,
    category: Category | None = None,
    priority: Priority | str | None = None,
) -> None:
    """Triage a ticket: set its category, priority and department.

    Without an explicit department the category's default department is used. A new
    ticket with a department becomes ``triaged``; a routed one is re-routed.
    """
    if category is not None:
        set_category(ticket, category, actor)
        if department is None and category.default_department is not None:
            department = category.default_department
    if priority is not None:
        set_priority(ticket, priority, actor)
    if department is not None:
        if not S(ticket.status).routable:
            raise TicketError(_l("a ticket in status %(status)s cannot be routed",
                                 status=status_label(ticket.status)))
        set_department(ticket, department, actor)
        ticket.return_reason = None
        if ticket.status == S.NEW.value:
            change_status(ticket, S.TRIAGED, actor)
    db.session.flush()


def accept(ticket: Ticket, actor: User) -> None:
    """The department takes the ticket into work (and the head becomes its assignee)."""
    if ticket.assignee_id is None:
        assign(ticket, actor, actor)
    change_status(ticket, S.IN_PROGRESS, actor)


def return_to_triage(ticket: Ticket, actor: User, reason: str) -> None:
    """A department sends a wrongly routed ticket back to the operators, saying why."""
    if not (reason or "").strip():
        raise TicketError(_l("say why the ticket goes back to triage"), field="reason",
                          code="validation_failed", status=422)
    change_status(ticket, S.NEW, actor, reason=reason)


def add_note(ticket: Ticket, actor: User, text: str) -> Note:
    text = (text or "").strip()
    if not text:
        raise TicketError(_l("the note is empty"), field="text", code="validation_failed", status=422)
    note = Note(ticket=ticket, author_id=actor.id, text=text)
    db.session.add(note)
    record_event(ticket, actor, "note", new=text[:200])
    db.session.flush()
    return note


def rotate_status_link(ticket: Ticket, actor: User) -> int:
    """A new link for the public status page; the old one answers 404 from now on.

    For a link that reached the wrong people: replies posted later carry the new one."""
    old = ticket.status_link_version or 0
    ticket.status_link_version = old + 1
    record_event(ticket, actor, "status_link", field="status_link_version", old=old, new=old + 1)
    db.session.flush()
    return ticket.status_link_version


def merge_root(ticket: Ticket) -> Ticket:
    """Follow merged_into links to the ticket that actually holds the incident."""
    seen: set[int] = set()
    while ticket.merged_into_id is not None and ticket.id not in seen:
        seen.add(ticket.id)
        target = ticket.merged_into
        assert target is not None  # merged_into_id is set, and the foreign key keeps its ticket
        ticket = target
    return ticket


def unmerge(ticket: Ticket, actor: User | None) -> None:
    """Undo a merge: the ticket is its own incident again, back in the queue as new.
    Tickets that were merged into it earlier stay with the incident (they moved there)."""
    if ticket.status != S.MERGED.value or ticket.merged_into_id is None:
        raise TicketError(_l("this ticket is not merged"))
    root = ticket.merged_into
    ticket.merged_into_id = None
    change_status(ticket, S.NEW, actor)
    record_event(ticket, actor, "unmerge", field="merged_into_id", old=root.id if root else None, new=None)
    if root is not None:
        record_event(root, actor, "unmerge_out", new=ticket.id)
    db.session.flush()


def merge(source: Ticket, target: Ticket, actor: User | None) -> Ticket:
    """Merge ``source`` into ``target`` (one incident reported by several residents).

    The source keeps its messages (its resident's thread still gets the answer) and
    becomes ``merged``; tickets merged earlier into the source move to the target.
    Returns the ticket that now holds the incident.

    Across departments (only operators and administrators merge: department heads have
    no merge action, and a head's merge is refused unless both tickets are theirs) the
    merged tickets join the root's department: see :func:`follow_root_department`.
    """
    target = merge_root(target)
    if source.id == target.id:
        raise TicketError(_l("a ticket cannot be merged into itself"))
    if not S(target.status).joinable:  # a merged ticket joins the target like a follow-up
        raise TicketError(_l("cannot merge into a ticket in status %(status)s", status=status_label(target.status)))
    if actor is not None and actor.role == Role.DEPARTMENT_HEAD.value and not (
            source.department_id == target.department_id == actor.department_id):
        raise TicketError(_l("a department head merges only tickets of their own department"))
    try:
        change_status(source, S.MERGED, actor)
    except TransitionError as exc:
        raise TicketError(_l("a ticket in status %(status)s cannot be merged",
                             status=status_label(source.status))) from exc
    source.merged_into_id = target.id
    record_event(source, actor, "merge", field="merged_into_id", new=target.id)
    record_event(target, actor, "merge_in", new=source.id)
    children = db.session.scalars(db.select(Ticket).where(Ticket.merged_into_id == source.id)).all()
    for child in children:
        child.merged_into_id = target.id
        record_event(child, actor, "merge", field="merged_into_id", old=source.id, new=target.id)
    join_department(source, target, actor)
    follow_root_department(target, actor)
    db.session.flush()
    return target
