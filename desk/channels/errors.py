"""How a network call failed, in the terms the callers act on.

- :class:`RetryableError`: nothing was done on the network's side (or it is safe to
  repeat): wait ``retry_after`` seconds (when the network said so) or back off, retry.
- :class:`PermanentError`: retrying won't help (bad token, chat not found, comments
  closed); show ``description`` to a person.
- :class:`UnknownOutcome`: the request may or may not have taken effect (timeout after
  sending a write): never retried automatically.
- :class:`MalformedResponse`: the body could not be parsed; retryable, and after the
  retries the payload goes to the dead-letter table.
"""
from __future__ import annotations


class ChannelError(Exception):
    def __init__(self, description: str, *, code: int | str | None = None, retry_after: float | None = None,
                 payload: str | None = None):
        super().__init__(description)
        self.description = description
        self.code = code
        self.retry_after = retry_after
        self.payload = payload


class RetryableError(ChannelError):
    pass


class MalformedResponse(RetryableError):
    pass


class PermanentError(ChannelError):
    pass


class UnknownOutcome(ChannelError):
    pass
