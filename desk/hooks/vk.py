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

from ..networks import credential
from ..networks.vk import SPEC
from .views import account_or_404, bp, read_json, secret_matches, store_and_enqueue


def _plain(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="text/plain")


def _same_community(given: object, configured: object) -> bool:
    """Does the event's ``group_id`` name the account's community? Either may come as a
    number or text, the configured one also negative (a wall's owner id); any other
    type is no community."""
    def digits(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        text = str(value).strip().lstrip("-")
        return text if text.isascii() and text.isdigit() and text.strip("0") else None

    return digits(given) is not None and digits(given) == digits(configured)


@bp.post("/vk/<int:account_id>")
def vk_callback(account_id: int) -> Response:
    account = account_or_404(account_id, SPEC.key)
    # Without the parsed body there is no secret to check, so nothing unreadable is stored.
    body = read_json(request.get_data(cache=False))
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return _plain("not a Callback API event", 400)
    credentials = account.get_credentials()
    if body["type"] == "confirmation":
        code = credential(account, "confirmation_code", credentials)
        if not code or not _same_community(body.get("group_id"), (account.settings or {}).get("group_id")):
            return _plain("unknown community", 403)
        return _plain(code)
    if not secret_matches(credential(account, "callback_secret", credentials), body.get("secret")):
        return _plain("wrong secret", 403)
    body.pop("secret", None)
    event_id = body.get("event_id")
    store_and_enqueue(account, json.dumps(body, ensure_ascii=False).encode(),
                      f"vk:{event_id}" if event_id else None)
    return _plain("ok")
