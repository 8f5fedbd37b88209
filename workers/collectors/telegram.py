"""Telegram collector: ``getUpdates`` polling and webhook parsing.

Account credentials: ``bot_token``, ``webhook_secret``. Settings: ``channel_id``,
``discussion_chat_id``, ``username`` (the channel's public name; ``channel_username``
is accepted too), ``bot_id`` (defaults to the number before ``:`` in the token).

The updates become events in :mod:`desk.channels.telegram_events` (the spec's
normaliser: threads, posts, what is skipped).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from desk.channels.errors import MalformedResponse
from desk.channels.payload import loose_int_id
from desk.channels.telegram import ALLOWED_UPDATES, TelegramClient
from desk.models import Account
from desk.networks import credential

from .base import PollBatch

PAGE = 100

_clients: dict[tuple[str, str], TelegramClient] = {}


def client_for(account: Account, config: Mapping) -> TelegramClient:
    """A cached client per (API base, token): one connection pool per bot."""
    token = credential(account, "bot_token")
    key = (config["TELEGRAM_API_BASE"], token)
    client = _clients.get(key)
    if client is None:
        client = TelegramClient(token, config["TELEGRAM_API_BASE"],
                                timeout=float(config["TELEGRAM_HTTP_TIMEOUT"]))
        _clients[key] = client
    return client


def fetch(account: Account, cursor: str | None, config: Mapping) -> PollBatch:
    """One ``getUpdates``; the cursor is the next offset (last update_id + 1), so the
    updates are confirmed to Telegram only by the call after their batch committed."""
    offset = int(cursor) if cursor else None
    updates = client_for(account, config).get_updates(
        offset, limit=PAGE, timeout=int(config["TELEGRAM_LONG_POLL_SECONDS"]),
        allowed_updates=ALLOWED_UPDATES)
    if not isinstance(updates, list):
        raise MalformedResponse("getUpdates result is not a list")
    ids = [i for i in (loose_int_id(u.get("update_id")) for u in updates if isinstance(u, dict)) if i is not None]
    next_cursor = str(max(ids) + 1) if ids else cursor
    return PollBatch(updates=updates, cursor=next_cursor, more=len(updates) >= PAGE)


def parse_delivery(account: Account, payload: Any) -> list[dict]:
    """A webhook body is exactly one Update."""
    if not isinstance(payload, dict) or loose_int_id(payload.get("update_id")) is None:
        raise ValueError("not a Telegram update (no update_id)")
    return [payload]
