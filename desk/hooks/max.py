"""MAX webhook: ``POST /hooks/max/<account_id>``.

MAX sends the subscription's secret in ``X-Max-Bot-Api-Secret``; it is compared in
constant time with the account's ``webhook_secret`` credential. A verified body is
stored and queued, and MAX gets its 200 at once (it retries anything else for up to
8 hours; a repeat hits the stored event key and changes nothing).
"""
from __future__ import annotations

from flask import abort, request

from ..channels.max import update_key
from ..networks import credential
from ..networks.max import SPEC
from .views import account_or_404, bp, read_json, secret_matches, store_and_enqueue


@bp.post("/max/<int:account_id>")
def max_webhook(account_id: int):
    account = account_or_404(account_id, SPEC.key)
    expected = credential(account, "webhook_secret")
    if not secret_matches(expected, request.headers.get("X-Max-Bot-Api-Secret")):
        abort(403)
    body = request.get_data()
    # A body that is not JSON has no key; it is kept anyway and becomes a dead letter.
    store_and_enqueue(account, body, update_key(read_json(body)))
    return {"ok": True}
