"""What the public status page shows, loaded in a handful of queries.

:func:`load_status_page` checks the link (id, token at the ticket's link version) and
returns a :class:`StatusPage` of plain values, or None for every link that must show
nothing: no such ticket, a wrong or rotated token, spam or "not an appeal" (the status
trait ``public``). A merged ticket's link shows the incident it joined.

Only public things go in: the status in a resident's words, the category and department,
the city-zone dates of the incident, the city's posted answers and the public steps of
the event log (received, passed to a department, in work, solved, …). Never internal
notes, operator names, assignees, returns to triage or other residents' messages; the
resident's own text has phones, e-mails and document and card numbers masked, their name
is initials.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import DIRECT_PLATFORMS, Message, MessageDirection, Ticket, TicketEvent, TicketStatus
from ..models.replies import DeliveryState, Reply, ReplyDelivery
from ..tickets.services import merge_root
from .masking import initials, mask_personal_data
from .tokens import status_token, token_matches

S = TicketStatus

#: one short sentence per status, for residents (the operator's label is shown beside it)
STATUS_SENTENCES = {
    S.NEW: _l("Your appeal has been received. The city is choosing the department that will solve it."),
    S.TRIAGED: _l("Your appeal has been passed to the responsible department."),
    S.IN_PROGRESS: _l("The department is working on the problem."),
    S.WAITING_RESIDENT: _l("The city needs more details: please answer in the thread of your comment."),
    S.RESOLVED: _l("The department reports that the problem is solved."),
    S.CLOSED: _l("The appeal is closed."),
    S.MERGED: _l("Your appeal joined the incident below: several residents reported the same problem."),
}

#: where the resident filed straight with the desk, there is no thread to answer in
DIRECT_WAITING = _l("The city needs more details and will contact you by the e-mail you gave.")


def status_sentence(status: TicketStatus, platform: str) -> str:
    """The status in a resident's words, for a resident of ``platform``."""
    if status is S.WAITING_RESIDENT and platform in DIRECT_PLATFORMS:
        return str(DIRECT_WAITING)
    return str(STATUS_SENTENCES[status])


#: the event kinds a page may show (a department change only, of the "field" events)
PUBLIC_EVENT_KINDS = ("created", "status", "merge_in")
PUBLIC_FIELD = "department_id"


@dataclass(frozen=True)
class PublicStep:
    at: datetime
    text: str


@dataclass(frozen=True)
class PublicAnswer:
    at: datetime
    text: str


@dataclass
class StatusPage:
    """Everything the page shows, already public (masked, translated, no ORM objects)."""

    number: int
    #: the ticket the link names (differs from ``number`` when it was merged into it)
    linked_number: int
    status: TicketStatus
    sentence: str
    category: str | None
    department: str | None
    received_at: datetime | None
    reacted_at: datetime | None
    due_at: datetime | None
    resolved_at: datetime | None
    resident: str
    resident_texts: list[str] = field(default_factory=list)
    answers: list[PublicAnswer] = field(default_factory=list)
    steps: list[PublicStep] = field(default_factory=list)
    last_modified: datetime | None = None

    @property
    def joined(self) -> bool:
        return self.linked_number != self.number

    @property
    def is_open(self) -> bool:
        return self.status.is_open


def _hidden(kind: str) -> str:
    names = {"email": _("e-mail hidden"), "phone": _("phone hidden"), "card": _("card number hidden")}
    return f"[{names.get(kind, _('number hidden'))}]"


def public_text(text: str) -> str:
    """``text`` as it may appear in public: personal data masked."""
    return mask_personal_data(text or "", _hidden).strip()


def _ticket(ticket_id: int) -> Ticket | None:
    return db.session.scalars(db.select(Ticket).where(Ticket.id == ticket_id).options(
        joinedload(Ticket.category), joinedload(Ticket.department))).first()


def find_linked_ticket(ticket_id: int, token: str) -> Ticket | None:
    """The ticket a link names, when the token is its current one; None otherwise.

    A missing ticket costs the same HMAC and comparison as a wrong token."""
    ticket = _ticket(ticket_id)
    version = ticket.status_link_version if ticket is not None else 0
    matches = token_matches(ticket_id, version or 0, token)
    return ticket if ticket is not None and matches else None


def load_status_page(ticket_id: int, token: str) -> StatusPage | None:
    """The public page of the incident the link names, or None (answer 404)."""
    linked = find_linked_ticket(ticket_id, token)
    if linked is None or not S(linked.status).public:
        return None
    root = merge_root(linked)
    if root.id != linked.id:
        root = _ticket(root.id) or root  # category and department in the same query
    status = S(root.status)
    if not status.public:
        return None
    page = StatusPage(
        number=root.id, linked_number=linked.id, status=status, sentence=status_sentence(status, linked.platform),
        category=root.category.name if root.category else None,
        department=root.department.name if root.department else None,
        received_at=root.created_at, reacted_at=root.first_reply_at, due_at=root.resolution_due_at,
        resolved_at=root.resolved_at if status in (S.RESOLVED, S.CLOSED) else None,
        resident=initials(linked.author_name),
    )
    moments: list[datetime | None] = [root.updated_at, linked.updated_at]
    moments += _fill_messages(page, root, linked)
    moments += _fill_steps(page, root)
    page.last_modified = max((m for m in moments if m is not None), default=None)
    return page


def _fill_messages(page: StatusPage, root: Ticket, linked: Ticket) -> list[datetime | None]:
    """The resident's own text (the linked ticket's) and the city's posted answers."""
    deliveries = db.session.scalars(
        db.select(ReplyDelivery).join(Reply, Reply.id == ReplyDelivery.reply_id)
        .where(Reply.ticket_id == root.id, ReplyDelivery.state == DeliveryState.SENT.value)
        .order_by(ReplyDelivery.sent_at, ReplyDelivery.id)).all()
    chosen: dict[int, ReplyDelivery] = {}
    for delivery in deliveries:
        # One answer per reply: as posted in the linked resident's thread, else the root's.
        best = chosen.get(delivery.reply_id)
        rank = {linked.id: 0, root.id: 1}.get(delivery.ticket_id, 2)
        if best is None or rank < {linked.id: 0, root.id: 1}.get(best.ticket_id, 2):
            chosen[delivery.reply_id] = delivery
    posted_ids = {d.message_id for d in deliveries if d.message_id is not None}
    answers = [PublicAnswer(d.sent_at or d.updated_at, public_text(d.text)) for d in chosen.values()]

    messages = db.session.scalars(
        db.select(Message).where(Message.ticket_id.in_({root.id, linked.id}), Message.is_deleted.is_(False))
        .order_by(Message.sent_at, Message.id)).all()
    moments: list[datetime | None] = [d.sent_at for d in deliveries]
    for message in messages:
        moments.append(message.edited_at or message.sent_at)
        if message.direction == MessageDirection.INBOUND.value:
            if message.ticket_id == linked.id:  # never another resident's message
                page.resident_texts.append(public_text(message.text))
        elif message.ticket_id == root.id and message.id not in posted_ids:
            # The city's message in the thread that no reply row stands for (posted by
            # hand before the outbox, the demo's answers).
            answers.append(PublicAnswer(message.sent_at, public_text(message.text)))
    page.answers = sorted((a for a in answers if a.text), key=lambda a: a.at)
    page.resident_texts = [t for t in page.resident_texts if t]
    return moments


def _step_text(event: TicketEvent, after_department: bool) -> str | None:
    """An event's public wording, or None when it is internal. ``after_department``: the
    step shown just before named the department."""
    if event.kind == "created":
        return _("Appeal received")
    if event.kind == "merge_in":
        return _("Another resident reported the same problem")
    if event.kind == "field":
        if event.field == PUBLIC_FIELD and event.new_value:
            return _("Passed to the department: %(department)s", department=event.new_value)
        return None
    if event.kind != "status" or event.new_value not in S.values():
        return None
    new, old = S(event.new_value), event.old_value
    if new is S.TRIAGED:
        # route() names the department first; the status step would only repeat it
        return None if after_department else _("Passed to the responsible department")
    if new is S.IN_PROGRESS:
        return _("Back in work") if old == S.RESOLVED.value else _("In work")
    return {
        S.WAITING_RESIDENT: _("Waiting for details from the resident"),
        S.RESOLVED: _("Solved"),
        S.CLOSED: _("Closed"),
    }.get(new)  # a return to triage, a merge: internal


def _fill_steps(page: StatusPage, root: Ticket) -> list[datetime | None]:
    events = db.session.scalars(
        db.select(TicketEvent).where(TicketEvent.ticket_id == root.id, db.or_(
            TicketEvent.kind.in_(PUBLIC_EVENT_KINDS),
            db.and_(TicketEvent.kind == "field", TicketEvent.field == PUBLIC_FIELD)))
        .order_by(TicketEvent.id)).all()
    last: str | None = None
    after_department = False
    for event in events:
        text = _step_text(event, after_department)
        if text is None or text == last:
            continue
        page.steps.append(PublicStep(event.created_at, text))
        last, after_department = text, event.kind == "field"
    return [events[-1].created_at] if events else []


def current_token(ticket: Ticket) -> str:
    return status_token(ticket.id, ticket.status_link_version or 0)
