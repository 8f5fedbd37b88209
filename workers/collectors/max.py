"""MAX collector: long polling of ``/updates`` (the marker is the cursor); the updates
(also the webhook's ``/hooks/max/<account_id>``) become events in
:mod:`desk.channels.max_events`, the spec's normaliser.

Account credentials: ``bot_token``, ``webhook_secret``; settings: ``chat_id`` (the
city's channel) and ``bot_user_id`` (to recognise the bot's own messages).

A message without ``sender`` is a resident's unless the desk's outbox posted it: that
needs the database, so it is checked here (:func:`complete`), not in the normaliser.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desk.channels.events import ChannelEvent, InboundMessage, Skipped
from desk.channels.max import MaxClient
from desk.extensions import db
from desk.models import Account
from desk.models.replies import ReplyDelivery
from desk.networks import credential
from desk.text import is_clean

from .base import PollBatch


def client_for(account: Account, config: Mapping[str, Any]) -> MaxClient:
    kwargs = {"timeout": config["MAX_HTTP_TIMEOUT"]} if config.get("MAX_HTTP_TIMEOUT") else {}
    return MaxClient(config["MAX_API_BASE"], credential(account, "bot_token"), **kwargs)


def fetch(account: Account, cursor: str | None, config: Mapping[str, Any]) -> PollBatch:
    """Read updates after ``cursor``. Passing the stored marker commits, on MAX's
    side, only what our database already holds; the new marker is stored with the
    batch, so a crash before the commit re-reads the same updates."""
    limit = int(config["MAX_POLL_LIMIT"])
    with client_for(account, config) as client:
        body = client.get_updates(int(cursor) if cursor else None, limit=limit,
                                  timeout=int(config["MAX_POLL_TIMEOUT"]))
    updates = body["updates"]
    marker = body.get("marker")
    return PollBatch(updates=updates, cursor=str(marker) if marker is not None else cursor,
                     more=len(updates) >= limit)


# --- the desk's own messages without a sender ---------------------------------------------


def _posted_by_the_desk(account: Account, thread_ref: str, mid: str, reply_to: str | None, text: str) -> bool:
    """Whether the desk's outbox posted this message: its id, or (while the send still
    waits for MAX's answer) the same text answering the same message in the thread."""
    if not (is_clean(thread_ref) and is_clean(mid)):
        return False  # the desk never stored such an id (and the database would refuse the query)
    rows = db.session.execute(
        db.select(ReplyDelivery.external_id, ReplyDelivery.target_external_id, ReplyDelivery.text)
        .where(ReplyDelivery.account_id == account.id, ReplyDelivery.thread_ref == thread_ref)
    ).all()
    return any(external_id == mid or (external_id is None and reply_to and target == reply_to
                                      and (sent or "").strip() == text.strip())
               for external_id, target, sent in rows)


def complete(account: Account, update: Any, events: list[ChannelEvent]) -> list[ChannelEvent]:
    """A sender-less message the desk posted itself is skipped as its own (the
    normaliser took it for a resident's: only the outbox can tell)."""
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict) or isinstance(message.get("sender"), dict):
        return events
    own = "own comment" if str(update.get("update_type")).startswith("comment") else "own message"
    return [Skipped(own, e.external_id) if _is_own(account, e) else e for e in events]


def _is_own(account: Account, event: ChannelEvent) -> bool:
    if not isinstance(event, InboundMessage):
        return False
    assert event.thread_ref is not None  # the MAX normaliser always sets it ("chat:<id>")
    return _posted_by_the_desk(account, event.thread_ref, event.external_id, event.reply_to_external_id,
                               event.text)
