"""OK collector: residents' comments under the group's recent topics, pulled with
signed ``discussions.getComments`` calls (OK has no webhook for them), and direct
messages to the group from the Bot API webhook ``/hooks/ok/<account_id>/<token>``.

The cursor is JSON: ``{"topics": {topic id: anchor or null}, "topics_at": ms}`` —
the paging anchor of every tracked topic and when the topics list was last read.
Account credentials: ``application_secret``, ``access_token``, ``webhook_token``;
settings: ``group_id`` and ``application_key`` (public; also read from credentials),
``bot_user_id`` (the group bot's own user, to skip its messages).

The updates become events in :mod:`desk.channels.ok_events` (the spec's normaliser).
Authors' names: a comment's own ``author_name`` when OK sends it, else the name
:mod:`workers.collectors.ok_names` resolved for the batch with one ``users.getInfo``
(:func:`prepare`, :func:`complete`).
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from desk.channels.errors import ChannelError, PermanentError
from desk.channels.events import ChannelEvent, InboundMessage
from desk.channels.ok import OkClient
from desk.models import Account
from desk.networks import credential

from . import ok_names
from .base import PollBatch

TRACKED_TOPICS = 60  # older topics stay watched for late comments until pushed out

def client_for(account: Account, config: Mapping[str, Any]) -> OkClient:
    creds, settings = account.get_credentials(), account.settings or {}
    kwargs = {"timeout": config["OK_HTTP_TIMEOUT"]} if config.get("OK_HTTP_TIMEOUT") else {}
    # The application key is a public setting; a hand-made account may hold it among the secrets.
    return OkClient(config["OK_API_BASE"],
                    application_key=settings.get("application_key") or creds.get("application_key", ""),
                    application_secret=credential(account, "application_secret", creds),
                    access_token=credential(account, "access_token", creds), **kwargs)


def _load_cursor(cursor: str | None) -> dict:
    state = json.loads(cursor) if cursor else {}
    return {"topics": dict(state.get("topics") or {}), "topics_at": state.get("topics_at")}


def _group_id(account: Account) -> str:
    group_id = (account.settings or {}).get("group_id")
    if not group_id:
        raise PermanentError("the OK account has no group_id setting")
    return str(group_id)


def fetch(account: Account, cursor: str | None, config: Mapping[str, Any]) -> PollBatch:
    """One round: refresh the topics list when it is stale, then one page of new
    comments per tracked topic. A fault after some progress returns that progress
    (and ``more``) instead of failing the round, so faults never stall collection;
    the anchors saved are exactly those of the pages returned."""
    group_id = _group_id(account)
    state = _load_cursor(cursor)
    updates: list[dict] = []
    more = False
    now = int(time.time() * 1000)
    refresh_ms = int(config["OK_TOPICS_REFRESH_SECONDS"]) * 1000
    with client_for(account, config) as client:
        try:
            if state["topics_at"] is None or now - int(state["topics_at"]) >= refresh_ms:
                topics = client.get_topics(group_id, count=int(config["OK_RECENT_TOPICS"]))
                updates += [{"kind": "topic", "group_id": group_id, "topic": t} for t in topics]
                recent = [str(t["id"]) for t in topics]
                older = [tid for tid in state["topics"] if tid not in recent]
                state["topics"] = {tid: state["topics"].get(tid) for tid in (recent + older)[:TRACKED_TOPICS]}
                state["topics_at"] = now
            for topic_id, anchor in list(state["topics"].items()):
                page = client.get_comments(topic_id, anchor, count=int(config["OK_PAGE_SIZE"]))
                updates += [{"kind": "comment", "group_id": group_id, "topic_id": topic_id, "comment": c}
                            for c in page.get("comments") or []]
                state["topics"][topic_id] = page.get("anchor") or anchor
                more = more or bool(page.get("has_more"))
        except ChannelError:
            if not updates:
                raise
            more = True
    return PollBatch(updates=updates, cursor=json.dumps(state, sort_keys=True), more=more)


def prepare(account: Account, updates: list) -> None:
    """Resolve the batch's unnamed authors with one ``users.getInfo`` (never raises)."""
    ok_names.resolve(account, updates, lambda: client_for(account, ok_names.config()))


def complete(account: Account, update: Any, events: list[ChannelEvent]) -> list[ChannelEvent]:
    """An author OK sent no name for gets the one :func:`prepare` cached ("" if none)."""
    return [replace(e, author_name=ok_names.name_of(e.author_id, None))
            if isinstance(e, InboundMessage) and not e.author_name and e.author_id else e for e in events]
