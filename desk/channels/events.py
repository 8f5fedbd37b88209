"""What the network clients return: normalised events, no database.

A collector turns each into a call of :mod:`desk.ingest`: an :class:`InboundMessage`
(re-exported here) becomes a ticket message, a :class:`PostSeen` a Post, a
:class:`CommentDeleted` / :class:`CommentRestored` marks a message. An
:class:`OwnMessage` is the city's own message read back from an update
(:mod:`desk.replies.echo` settles its outbox row).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..ingest import InboundMessage

__all__ = ["InboundMessage", "PostSeen", "CommentDeleted", "CommentRestored", "Skipped", "ChannelEvent", "OwnMessage"]


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


@dataclass(frozen=True)
class OwnMessage:
    """The city's own message in an update (a spec's ``echo`` parser finds it)."""

    external_id: str
    target_external_id: str | None
    thread_ref: str | None
    text: str
    sent_at: datetime
    # No sender on the update (MAX may omit it): ours only if an outbox row matches it.
    anonymous: bool = False
    # Replies to nothing (a VK board has no replies): a row still posting is found by its
    # thread and text, when it is the only one that could be it.
    by_thread: bool = False
