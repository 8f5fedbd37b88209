"""API: public replies of a ticket. ``POST`` follows the card's rules (approval per
department, length per network); ``GET`` lists each reply with its state and rows."""
from __future__ import annotations

from flask import jsonify

from ..auth.scope import get_ticket_or_404
from ..extensions import db
from ..replies import services
from ..replies.jobs import enqueue_deliveries
from .auth import api_user, require_role, token_required
from .errors import ApiError
from .serializers import iso
from .validation import BodyField, read_json_body
from .views import bp

REPLY_BODY = {"text": BodyField(str, required=True)}


def reply_json(reply) -> dict:
    return {
        "id": reply.id, "ticket_id": reply.ticket_id, "state": services.summary_state(reply),
        "approval": reply.state, "text": reply.text, "author_id": reply.author_id,
        "review_comment": reply.review_comment, "created_at": iso(reply.created_at),
        "deliveries": [{
            "id": d.id, "ticket_id": d.ticket_id, "platform": d.platform, "state": d.state,
            "attempts": d.attempts, "error": d.last_error, "external_id": d.external_id,
            "permalink": d.permalink or None, "sent_at": iso(d.sent_at),
        } for d in reply.deliveries],
    }


@bp.get("/tickets/<int:ticket_id>/replies")
@token_required()
def list_replies(ticket_id: int):
    ticket = get_ticket_or_404(ticket_id, api_user())
    return jsonify({"items": [reply_json(r) for r in services.replies_of(ticket)]})


@bp.post("/tickets/<int:ticket_id>/replies")
@token_required()
def create_reply(ticket_id: int):
    user = api_user()
    ticket = get_ticket_or_404(ticket_id, user, for_update=True)
    require_role(user, *services.WRITERS)
    body = read_json_body(REPLY_BODY)
    try:
        reply = services.compose(ticket, user, body["text"])
    except services.ReplyError as exc:
        db.session.rollback()
        raise ApiError(422, "validation_failed", str(exc), {"text": str(exc)}) from None
    db.session.commit()
    enqueue_deliveries(services.to_enqueue(reply))
    response = jsonify(reply_json(reply))
    response.status_code = 201
    return response


def _document() -> None:
    """Describe these routes in the API's OpenAPI document."""
    from .openapi import OPENAPI, TICKET_ID, TICKET_ERRORS, WRITE_ERRORS, _json

    delivery = {"type": "object", "properties": {
        "id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "platform": {"type": "string"},
        "state": {"type": "string", "enum": ["queued", "sending", "sent", "failed", "unknown", "manual",
                                             "cancelled"]},
        "attempts": {"type": "integer"}, "error": {"type": ["string", "null"]},
        "external_id": {"type": ["string", "null"]}, "permalink": {"type": ["string", "null"]},
        "sent_at": {"type": ["string", "null"], "format": "date-time"}}}
    reply = {"type": "object", "required": ["id", "state", "approval", "text", "deliveries"], "properties": {
        "id": {"type": "integer"}, "ticket_id": {"type": "integer"},
        "state": {"type": "string", "description": "The approval state, or the worst state of its rows."},
        "approval": {"type": "string", "enum": ["draft", "pending_approval", "returned", "approved"]},
        "text": {"type": "string"}, "author_id": {"type": ["integer", "null"]},
        "review_comment": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "deliveries": {"type": "array", "items": delivery}}}
    OPENAPI["paths"]["/tickets/{ticket_id}/replies"] = {
        "get": {"operationId": "listReplies", "summary": "The ticket's public replies and their outbox rows.",
                "parameters": [TICKET_ID],
                "responses": {"200": _json("The replies.", {"type": "object", "properties": {
                    "items": {"type": "array", "items": reply}}}), **TICKET_ERRORS}},
        "post": {"operationId": "createReply",
                 "summary": "Write a public answer: posted to every resident thread of the incident, or "
                            "waiting for an operator where the department needs approval.",
                 "parameters": [TICKET_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["text"], "additionalProperties": False,
                     "properties": {"text": {"type": "string"}}}}}},
                 "responses": {"201": _json("The reply.", reply), **WRITE_ERRORS}},
    }


_document()
