"""Login throttling, kept in Redis (the desk always has one: ``desk.queue.get_redis``).

Three counters, after OWASP's "device cookie" scheme, so that an attacker slows himself
down without locking the owner out:

- per client address: too many wrong passwords from one address (any e-mail) and the
  address gets 429 until its window ends;
- per e-mail, for browsers without that user's device cookie: too many wrong passwords
  lock the e-mail for such browsers for a bounded time (attempts during the lock do not
  extend it). Unknown e-mails are counted and locked exactly like known ones;
- per device cookie: a trusted browser that types too many wrong passwords loses its
  trust for a while (and then counts as any other browser).

A trusted browser (see :mod:`desk.auth.devices`) bypasses the first two: its owner can log
in while someone else hammers the account from elsewhere.
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from ..models import utcnow

PREFIX = "desk:login:"


@dataclass(frozen=True)
class Limits:
    max_failures: int
    lock_seconds: int
    failure_window: int
    client_max_failures: int
    client_window: int

    @classmethod
    def configured(cls) -> Limits:
        c = current_app.config
        return cls(c["LOGIN_MAX_FAILURES"], c["LOGIN_LOCK_SECONDS"], c["LOGIN_FAILURE_WINDOW_SECONDS"],
                   c["LOGIN_CLIENT_MAX_FAILURES"], c["LOGIN_CLIENT_WINDOW_SECONDS"])


def _redis():
    from ..queue import get_redis

    return get_redis()


def _subject(email: str) -> str:
    # Keys name a hash, not the e-mail: Redis holds no personal data.
    return hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def client_bucket(address: str) -> str:
    """One IPv4 address, or the /64 network of an IPv6 one (one subscriber's block)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _count(pipe, key: str, window: int) -> None:
    # SET NX EX then INCR: the window starts with the first failure (EXPIRE NX needs Redis 7).
    pipe.set(key, 0, ex=window, nx=True)
    pipe.incr(key)


def client_retry_after(address: str) -> int:
    """Seconds the client must wait before its next attempt; 0 when it may try now."""
    key = f"{PREFIX}client:{client_bucket(address)}"
    r = _redis()
    count = r.get(key)
    if count is None or int(count) < Limits.configured().client_max_failures:
        return 0
    return max(int(r.ttl(key)), 1)


def account_locked(email: str) -> bool:
    """Whether the e-mail is locked for browsers without its device cookie."""
    return bool(_redis().exists(f"{PREFIX}lock:{_subject(email)}"))


def device_locked(nonce: str) -> bool:
    return bool(_redis().exists(f"{PREFIX}devlock:{nonce}"))


def record_client_failure(address: str) -> None:
    limits = Limits.configured()
    pipe = _redis().pipeline()
    _count(pipe, f"{PREFIX}client:{client_bucket(address)}", limits.client_window)
    pipe.execute()


def record_untrusted_failure(email: str, address: str) -> datetime | None:
    """Count a wrong password from a browser without the device cookie; returns the end
    of the lock this failure started, if it started one."""
    limits = Limits.configured()
    subject = _subject(email)
    pipe = _redis().pipeline()
    _count(pipe, f"{PREFIX}client:{client_bucket(address)}", limits.client_window)
    _count(pipe, f"{PREFIX}fail:{subject}", limits.failure_window)
    failures = pipe.execute()[-1]
    if failures < limits.max_failures:
        return None
    pipe = _redis().pipeline()
    pipe.set(f"{PREFIX}lock:{subject}", 1, ex=limits.lock_seconds)
    pipe.delete(f"{PREFIX}fail:{subject}")
    pipe.execute()
    return utcnow() + timedelta(seconds=limits.lock_seconds)


def record_device_failure(nonce: str) -> None:
    """Count a wrong password from a trusted browser; too many and it is trusted no more
    for the lock time."""
    limits = Limits.configured()
    pipe = _redis().pipeline()
    _count(pipe, f"{PREFIX}devfail:{nonce}", limits.failure_window)
    failures = pipe.execute()[-1]
    if failures >= limits.max_failures:
        pipe = _redis().pipeline()
        pipe.set(f"{PREFIX}devlock:{nonce}", 1, ex=limits.lock_seconds)
        pipe.delete(f"{PREFIX}devfail:{nonce}")
        pipe.execute()


def forget_failures(email: str, *, unlock: bool = False) -> None:
    """After a successful login from an untrusted browser the count starts again; a new
    password (``unlock``) also lifts the lock."""
    subject = _subject(email)
    keys = [f"{PREFIX}fail:{subject}"] + ([f"{PREFIX}lock:{subject}"] if unlock else [])
    _redis().delete(*keys)
