"""OK Bot API webhook: ``POST /hooks/ok/<account_id>/<token>``.

OK signs nothing and sends no secret header, so the URL given to
``/graph/me/subscribe`` carries a per-account random token (the ``webhook_token``
credential), compared in constant time. We do not check OK's source networks
(217.20.145.192/28, 217.20.151.160/28, 217.20.153.48/28): behind a reverse proxy the
peer address is the proxy's, and the token already proves the sender. A verified
body is stored and queued and OK gets its 200 at once (it wants one within 5 s);
a repeat with the same ``message.mid`` changes nothing.
"""
from __future__ import annotations

from flask import abort, request

from ..networks import credential
from ..networks.ok import SPEC
from .views import account_or_404, bp, read_json, secret_matches, store_and_enqueue


def message_key(body: bytes) -> str | None:
    payload = read_json(body)  # None: kept anyway, the worker files it as a dead letter
    message = payload.get("message") if isinstance(payload, dict) else None
    mid = message.get("mid") if isinstance(message, dict) else None
    return str(mid) if isinstance(mid, (str, int)) and not isinstance(mid, bool) and mid else None


@bp.post("/ok/<int:account_id>/<token>")
def ok_webhook(account_id: int, token: str):
    account = account_or_404(account_id, SPEC.key)
    if not secret_matches(credential(account, "webhook_token"), token):
        abort(403)
    body = request.get_data()
    store_and_enqueue(account, body, message_key(body))
    return {"ok": True}
