"""The OpenAPI 3.1 description of API v1, served at ``/api/v1/openapi.json``.

Enums come from the models so the document cannot drift from what the API accepts;
tests check that every path exists and that real responses validate against it.
"""
from __future__ import annotations

from ..models import Direction, MessageDirection, Platform, Priority, TicketStatus

API_STATUSES = TicketStatus.values()

_DT = {"type": ["string", "null"], "format": "date-time"}
_DT_REQUIRED = {"type": "string", "format": "date-time"}
_ID_OR_NULL = {"type": ["integer", "null"]}
_TEXT_OR_NULL = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict, **extra) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **extra}


TICKET_PROPERTIES = {
    "id": {"type": "integer"},
    "status": {"type": "string", "enum": API_STATUSES},
    "priority": {"type": "string", "enum": Priority.values()},
    "subject": {"type": "string"},
    "platform": {"type": "string", "enum": Platform.values()},
    "direction": {"type": ["string", "null"], "enum": [*Direction.values(), None]},
    "account_id": _ID_OR_NULL,
    "category_id": _ID_OR_NULL,
    "department_id": _ID_OR_NULL,
    "assignee_id": _ID_OR_NULL,
    "merged_into_id": _ID_OR_NULL,
    "category_name": _TEXT_OR_NULL,
    "department_name": _TEXT_OR_NULL,
    "assignee_name": _TEXT_OR_NULL,
    "author_name": {"type": "string"},
    "is_mention": {"type": "boolean"},
    "message_count": {"type": "integer", "minimum": 0},
    "overdue": {"type": "boolean", "description": "Open and past its resolution deadline."},
    "sla_breached": {"type": "boolean"},
    "reaction_due_at": _DT,
    "resolution_due_at": _DT,
    "created_at": _DT_REQUIRED,
    "updated_at": _DT_REQUIRED,
    "last_message_at": _DT,
    "triaged_at": _DT,
    "resolved_at": _DT,
    "closed_at": _DT,
}

SCHEMAS = {
    "Ticket": {
        "type": "object",
        "description": "A ticket as listed in the queue.",
        "properties": TICKET_PROPERTIES,
        "required": list(TICKET_PROPERTIES),
        "additionalProperties": False,
    },
    "TicketDetail": {
        "type": "object",
        "description": "A ticket with its messages, internal notes and audit events.",
        "properties": {
            **TICKET_PROPERTIES,
            "return_reason": _TEXT_OR_NULL,
            "draft_answer": _TEXT_OR_NULL,
            "messages": {"type": "array", "items": _ref("Message")},
            "notes": {"type": "array", "items": _ref("Note")},
            "events": {"type": "array", "items": _ref("Event")},
        },
        "required": [*TICKET_PROPERTIES, "return_reason", "draft_answer", "messages", "notes", "events"],
        "additionalProperties": False,
    },
    "TicketPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Ticket")},
            "next_cursor": {"type": ["string", "null"],
                            "description": "Pass as `cursor` for the next page; null on the last page."},
        },
        "required": ["items", "next_cursor"],
        "additionalProperties": False,
    },
    "Message": {
        "type": "object",
        "description": "A resident's comment (inbound) or the city's public reply (outbound).",
        "properties": {
            "id": {"type": "integer"},
            "direction": {"type": "string", "enum": MessageDirection.values()},
            "platform": {"type": "string", "enum": Platform.values()},
            "account_id": {"type": "integer"},
            "author_name": {"type": "string"},
            "text": {"type": "string"},
            "sent_at": _DT_REQUIRED,
            "is_edited": {"type": "boolean"},
            "edited_at": _DT,
            "is_deleted": {"type": "boolean"},
            "permalink": {"type": "string"},
        },
        "required": ["id", "direction", "platform", "account_id", "author_name", "text", "sent_at",
                     "is_edited", "edited_at", "is_deleted", "permalink"],
        "additionalProperties": False,
    },
    "Note": {
        "type": "object",
        "description": "An internal note; never shown to residents.",
        "properties": {
            "id": {"type": "integer"},
            "author_id": _ID_OR_NULL,
            "author_name": _TEXT_OR_NULL,
            "text": {"type": "string"},
            "created_at": _DT_REQUIRED,
        },
        "required": ["id", "author_id", "author_name", "text", "created_at"],
        "additionalProperties": False,
    },
    "Event": {
        "type": "object",
        "description": "One entry of the ticket's append-only audit log.",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "examples": ["status", "field", "note", "merge"]},
            "field": _TEXT_OR_NULL,
            "old_value": _TEXT_OR_NULL,
            "new_value": _TEXT_OR_NULL,
            "reason": _TEXT_OR_NULL,
            "is_public": {"type": "boolean"},
            "actor_id": _ID_OR_NULL,
            "created_at": _DT_REQUIRED,
        },
        "required": ["id", "kind", "field", "old_value", "new_value", "reason", "is_public",
                     "actor_id", "created_at"],
        "additionalProperties": False,
    },
    "RouteRequest": {
        "type": "object",
        "description": "Triage a ticket. Give at least one field. Without `department` the "
                       "category's default department is used; a new ticket that gets a "
                       "department becomes `triaged`.",
        "properties": {
            "department": {"type": "integer", "description": "Department id."},
            "category": {"type": "integer", "description": "Category id."},
            "priority": {"type": "string", "enum": Priority.values()},
        },
        "minProperties": 1,
        "additionalProperties": False,
    },
    "StatusRequest": {
        "type": "object",
        "description": "Move a ticket to another status. Returning a routed ticket to `new` "
                       "needs a `reason`. `merged` is not set through this endpoint.",
        "properties": {
            "status": {"type": "string", "enum": API_STATUSES},
            "reason": {"type": ["string", "null"]},
        },
        "required": ["status"],
        "additionalProperties": False,
    },
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "A stable machine-readable code."},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Offending field or parameter names, each with what is wrong."},
        },
        "required": ["error", "message", "fields"],
        "additionalProperties": False,
    },
}

TICKET_ID = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer"}}

_FLAG = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]}

LIST_PARAMETERS = [
    _query("status", "Repeat (or comma-separate) to match any of several statuses; "
                     "absent or `all` means every status.",
           {"type": "array", "items": {"type": "string", "enum": [*API_STATUSES, "all"]}},
           style="form", explode=True),
    _query("platform", "Network the ticket came from.", {"type": "string", "enum": Platform.values()}),
    _query("direction", "Direction of the city account.", {"type": "string", "enum": Direction.values()}),
    _query("department", "Department id.", {"type": "integer", "minimum": 0}),
    _query("category", "Category id.", {"type": "integer", "minimum": 0}),
    _query("priority", "Priority.", {"type": "string", "enum": Priority.values()}),
    _query("overdue", "Only open tickets past their resolution deadline.", _FLAG),
    _query("unassigned", "Only tickets without an assignee.", _FLAG),
    _query("q", "Text search in the subject and the author's name; `#123` finds ticket 123.",
           {"type": "string", "maxLength": 200}),
    _query("sort", "Newest first (default) or nearest resolution deadline first.",
           {"type": "string", "enum": ["newest", "deadline"], "default": "newest"}),
    _query("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
    _query("cursor", "The `next_cursor` of the previous page, with the same filters and sort.",
           {"type": "string"}),
]

COMMON_ERRORS = {
    "401": _error("Missing, unknown, revoked or expired token, or a deactivated user."),
}
TICKET_ERRORS = {
    **COMMON_ERRORS,
    "404": _error("No such ticket, or it belongs to another department."),
}
WRITE_ERRORS = {
    **TICKET_ERRORS,
    "400": _error("Malformed JSON, a wrong type or an unknown field."),
    "403": _error("Your role may not do this."),
    "409": _error("The ticket's status does not allow it."),
    "422": _error("A value is not acceptable (unknown id, bad enum, missing field)."),
}

OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "Appeals desk API",
        "version": "1.0.0",
        "description": "Read the ticket queue and triage tickets. Every request carries "
                       "`Authorization: Bearer <token>` (issue one with `flask tokens create "
                       "--user EMAIL`). A department head sees only the department's tickets; "
                       "others answer 404. Datetimes are ISO 8601 in UTC.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": {
        "/tickets": {
            "get": {
                "operationId": "listTickets",
                "summary": "The ticket queue, filtered, keyset-paginated.",
                "parameters": LIST_PARAMETERS,
                "responses": {
                    "200": _json("A page of tickets.", _ref("TicketPage")),
                    "400": _error("An unknown query parameter, or a limit that is not an integer."),
                    "422": _error("A value not one of the choices, out of range, or a bad cursor."),
                    **COMMON_ERRORS,
                },
            },
        },
        "/tickets/{ticket_id}": {
            "get": {
                "operationId": "getTicket",
                "summary": "A ticket with messages, internal notes and events.",
                "parameters": [TICKET_ID],
                "responses": {"200": _json("The ticket.", _ref("TicketDetail")), **TICKET_ERRORS},
            },
        },
        "/tickets/{ticket_id}/route": {
            "post": {
                "operationId": "routeTicket",
                "summary": "Set department, category and priority (operators and admins).",
                "parameters": [TICKET_ID],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("RouteRequest")}}},
                "responses": {"200": _json("The routed ticket.", _ref("TicketDetail")), **WRITE_ERRORS},
            },
        },
        "/tickets/{ticket_id}/status": {
            "post": {
                "operationId": "changeTicketStatus",
                "summary": "Change the status. Operators and admins: any allowed transition; "
                           "department heads: work statuses on their tickets; managers: never.",
                "parameters": [TICKET_ID],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("StatusRequest")}}},
                "responses": {"200": _json("The ticket after the change.", _ref("TicketDetail")),
                              **WRITE_ERRORS},
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            },
        },
    },
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                           "description": "An API token of a desk user."}},
        "schemas": SCHEMAS,
    },
}
