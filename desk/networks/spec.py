"""What the desk knows about one network, declared once (:class:`NetworkSpec`).

Behaviour (webhook view, normaliser, sender, echo parser, collector, counter, publisher)
is named by a dotted path and imported on first use: a spec stays cheap to import from
anywhere (labels, config, models' neighbours), and ``desk`` never imports ``workers``.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, Literal

from ..models.types import Platform

#: how the desk's replies reach the network: posted by the outbox, or by a person by hand
ReplyMode = Literal["automatic", "manual"]


@dataclass(frozen=True)
class AccountField:
    """One key of ``Account.settings`` (public) or ``Account.credentials`` (secret)."""

    key: str
    label: object  # a lazy string
    #: names older forms or files stored this value under; read as a fallback, never written
    legacy_keys: tuple[str, ...] = ()


@cache
def resolve(dotted: str) -> Any:
    """``"package.module.name"`` -> the object (imported on first use)."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    platform: Platform
    label: object  # a lazy string
    #: config key of the API's base URL, and its default (desk.config reads both)
    api_base_setting: str
    api_base_default: str
    #: public ids, shown and editable in the clear (admin form, import)
    settings: tuple[AccountField, ...]
    #: secrets: write-only in the admin form, encrypted at rest; read through :meth:`credential`
    credentials: tuple[AccountField, ...]
    #: settings the import stores as whole numbers (may include ids the form does not show)
    integer_settings: frozenset[str]
    #: settings or credentials a new account needs when imported from a file
    required_on_import: tuple[str, ...]
    #: characters per reply (config ``REPLY_LIMIT_<PLATFORM>`` may lower it)
    reply_limit: int | None
    replies: ReplyMode | None
    #: a repeated write carrying our outbox key is dropped by the network (VK's guid), so a
    #: write of unclear outcome may be retried there
    deduped: bool
    #: the webhook view (desk.hooks.<net>); its module registers the route on import
    webhook: str | None
    #: the collector module (workers.collectors.<net>): fetch, parse_delivery, prepare, complete...
    collector: str
    #: ``normalize(account, raw_update) -> [ChannelEvent]`` (desk.channels.<net>_events): one
    #: raw update into events, for polls, webhooks and replays alike; pure (no database)
    normaliser: str
    #: ``send(delivery, config) -> Posted`` and ``windows(delivery, config) -> [Window]``
    sender: str | None
    rate_windows: str | None
    #: ``parser(account, raw_update) -> OwnMessage | None``: the city's reply coming back
    #: (next to the normaliser, in desk.channels.<net>_events; desk.replies.echo settles it)
    echo: str | None
    #: ``counts(accounts, config, sleep) -> {account id: count or error text}`` (workers.stats)
    counter: str | None
    #: ``publish(delivery, config)`` of an announcement (desk.registry.publishers)
    publisher: str | None
    #: why each field left None is None (the completeness test asks for one)
    absent: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.platform.value

    @property
    def publishes(self) -> bool:
        return self.publisher is not None

    def load(self, name: str) -> Any:
        """The callable a behaviour field names (``spec.load("sender")``), or None."""
        dotted = getattr(self, name)
        return resolve(dotted) if dotted else None

    def credential_field(self, key: str) -> AccountField:
        for f in self.credentials:
            if f.key == key:
                return f
        raise KeyError(f"{self.key} declares no credential {key!r}")

    def credential(self, stored: Mapping[str, Any], key: str) -> str:
        """Secret ``key`` from decrypted credentials, else from a legacy name; "" if unset."""
        f = self.credential_field(key)
        for name in (f.key, *f.legacy_keys):
            value = stored.get(name)
            if value:
                return str(value)
        return ""

    def canonical_credential(self, key: str) -> str:
        """The spec's name for ``key`` (itself, or the field that lists it as legacy)."""
        for f in self.credentials:
            if key == f.key or key in f.legacy_keys:
                return f.key
        return key

    def none_fields(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is None]
