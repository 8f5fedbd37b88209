"""A sliding-window rate limiter in Redis, shared by every worker.

One Lua script checks several windows at once (Telegram: the bot and the group) on
Redis' own clock, and takes a slot in all of them only when every one has room;
otherwise it answers how many milliseconds to wait. A sliding log (a sorted set of
send times) matches how the networks count: never more than ``limit`` sends in any
``window``. ``margin`` widens each window a little because a request reaches the
network a few milliseconds after its slot was taken; that delay does not grow with the
window, so the widening is capped at ``max_margin`` seconds (5% of Telegram's minute
would be 3 s lost per minute).
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from redis import Redis

PREFIX = "desk:rl:"

_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local oldest = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return tostring(math.ceil(wait)) end
local member = ARGV[#ARGV]
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 * i])) + 1000)
end
return '0'
"""


@dataclass(frozen=True)
class Window:
    """At most ``limit`` events in any ``seconds`` for ``key``."""

    key: str
    limit: int
    seconds: float


def secret_key(value: str) -> str:
    """A bucket name for a token that does not reveal the token."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


class RateLimiter:
    def __init__(self, redis: Redis[bytes], margin: float = 0.05, max_margin: float = 0.25):
        self.redis = redis
        self.margin = margin
        self.max_margin = max_margin
        self._script = redis.register_script(_SCRIPT)

    def acquire(self, windows: list[Window]) -> float:
        """Take a slot in every window: 0.0 when taken, else the seconds to wait."""
        if not windows:
            return 0.0
        keys = [PREFIX + w.key for w in windows]
        args: list[int | float | str] = []
        for w in windows:
            args += [w.limit, (w.seconds + min(w.seconds * self.margin, self.max_margin)) * 1000]
        args.append(uuid.uuid4().hex)
        waited = int(self._script(keys=keys, args=args))
        return waited / 1000.0

    def reset(self, windows: list[Window]) -> None:
        self.redis.delete(*[PREFIX + w.key for w in windows])


_limiters: dict[int, RateLimiter] = {}


def limiter_for(redis: Redis[bytes]) -> RateLimiter:
    """One limiter (its Lua script registered once) per Redis client, shared by every outbox."""
    limiter = _limiters.get(id(redis))
    if limiter is None or limiter.redis is not redis:  # a new client may reuse a freed id
        limiter = _limiters[id(redis)] = RateLimiter(redis)
    return limiter
