"""GeoReport service requests: the desk's public tickets, as the spec names their fields.

Which tickets: those whose status has the ``public`` trait (never spam or "not an
appeal"), from every platform (a VK comment is a service request too). A merged ticket is
its incident: its id answers the incident's fields and lists show the incident once.

What they say, in public: the resident's first message with personal data masked
(``description``), the city's latest published answer masked the same way
(``status_notes``; the placeholders of a reply are filled for the public: the resident's
initials, never the private status link), the category, the department, the dates in the
city's offset, and the address, coordinates and picture of a request filed straight with
the desk (its :class:`~desk.models.intake.Submission`). A page costs a handful of queries
whatever its size: the tickets with their category, department and submission in one,
then first messages, published answers and the city's other messages for the whole page.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Row, Select, func

from ..extensions import db
from ..links import http_url
from ..models import Category, Department, Message, MessageDirection, Ticket, TicketStatus
from ..models.intake import Submission
from ..models.replies import DeliveryState, Reply, ReplyDelivery
from ..replies import text as reply_texts
from ..status_page.masking import initials
from ..status_page.services import public_text
from ..web_input import DB_INT_MAX

S = TicketStatus
#: statuses a list shows (a merged ticket is shown as its incident, never itself)
LISTED = tuple(s.value for s in S if s.public and s is not S.MERGED)
OPEN_VALUES = tuple(v for v in LISTED if S(v).is_open)
CLOSED_VALUES = tuple(v for v in LISTED if not S(v).is_open)
STATUS_VALUES = {"open": OPEN_VALUES, "closed": CLOSED_VALUES}
#: the spec's default window and its limit of results
DEFAULT_DAYS = 90
MAX_SPAN = timedelta(days=DEFAULT_DAYS)
MAX_PAGE_SIZE = 1000
#: merges move earlier merged tickets to the new root, so chains are one link long
MAX_MERGE_DEPTH = 8

_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([,.;:!?])")


@dataclass
class RequestFilter:
    """What ``GET requests`` asks for. ``ids`` overrides every other filter (the spec)."""

    ids: list[int] | None = None
    service_codes: list[int] | None = None
    start: datetime | None = None
    #: exclusive
    before: datetime | None = None
    statuses: tuple[str, ...] | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def roots_of(ids: Sequence[int]) -> list[int]:
    """The incidents the ids name (each id's merge root), in the order given, once each;
    ids of no ticket are left out."""
    root: dict[int, int] = {}
    unresolved = {i: i for i in ids}
    for _ in range(MAX_MERGE_DEPTH):
        if not unresolved:
            break
        links = dict(db.session.execute(
            db.select(Ticket.id, Ticket.merged_into_id).where(Ticket.id.in_(set(unresolved.values())))).all())
        following: dict[int, int] = {}
        for asked, current in unresolved.items():
            if current not in links:
                continue  # no such ticket
            target = links[current]
            if target is None:
                root[asked] = current
            else:
                following[asked] = target
        unresolved = following
    ordered: list[int] = []
    for ident in ids:
        if ident in root and root[ident] not in ordered:
            ordered.append(root[ident])
    return ordered


def _base() -> Select:
    return (
        db.select(Ticket.id, Ticket.status, Ticket.created_at, Ticket.updated_at, Ticket.resolution_due_at,
                  Ticket.category_id, Ticket.author_name, Category.name.label("category_name"),
                  Department.name.label("department_name"), Submission.address, Submission.address_id,
                  Submission.lat, Submission.long, Submission.media_url)
        .select_from(Ticket)
        .outerjoin(Category, Category.id == Ticket.category_id)
        .outerjoin(Department, Department.id == Ticket.department_id)
        .outerjoin(Submission, Submission.ticket_id == Ticket.id)
        .where(Ticket.status.in_(LISTED), Ticket.merged_into_id.is_(None))
    )


def find(query: RequestFilter) -> list[dict[str, Any]]:
    """One page of service requests, as the spec's records."""
    offset = (query.page - 1) * query.page_size
    if offset > DB_INT_MAX:
        return []  # no page of tickets starts that far
    if query.ids is not None:
        roots = roots_of(query.ids)
        found = {row.id: row for row in db.session.execute(_base().where(Ticket.id.in_(roots))).all()} if roots else {}
        rows = [found[i] for i in roots if i in found][offset:offset + query.page_size]
    else:
        stmt = _base()
        if query.service_codes is not None:
            stmt = stmt.where(Ticket.category_id.in_(query.service_codes))
        if query.statuses is not None:
            stmt = stmt.where(Ticket.status.in_(query.statuses))
        if query.start is not None:
            stmt = stmt.where(Ticket.created_at >= query.start)
        if query.before is not None:
            stmt = stmt.where(Ticket.created_at < query.before)
        stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).offset(offset).limit(query.page_size)
        rows = list(db.session.execute(stmt).all())
    return records(rows)


def find_one(request_id: int) -> dict[str, Any] | None:
    """The service request an id names (a merged ticket's: its incident), or None."""
    found = find(RequestFilter(ids=[request_id], page_size=1))
    return found[0] if found else None


# --- the texts of a page ---------------------------------------------------------------------

def first_messages(ids: Iterable[int]) -> dict[int, str]:
    """Each ticket's first resident message that is still up on its network."""
    order = func.row_number().over(partition_by=Message.ticket_id, order_by=(Message.sent_at, Message.id))
    ranked = (db.select(Message.ticket_id, Message.text, order.label("rank"))
              .where(Message.ticket_id.in_(list(ids)), Message.direction == MessageDirection.INBOUND.value,
                     Message.is_deleted.is_(False))
              .subquery())
    return dict(db.session.execute(db.select(ranked.c.ticket_id, ranked.c.text).where(ranked.c.rank == 1))
                .all())


def _public_reply(template: str, row: Row) -> str:
    """A reply's text with its placeholders filled for the public."""
    text = reply_texts.render(template, {
        "name": initials(row.author_name), "ticket": str(row.id),
        "department": row.department_name or "", "status_link": "",
    })
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", text))
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def latest_answers(rows: Sequence[Row]) -> dict[int, str]:
    """Each incident's latest published answer, masked: a reply with a posted delivery,
    or a message of the city in the incident's thread that no reply stands for."""
    by_id = {row.id: row for row in rows}
    ids = list(by_id)
    candidates: dict[int, tuple[datetime, int, str]] = {}

    def offer(ticket_id: int, at: datetime | None, order: int, text: str) -> None:
        if at is None or not text:
            return
        best = candidates.get(ticket_id)
        if best is None or (at, order) > best[:2]:
            candidates[ticket_id] = (at, order, text)

    published = db.session.execute(
        db.select(Reply.ticket_id, Reply.id, Reply.text,
                  func.max(func.coalesce(ReplyDelivery.sent_at, ReplyDelivery.updated_at)))
        .join(ReplyDelivery, ReplyDelivery.reply_id == Reply.id)
        .where(Reply.ticket_id.in_(ids), ReplyDelivery.state == DeliveryState.SENT.value)
        .group_by(Reply.ticket_id, Reply.id, Reply.text)).all()
    for ticket_id, reply_id, template, at in published:
        offer(ticket_id, at, reply_id, _public_reply(template, by_id[ticket_id]))

    posted = set(db.session.scalars(
        db.select(ReplyDelivery.message_id).where(ReplyDelivery.ticket_id.in_(ids),
                                                  ReplyDelivery.message_id.is_not(None))).all())
    by_hand = db.session.execute(
        db.select(Message.ticket_id, Message.id, Message.text, Message.sent_at)
        .where(Message.ticket_id.in_(ids), Message.direction == MessageDirection.OUTBOUND.value,
               Message.is_deleted.is_(False))).all()
    for ticket_id, message_id, text, at in by_hand:
        if message_id not in posted:
            offer(ticket_id, at, 0, text or "")
    return {ticket_id: public_text(text) for ticket_id, (_at, _order, text) in candidates.items()}


# --- the records ----------------------------------------------------------------------------

def w3(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 in the city's offset, to the second: ``2026-03-13T05:30:00+09:00``."""
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment is not None else None


def _degrees(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def open_or_closed(status: str) -> str:
    return "open" if S(status).is_open else "closed"


def records(rows: Sequence[Row]) -> list[dict[str, Any]]:
    if not rows:
        return []
    zone = ZoneInfo(current_app.config["DESK_TIMEZONE"])
    descriptions = first_messages(row.id for row in rows)
    answers = latest_answers(rows)
    return [{
        "service_request_id": str(row.id),
        "status": open_or_closed(row.status),
        "status_notes": answers.get(row.id, ""),
        "service_name": row.category_name or "",
        "service_code": str(row.category_id) if row.category_id is not None else "",
        "description": public_text(descriptions.get(row.id, "")),
        "agency_responsible": row.department_name or "",
        "service_notice": "",
        "requested_datetime": w3(row.created_at, zone),
        "updated_datetime": w3(row.updated_at, zone),
        "expected_datetime": w3(row.resolution_due_at, zone),
        "address": public_text(row.address or ""),
        "address_id": row.address_id or "",
        "zipcode": "",
        "lat": _degrees(row.lat),
        "long": _degrees(row.long),
        "media_url": http_url(row.media_url) or "",
    } for row in rows]
