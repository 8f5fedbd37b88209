"""The networks the desk works with: one spec per network (``desk/networks/<net>.py``).

Add a network: write its module with ``SPEC = NetworkSpec(...)`` and add one line below.
Everything keyed by platform (admin form, import, labels, limits, senders, collectors,
counters, publishers, API defaults) reads these specs.
"""
from __future__ import annotations

from typing import Any

from . import max, ok, telegram, vk  # noqa: A004 — the module is named after the network
from .spec import AccountField, NetworkSpec, ReplyMode, resolve

__all__ = ["SPECS", "AccountField", "NetworkSpec", "ReplyMode", "UnknownNetwork", "credential", "platforms",
           "resolve", "spec_for"]

#: platform value -> spec, in the order pages list the networks
SPECS: dict[str, NetworkSpec] = {spec.key: spec for spec in (
    telegram.SPEC,
    vk.SPEC,
    max.SPEC,
    ok.SPEC,
)}


class UnknownNetwork(KeyError):
    """A platform without a spec (``web``, or a typo)."""


def spec_for(platform: Any) -> NetworkSpec:
    key = getattr(platform, "value", platform)
    spec = SPECS.get(key)
    if spec is None:
        raise UnknownNetwork(f"no network spec for platform {key!r} (known: {', '.join(SPECS)})")
    return spec


def platforms(**wanted: Any) -> tuple[str, ...]:
    """Platforms whose specs match, e.g. ``platforms(replies="manual")``; a value of True
    matches any truthy attribute (``platforms(publishes=True)``)."""
    def matches(spec: NetworkSpec) -> bool:
        return all(bool(getattr(spec, k)) if v is True else getattr(spec, k) == v for k, v in wanted.items())
    return tuple(key for key, spec in SPECS.items() if matches(spec))


def credential(account: Any, key: str, stored: dict | None = None) -> str:
    """The account's secret ``key`` by its spec's name (a legacy name still reads); "" if
    unset. ``stored``: already decrypted credentials, to spare another decryption."""
    if stored is None:
        stored = account.get_credentials()
    return spec_for(account.platform).credential(stored, key)
