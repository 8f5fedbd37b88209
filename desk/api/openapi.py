"""The OpenAPI 3.1 description of API v1, served at ``/api/v1/openapi.json``.

Request bodies and query strings are written from the declarations the views check
(``specs.py``) and enums come from the models, so the document cannot drift from what
the API accepts; tests check that every path exists, that real responses validate
against it, and schemathesis fuzzes the API against it.
"""
from __future__ import annotations

from ..models import Direction, MessageDirection, Platform, Priority, TicketStatus
from ..models.replies import DeliveryState, ReplyState
from .specs import LIST_QUERY, PATH_ID_MAX, REPLY_BODY, ROUTE_BODY, STATUS_BODY
from .validation import body_schema, query_parameters

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


def _body(schema_name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema_name)}}}


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
    "RouteRequest": body_schema(
        ROUTE_BODY, minProperties=1,
        description="Triage a ticket. Give at least one field. Without `department` the category's "
                    "default department is used; a new ticket that gets a department becomes `triaged`."),
    "StatusRequest": body_schema(
        STATUS_BODY,
        description="Move a ticket to another status. Returning a routed ticket to `new` needs a "
                    "`reason`. `merged` is not set through this endpoint."),
    "ReplyRequest": body_schema(REPLY_BODY),
    "Delivery": {
        "type": "object",
        "description": "One outbox row: the answer posted into one resident thread.",
        "properties": {
            "id": {"type": "integer"},
            "ticket_id": {"type": "integer", "description": "The resident thread's ticket."},
            "platform": {"type": "string", "enum": Platform.values()},
            "state": {"type": "string", "enum": DeliveryState.values()},
            "attempts": {"type": "integer", "minimum": 0},
            "error": _TEXT_OR_NULL,
            "external_id": _TEXT_OR_NULL,
            "permalink": {"type": ["string", "null"], "description": "An http(s) link, or null."},
            "sent_at": _DT,
        },
        "required": ["id", "ticket_id", "platform", "state", "attempts", "error", "external_id", "permalink",
                     "sent_at"],
        "additionalProperties": False,
    },
    "Reply": {
        "type": "object",
        "description": "A public answer of the incident and its outbox rows.",
        "properties": {
            "id": {"type": "integer"},
            "ticket_id": {"type": "integer"},
            "state": {"type": "string", "enum": [*ReplyState.values(), *DeliveryState.values()],
                      "description": "The approval state, or the worst state of its rows."},
            "approval": {"type": "string", "enum": ReplyState.values()},
            "text": {"type": "string"},
            "author_id": _ID_OR_NULL,
            "review_comment": _TEXT_OR_NULL,
            "created_at": _DT_REQUIRED,
            "deliveries": {"type": "array", "items": _ref("Delivery")},
        },
        "required": ["id", "ticket_id", "state", "approval", "text", "author_id", "review_comment", "created_at",
                     "deliveries"],
        "additionalProperties": False,
    },
    "ReplyList": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": _ref("Reply")}},
        "required": ["items"],
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

TICKET_ID = {"name": "ticket_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": PATH_ID_MAX}}

LIST_PARAMETERS = query_parameters(LIST_QUERY)

COMMON_ERRORS = {
    "401": _error("Missing, unknown, revoked or expired token, or a deactivated user."),
}
TICKET_ERRORS = {
    **COMMON_ERRORS,
    "404": _error("No such ticket, or it belongs to another department."),
}
WRITE_ERRORS = {
    **TICKET_ERRORS,
    "400": _error("Malformed JSON, a wrong type, an unknown field or a number out of range."),
    "403": _error("Your role may not do this."),
    "409": _error("The ticket's status does not allow it."),
    "413": _error("The body is larger than the desk accepts."),
    "422": _error("A value is not acceptable (unknown id, not one of the choices, missing field)."),
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
                    "400": _error("An unknown or repeated query parameter, or a number that is not an integer."),
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
                "requestBody": _body("RouteRequest"),
                "responses": {"200": _json("The routed ticket.", _ref("TicketDetail")), **WRITE_ERRORS},
            },
        },
        "/tickets/{ticket_id}/status": {
            "post": {
                "operationId": "changeTicketStatus",
                "summary": "Change the status. Operators and admins: any allowed transition; "
                           "department heads: work statuses on their tickets; managers: never.",
                "parameters": [TICKET_ID],
                "requestBody": _body("StatusRequest"),
                "responses": {"200": _json("The ticket after the change.", _ref("TicketDetail")),
                              **WRITE_ERRORS},
            },
        },
        "/tickets/{ticket_id}/replies": {
            "get": {
                "operationId": "listReplies",
                "summary": "The ticket's public replies and their outbox rows.",
                "parameters": [TICKET_ID],
                "responses": {"200": _json("The replies.", _ref("ReplyList")), **TICKET_ERRORS},
            },
            "post": {
                "operationId": "createReply",
                "summary": "Write a public answer: posted to every resident thread of the incident, or "
                           "waiting for an operator where the department needs approval.",
                "parameters": [TICKET_ID],
                "requestBody": _body("ReplyRequest"),
                "responses": {"201": _json("The reply.", _ref("Reply")), **WRITE_ERRORS},
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
