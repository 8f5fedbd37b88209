"""A small synchronous HTTP layer shared by the network clients.

It maps transport faults to :mod:`desk.channels.errors` and retries retryable ones
with exponential backoff and jitter, honouring a network's ``retry_after``. Clients
take their API base URL from config so tests talk to the fake servers over real HTTP.
"""
from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from .errors import MalformedResponse, RetryableError, UnknownOutcome

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=40.0, write=10.0, pool=5.0)


class HttpTransport:
    """One ``httpx.Client`` per network client; a call returns the decoded JSON body."""

    def __init__(self, base_url: str, *, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
                 headers: dict | None = None):
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(timeout=timeout, headers=headers or {})

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, path: str, *, idempotent: bool = True, **kwargs) -> tuple[int, Any]:
        """Send one request; returns (HTTP status, parsed JSON).

        A read timeout on a non-idempotent request raises :class:`UnknownOutcome`
        (the network may have acted on it); connect errors mean nothing was sent.
        """
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            response = self.client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise RetryableError(f"cannot connect: {exc.__class__.__name__}") from exc
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if idempotent:
                raise RetryableError(f"no answer: {exc.__class__.__name__}") from exc
            raise UnknownOutcome(f"no answer after sending: {exc.__class__.__name__}") from exc
        text = response.text
        if response.status_code >= 500 and response.status_code != 501:
            raise RetryableError(f"HTTP {response.status_code}", code=response.status_code, payload=text[:2000])
        try:
            body = json.loads(text) if text else None
        except ValueError as exc:
            if response.status_code == 429:
                raise RetryableError("HTTP 429", code=429, retry_after=_retry_after_header(response)) from exc
            raise MalformedResponse(f"malformed JSON (HTTP {response.status_code})", payload=text[:2000]) from exc
        return response.status_code, body


def _retry_after_header(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def with_retries(call: Callable[[], T], *, attempts: int = 5, base_delay: float = 0.5, max_delay: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``call``; on :class:`RetryableError` wait and try again, up to ``attempts``.

    The wait is the network's ``retry_after`` when given, else exponential backoff
    with full jitter. The last error is re-raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except RetryableError as exc:
            if attempt == attempts:
                raise
            delay = exc.retry_after if exc.retry_after is not None else \
                random.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1)))
            log.info("retryable network error (%s); attempt %d/%d, waiting %.2fs",
                     exc.description, attempt, attempts, delay)
            sleep(min(delay, max_delay))
    raise AssertionError("unreachable")
