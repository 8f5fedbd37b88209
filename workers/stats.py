"""Subscriber counts: the periodic job that records one snapshot per account per city day.

Telegram ``getChatMemberCount`` of the channel, VK ``groups.getById`` with
``fields=members_count`` (up to 500 communities per call, per token), MAX
``GET /chats/{id}`` (``participants_count``), OK ``group.getInfo`` (``members_count``).
Every call goes through :func:`desk.channels.http.with_retries`; a failure that outlives
the retries is recorded for the admin page and leaves the day as a gap. The job runs
several times a day and asks only for the accounts still missing today's count, so a
failure of the morning is retried in the afternoon.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date
from functools import partial
from typing import Any

from flask import current_app

from desk.channels.errors import ChannelError, MalformedResponse
from desk.channels.http import with_retries
from desk.extensions import db
from desk.i18n import city_today
from desk.models import Account
from desk.networks import credential, spec_for
from desk.registry.snapshots import accounts_due, record_count, record_failure
from desk.registry.targets import required_setting, telegram_channel

from .collectors import max as max_collector
from .collectors import ok as ok_collector
from .collectors import telegram as telegram_collector
from .collectors import vk as vk_collector

log = logging.getLogger(__name__)
VK_BATCH = 500
Sleep = Callable[[float], None]


def _retrying(call: Callable[[], Any], config: Mapping, sleep: Sleep | None) -> Any:
    kwargs: dict[str, Any] = {"attempts": int(config["SNAPSHOT_RETRY_ATTEMPTS"]),
                              "base_delay": float(config["SNAPSHOT_RETRY_BASE_DELAY"])}
    if sleep is not None:
        kwargs["sleep"] = sleep
    return with_retries(call, **kwargs)


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedResponse(f"{what}: no subscriber count in the answer")
    return value


def telegram_count(account: Account, config: Mapping) -> int:
    return _count(telegram_collector.client_for(account, config).get_chat_member_count(telegram_channel(account)),
                  "getChatMemberCount")


def max_count(account: Account, config: Mapping) -> int:
    chat_id = required_setting(account, "chat_id")
    with max_collector.client_for(account, config) as client:
        return _count(client.get_chat(chat_id).get("participants_count"), "GET /chats")


def ok_count(account: Account, config: Mapping) -> int:
    group_id = required_setting(account, "group_id")
    with ok_collector.client_for(account, config) as client:
        return _count(client.group_info(group_id).get("members_count"), "group.getInfo")


Counts = Callable[[list[Account], Mapping, Sleep | None], dict[int, int | str]]


def _one_by_one(fetch: Callable[[Account, Mapping], int]) -> Counts:
    """A network spec's counter from a fetch of one account's count."""
    def counts(accounts: list[Account], config: Mapping, sleep: Sleep | None) -> dict[int, int | str]:
        results: dict[int, int | str] = {}
        for account in accounts:
            try:
                results[account.id] = _retrying(partial(fetch, account, config), config, sleep)
            except ChannelError as exc:
                results[account.id] = _describe(exc)
        return results
    return counts


# The counters the network specs name (``counter``); VK's asks for many communities at once.
telegram_counts = _one_by_one(telegram_count)
max_counts = _one_by_one(max_count)
ok_counts = _one_by_one(ok_count)


def _vk_client(account: Account, config: Mapping):
    """Any token reads ``groups.getById``; the service token is the one meant for reads."""
    kind = "service" if credential(account, "service_token") else "group"
    return vk_collector.client_for(account, config, kind)


def vk_counts(accounts: list[Account], config: Mapping, sleep: Sleep | None) -> dict[int, int | str]:
    """Counts of VK communities, batched per token; account id -> count or error text."""
    results: dict[int, int | str] = {}
    by_client: dict[int, tuple[Any, list[Account]]] = {}
    for account in accounts:
        try:
            client = _vk_client(account, config)
            group_id = vk_collector.group_id_of(account)
        except ChannelError as exc:
            results[account.id] = _describe(exc)
            continue
        by_client.setdefault(id(client), (client, []))[1].append(account)
    for client, members in by_client.values():
        for start in range(0, len(members), VK_BATCH):
            batch = members[start:start + VK_BATCH]
            ids = [vk_collector.group_id_of(a) for a in batch]
            try:
                groups = _retrying(lambda: client.groups_get_by_id(ids, fields="members_count"), config, sleep)
            except ChannelError as exc:
                results.update({a.id: _describe(exc) for a in batch})
                continue
            found = {abs(int(g["id"])): g.get("members_count") for g in groups if isinstance(g, dict) and "id" in g}
            for account, group_id in zip(batch, ids, strict=False):
                try:
                    results[account.id] = _count(found.get(group_id), f"groups.getById {group_id}")
                except ChannelError as exc:
                    results[account.id] = _describe(exc)
    return results


def _describe(exc: ChannelError) -> str:
    return f"{exc.__class__.__name__}: {exc.description}"


def take_snapshots(day: date | None = None, *, refresh: bool = False, sleep: Sleep | None = None) -> dict:
    """Fetch and record the count of every active account still missing ``day``'s
    snapshot (every account with ``refresh``); commits once per account so one slow
    network does not hold back the others' rows."""
    config = current_app.config
    day = day or city_today()
    accounts = accounts_due(day, refresh=refresh)
    results: dict[int, int | str] = {}
    by_platform: dict[str, list[Account]] = defaultdict(list)
    for account in accounts:
        by_platform[account.platform].append(account)
    for platform, members in by_platform.items():
        results.update(spec_for(platform).load("counter")(members, config, sleep))
    recorded = failed = 0
    for account_id, outcome in results.items():
        if isinstance(outcome, int):
            record_count(account_id, day, outcome)
            recorded += 1
        else:
            log.warning("subscriber count of account %s failed: %s", account_id, outcome)
            record_failure(account_id, outcome)
            failed += 1
        db.session.commit()
    return {"day": day.isoformat(), "recorded": recorded, "failed": failed}


def snapshot_subscribers(day_iso: str | None = None, refresh: bool = False) -> dict:
    """RQ job (periodic): today's subscriber snapshots; ``day_iso`` (YYYY-MM-DD) to
    record under another day, ``refresh`` to fetch accounts that already have one."""
    return take_snapshots(date.fromisoformat(day_iso) if day_iso else None, refresh=refresh)
