"""A thin synchronous client of the OK (Odnoklassniki) REST API, ``/fb.do``.

Every call is signed (OAuth token flow): ``secret_key = md5(access_token +
application_secret)``, ``sig = md5(sorted "k=v" of every parameter except
``access_token`` and ``sig``, concatenated, + secret_key)``, hashed as UTF-8. The
parameters travel in a POST body so the token never appears in a URL or a log line.
OK answers errors with HTTP 200 and ``{"error_code", "error_msg"}``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .errors import MalformedResponse, PermanentError, RetryableError
from .http import DEFAULT_TIMEOUT, HttpTransport
from .payload import from_ms

__all__ = ["OkClient", "from_ms", "parse_date", "sign"]

#: unknown, service unavailable, flood control: OK says try again later
RETRYABLE_CODES = {1, 2, 8}
COMMENT_FIELDS = ",".join(f"comment.{f}" for f in ("ID", "AUTHOR_ID", "AUTHOR_NAME", "TEXT", "DATE", "TYPE",
                                                   "REPLY_TO_ID", "REPLY_TO_COMMENT_ID"))
USER_FIELDS = "first_name,last_name,name"
#: OK's server clock, for the rare payload that has only a "date" string [G]
MOSCOW = timezone(timedelta(hours=3))


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def sign(params: Mapping[str, Any], access_token: str, application_secret: str) -> str:
    """OK's request signature for the OAuth token flow (see module doc)."""
    secret_key = md5_hex(access_token + application_secret)
    pairs = sorted((f"{key}={value}" for key, value in params.items() if key not in ("access_token", "sig")),
                   key=lambda pair: pair.encode("utf-8"))  # byte order
    return md5_hex("".join(pairs) + secret_key)


def parse_date(comment: Mapping[str, Any]) -> datetime | None:
    """A comment's time: ``date_ms`` (a number or a numeric string) when present, else
    OK's "YYYY-MM-DD hh:mm:ss"; ``None`` when it has neither (the desk then uses the
    time it read the comment). A value that is not a time raises ``ValueError``."""
    moment = from_ms(comment.get("date_ms"))
    if moment is not None:
        return moment
    text = comment.get("date")
    if text in (None, ""):
        return None
    if not isinstance(text, str):
        raise ValueError(f"comment date is not a string: {text!r}"[:200])
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=MOSCOW).astimezone(UTC)


class OkClient:
    def __init__(self, base_url: str, *, application_key: str, application_secret: str, access_token: str,
                 timeout: Any = DEFAULT_TIMEOUT):
        if not (application_key and application_secret and access_token):
            raise PermanentError("the OK account lacks application_key, application_secret or access_token")
        self.application_key = application_key
        self._secret = application_secret
        self._token = access_token
        self.transport = HttpTransport(base_url, timeout=timeout)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> OkClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, method: str, **params: Any) -> Any:
        """Call one REST method; returns the decoded body or raises a ChannelError."""
        signed = {"application_key": self.application_key, "format": "json", "method": method,
                  **{k: str(v) for k, v in params.items() if v is not None}}
        signed["sig"] = sign(signed, self._token, self._secret)
        signed["access_token"] = self._token
        status, body = self.transport.call("POST", "/fb.do", data=signed)
        if isinstance(body, dict) and "error_code" in body:
            code = body.get("error_code")
            message = f"OK error {code}: {body.get('error_msg') or ''}".strip()
            if code in RETRYABLE_CODES:
                raise RetryableError(message, code=code)
            raise PermanentError(message, code=code)
        if status >= 400:
            raise PermanentError(f"HTTP {status} from OK", code=status)
        if body is None:
            raise MalformedResponse(f"empty OK answer to {method}")
        return body

    def get_topics(self, group_id: str, *, count: int = 20) -> list[dict]:
        """The group's latest topics (posts), newest first."""
        body = self.call("mediatopic.getTopics", gid=group_id, count=count)
        topics = body.get("media_topics") if isinstance(body, dict) else None
        if not isinstance(topics, list):
            raise MalformedResponse("mediatopic.getTopics without media_topics", payload=str(body)[:2000])
        return topics

    def get_comments(self, topic_id: str, anchor: str | None, *, count: int = 100,
                     direction: str = "FORWARD") -> dict:
        """One page of a group topic's comments after ``anchor`` (oldest first)."""
        body = self.call("discussions.getComments", discussionId=topic_id, discussionType="GROUP_TOPIC",
                         count=count, anchor=anchor, direction=direction, fields=COMMENT_FIELDS)
        if not isinstance(body, dict) or not isinstance(body.get("comments", []), list):
            raise MalformedResponse("discussions.getComments without comments", payload=str(body)[:2000])
        return body

    def group_info(self, group_id: str) -> dict:
        """``group.getInfo`` with ``members_count`` (an array; some docs wrap it in ``groups``)."""
        body = self.call("group.getInfo", uids=group_id, fields="uid,name,members_count")
        groups = body.get("groups") if isinstance(body, dict) else body
        if not isinstance(groups, list) or not groups:
            raise MalformedResponse("group.getInfo without the group", payload=str(body)[:2000])
        return groups[0]

    def users_info(self, uids: list[str]) -> list[dict]:
        """``users.getInfo`` for up to 100 users: ``uid``, ``first_name``, ``last_name``, ``name``."""
        body = self.call("users.getInfo", uids=",".join(uids), fields=USER_FIELDS)
        users = body.get("users") if isinstance(body, dict) else body
        if not isinstance(users, list):
            raise MalformedResponse("users.getInfo without a list of users", payload=str(body)[:2000])
        return [user for user in users if isinstance(user, dict)]
