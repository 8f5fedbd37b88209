"""``POST /hooks/vk/<account_id>``: VK Callback API deliveries.

- ``confirmation`` for the account's ``group_id`` is answered with the plain-text
  ``confirmation_code`` from the credentials (VK's handshake);
- every other event must carry the account's ``callback_secret`` in its ``secret``
  field (compared in constant time; an account without one refuses all events): wrong
  → 403 with a plain-text body, which VK does not count as ``ok``;
- the body is stored without its ``secret`` (it would show on the dead-letter page)
  under the key ``event_id``, so a re-delivery is acknowledged without work, and
  answered with a plain ``ok``. Parsing happens in the job.
"""
from __future__ import annotations

import json

from flask import Response, request

from .views import account_or_404, bp, secret_matches, store_and_enqueue


def _plain(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="text/plain")


@bp.post("/vk/<int:account_id>")
def vk_callback(account_id: int) -> Response:
    account = account_or_404(account_id, "vk")
    try:
        body = json.loads(request.get_data(cache=False))
    except ValueError:
        return _plain("not JSON", 400)
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return _plain("not a Callback API event", 400)
    credentials = account.get_credentials()
    if body["type"] == "confirmation":
        group_id = (account.settings or {}).get("group_id")
        code = credentials.get("confirmation_code")
        if not code or not group_id or str(body.get("group_id")) != str(abs(int(group_id))):
            return _plain("unknown community", 403)
        return _plain(code)
    if not secret_matches(credentials.get("callback_secret"), body.get("secret")):
        return _plain("wrong secret", 403)
    body.pop("secret", None)
    event_id = body.get("event_id")
    store_and_enqueue(account, json.dumps(body, ensure_ascii=False).encode(),
                      f"vk:{event_id}" if event_id else None)
    return _plain("ok")
