"""What the network clients return: normalised events, no database.

A collector turns each into a call of :mod:`desk.ingest`: an :class:`InboundMessage`
(re-exported here) becomes a ticket message, a :class:`PostSeen` a Post, a
:class:`CommentDeleted` / :class:`CommentRestored` marks a message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..ingest import InboundMessage

__all__ = ["InboundMessage", "PostSeen", "CommentDeleted", "CommentRestored", "Skipped", "ChannelEvent"]


@dataclass(frozen=True)
class PostSeen:
    """A post of the city's account (Telegram channel_post / auto-forward, VK wall_post_new …)."""

    account_id: int
    external_id: str
    text: str
    posted_at: datetime | None = None
    link: str = ""
    thread_ref: str | None = None


@dataclass(frozen=True)
class CommentDeleted:
    account_id: int
    external_id: str
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class CommentRestored:
    account_id: int
    external_id: str


@dataclass(frozen=True)
class Skipped:
    """An update deliberately not turned into a ticket (the city's own message, a bot,
    a reaction …); kept so counts and logs say why."""

    reason: str
    external_id: str | None = None


ChannelEvent = InboundMessage | PostSeen | CommentDeleted | CommentRestored | Skipped
