"""Tickets and their parts as JSON-ready dicts (shapes documented in openapi.py)."""
from __future__ import annotations

from datetime import UTC, datetime

from ..links import http_url
from ..models import Message, Note, Ticket, TicketEvent, utcnow


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``; the columns always hold aware datetimes."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ticket_summary(ticket: Ticket, now: datetime | None = None) -> dict:
    """A ticket as listed. Lists must load category, department and assignee with the
    rows (``queue_page`` does) so that the names cost no query per row."""
    now = now or utcnow()
    due = ticket.resolution_due_at
    return {
        "id": ticket.id,
        "status": ticket.status,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "platform": ticket.platform,
        "direction": ticket.direction,
        "account_id": ticket.account_id,
        "category_id": ticket.category_id,
        "department_id": ticket.department_id,
        "assignee_id": ticket.assignee_id,
        "merged_into_id": ticket.merged_into_id,
        "category_name": ticket.category.name if ticket.category else None,
        "department_name": ticket.department.name if ticket.department else None,
        "assignee_name": ticket.assignee.display_name if ticket.assignee else None,
        "author_name": ticket.author_name,
        "is_mention": ticket.is_mention,
        "message_count": ticket.message_count,
        "overdue": bool(ticket.is_open and due is not None and due < now),
        "sla_breached": ticket.sla_breached,
        "reaction_due_at": iso(ticket.reaction_due_at),
        "resolution_due_at": iso(due),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "last_message_at": iso(ticket.last_message_at),
        "triaged_at": iso(ticket.triaged_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
    }


def message(msg: Message) -> dict:
    return {
        "id": msg.id,
        "direction": msg.direction,
        "platform": msg.platform,
        "account_id": msg.account_id,
        "author_name": msg.author_name,
        "text": msg.text,
        "sent_at": iso(msg.sent_at),
        "is_edited": msg.is_edited,
        "edited_at": iso(msg.edited_at),
        "is_deleted": msg.is_deleted,
        "permalink": http_url(msg.permalink) or "",  # old rows may hold anything
    }


def note(item: Note) -> dict:
    return {
        "id": item.id,
        "author_id": item.author_id,
        "author_name": item.author.display_name if item.author else None,
        "text": item.text,
        "created_at": iso(item.created_at),
    }


def event(item: TicketEvent) -> dict:
    return {
        "id": item.id,
        "kind": item.kind,
        "field": item.field,
        "old_value": item.old_value,
        "new_value": item.new_value,
        "reason": item.reason,
        "is_public": item.is_public,
        "actor_id": item.actor_id,
        "created_at": iso(item.created_at),
    }


def ticket_detail(ticket: Ticket) -> dict:
    """The whole ticket: staff of every role see internal notes."""
    return {
        **ticket_summary(ticket),
        "return_reason": ticket.return_reason,
        "draft_answer": ticket.draft_answer,
        "messages": [message(m) for m in ticket.messages],
        "notes": [note(n) for n in ticket.notes],
        "events": [event(e) for e in ticket.events],
    }
