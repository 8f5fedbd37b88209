"""Webhook endpoints of the networks: verify, store, enqueue, answer fast.

Each network's routes live in ``desk/hooks/<platform>.py`` and register on this
blueprint; they verify the network's secret in constant time, then call
:func:`store_and_enqueue`. Parsing and ingest happen in the worker.
"""
from __future__ import annotations

import hmac
import importlib
from typing import Any

from flask import Blueprint, abort
from sqlalchemy.exc import IntegrityError

from .. import jobs
from ..extensions import db
from ..models import Account, WebhookDelivery
from ..networks import SPECS
from ..web_input import load_json

bp = Blueprint("hooks", __name__, url_prefix="/hooks")

#: the modules of the specs' webhook views: importing one registers its routes on ``bp``
NETWORK_ROUTES = [spec.webhook.rpartition(".")[0] for spec in SPECS.values() if spec.webhook]


def account_or_404(account_id: int, platform: str) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or account.platform != platform or not account.is_active:
        abort(404)
    return account


def secret_matches(expected: object, given: object) -> bool:
    """Constant-time comparison; a missing expected secret, or a given one that is not
    text (a number, a list, ``null`` in a JSON body), never matches."""
    if not expected or not isinstance(expected, str) or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(errors="replace"), given.encode(errors="replace"))


def read_json(body: bytes) -> Any | None:
    """A delivery's JSON as the desk reads it (bounded depth, cleaned strings), or
    ``None`` when it is not such JSON: the caller still stores it, and the worker files
    it as a dead letter an admin can see."""
    try:
        return load_json(body)
    except ValueError:
        return None


def accept_delivery(account: Account, payload: bytes | str, event_key: str | None) -> WebhookDelivery | None:
    """Store a webhook body (verified by the caller), queue its processing job and
    commit; ``None`` if the same event was stored before (no job then)."""
    text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
    delivery = WebhookDelivery(account_id=account.id, platform=account.platform,
                               event_key=event_key[:200] if event_key else None,
                               payload=text.replace("\x00", "\ufffd"))
    db.session.add(delivery)
    try:
        db.session.flush()
        # Best effort: if Redis is down the delivery stays pending and the sweeper
        # enqueues it later; the network still gets its 200.
        jobs.enqueue_after_commit(jobs.PROCESS_DELIVERY, delivery.id, best_effort=True)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return delivery


def store_and_enqueue(account: Account, body: bytes, event_key: str | None) -> bool:
    """Keep the delivery durably and hand it to the queue after the commit. Returns
    False for a repeat of an event already stored. If Redis is down the delivery stays
    pending and the sweeper enqueues it later: the network still gets its 200."""
    return accept_delivery(account, body, event_key) is not None


for _module in NETWORK_ROUTES:
    importlib.import_module(_module)
