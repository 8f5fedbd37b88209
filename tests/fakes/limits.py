"""Strict rate limits for the Telegram and MAX fakes (VK's fake enforces its own).

``strict_telegram(fake)`` answers ``sendMessage`` with 429 and ``retry_after`` beyond
30 messages a second per bot or 20 a minute per group (1 a second per private chat);
``strict_max(fake)`` answers 429 beyond 30 requests a second. Both count what they
refused in ``fake.refused``. ``scale`` shrinks the windows (benches).
"""
from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

from .max import error as max_error
from .telegram import ApiError


class SlidingWindows:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, deque] = defaultdict(deque)

    def admit(self, rules: list[tuple[str, int, float]]) -> float:
        """0 when every (key, limit, seconds) window has room (and takes it), else the wait."""
        now = time.monotonic()
        with self.lock:
            wait = 0.0
            for key, limit, seconds in rules:
                times = self.sent[key]
                while times and now - times[0] >= seconds:
                    times.popleft()
                if len(times) >= limit:
                    wait = max(wait, times[0] + seconds - now)
            if wait > 0:
                return wait
            for key, _limit, _seconds in rules:
                self.sent[key].append(now)
            return 0.0


def strict_telegram(fake, scale: float = 1.0):
    windows = SlidingWindows()
    fake.refused = 0
    original = fake.handle

    def handle(bot, method, params):
        if method == "sendMessage":
            chat = str(params.get("chat_id"))
            group = chat.startswith("-")
            rules = [(f"bot:{bot.token}", 30, 1.0 * scale),
                     (f"chat:{bot.token}:{chat}", 20 if group else 1, (60.0 if group else 1.0) * scale)]
            wait = windows.admit(rules)
            if wait > 0:
                fake.refused += 1
                retry = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        return original(bot, method, params)

    fake.handle = handle
    return fake


def strict_max(fake, scale: float = 1.0):
    windows = SlidingWindows()
    fake.refused = 0
    original = fake.dispatch

    def dispatch(request):
        token_window = (f"token:{request.headers.get('Authorization')}", 30, 1.0 * scale)
        if request.method == "POST" and request.path.startswith("/messages") and windows.admit([token_window]) > 0:
            fake.refused += 1
            return max_error(429, "too.many.requests", "Too many requests")
        return original(request)

    fake.dispatch = dispatch
    return fake
