"""``POST /hooks/telegram/<account_id>``: Telegram's webhook deliveries.

The ``X-Telegram-Bot-Api-Secret-Token`` header must equal the account's
``webhook_secret`` (constant-time): missing → 401, wrong → 403. The body is stored
before answering and parsed by a job. A body that is not JSON is still stored and
answered 200: Telegram would otherwise re-send it for hours, and the job turns it
into a dead letter that an admin can see and replay.
"""
from __future__ import annotations

from flask import request

from ..networks import credential
from ..networks.telegram import SPEC
from .views import account_or_404, bp, read_json, secret_matches, store_and_enqueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _update_id(body: bytes) -> str | None:
    update = read_json(body)
    update_id = update.get("update_id") if isinstance(update, dict) else None
    return str(update_id) if isinstance(update_id, int) and not isinstance(update_id, bool) else None


@bp.post("/telegram/<int:account_id>")
def telegram_webhook(account_id: int):
    account = account_or_404(account_id, SPEC.key)
    given = request.headers.get(SECRET_HEADER)
    if given is None:
        return {"ok": False, "description": "secret token required"}, 401
    if not secret_matches(credential(account, "webhook_secret"), given):
        return {"ok": False, "description": "wrong secret token"}, 403
    body = request.get_data(cache=False)
    store_and_enqueue(account, body, _update_id(body))
    return {"ok": True}, 200
