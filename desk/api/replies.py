"""API: public replies of a ticket. ``POST`` follows the card's rules (approval per
department, length per network); ``GET`` lists each reply with its state and rows."""
from __future__ import annotations

from flask import jsonify

from ..auth.scope import get_ticket_or_404
from ..extensions import db
from ..links import http_url
from ..replies import services
from ..replies.jobs import enqueue_deliveries_after_commit
from .auth import api_user, require_role, token_required
from .serializers import iso
from .specs import REPLY_BODY
from .validation import read_json_body
from .views import bp


def reply_json(reply) -> dict:
    return {
        "id": reply.id, "ticket_id": reply.ticket_id, "state": services.summary_state(reply),
        "approval": reply.state, "text": reply.text, "author_id": reply.author_id,
        "review_comment": reply.review_comment, "created_at": iso(reply.created_at),
        "deliveries": [{
            "id": d.id, "ticket_id": d.ticket_id, "platform": d.platform, "state": d.state,
            "attempts": d.attempts, "error": d.last_error, "external_id": d.external_id,
            "permalink": http_url(d.permalink), "sent_at": iso(d.sent_at),
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
    # A refusal (a status that takes no answer: 409; a text too long: 422) is a ReplyError,
    # answered by the API's DeskError handler.
    reply = services.compose(ticket, user, body["text"])
    enqueue_deliveries_after_commit(services.to_enqueue(reply))
    db.session.commit()
    response = jsonify(reply_json(reply))
    response.status_code = 201
    return response
