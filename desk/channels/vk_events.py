"""VK payloads into desk events: the normaliser and the echo parser (no database, no Redis).

One Callback API event (also what the Bots Long Poll, backfill and mentions hand over)
becomes :mod:`desk.channels.events`. Comment ids are unique per wall, so a comment's
``external_id`` is ``"<owner_id>_<comment id>"``; its ``thread_ref``/``post_ref`` is the
post, ``"<owner_id>_<post id>"`` (also the :class:`PostSeen` id of the city's
``wall_post_new``; a resident's post on the wall is itself a message,
``post<owner_id>_<post id>``). Comments under the community's photos, videos, goods and
board topics are appeals too (``photo_comment_*``, ``video_comment_*``,
``market_comment_*``, ``board_post_*``, with the same comment object): their refs carry
the place, ``photo:<owner_id>_<id>`` (see :class:`Place`), and they have no post. A direct
message's thread is ``dm:<peer_id>``; ``message_edit`` edits it like ``wall_reply_edit``
edits a comment, the community's own messages (``message_reply``, ``out``) and chat
service messages are skipped.

Ids are numbers or numeric strings (as VK's SDKs accept); anything else raises, and the
event becomes a dead letter. An author is named ``id<N>`` / ``club<N>`` here; the
collector puts the name it resolved for the batch in its place (``complete``).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..models import Account, utcnow
from .errors import PermanentError
from .events import ChannelEvent, CommentDeleted, CommentRestored, InboundMessage, OwnMessage, PostSeen, Skipped
from .payload import from_seconds, int_id, loose_int_id, optional_int_id, seconds_or_now
from .vk import PLACES, Place, item_text

MENTION = "mention"  # our own envelope type for a newsfeed.search hit (see workers.collectors.vk_history)


def group_id_of(account: Account) -> int:
    value = (account.settings or {}).get("group_id")
    if not value:
        raise PermanentError("the VK account has no group_id setting")
    return abs(int(value))


def fallback_name(author_id: int) -> str:
    """What an author is called until the collector has resolved the name."""
    return f"id{author_id}" if author_id > 0 else f"club{-author_id}"


def normalize(account: Account, update: dict) -> list[ChannelEvent]:
    if not isinstance(update, dict) or not isinstance(update.get("type"), str):
        raise ValueError("not a VK event (no type)")
    kind, obj = update["type"], update.get("object")
    event_id = update.get("event_id")
    handler = HANDLERS.get(kind)
    if handler is None:
        # Likes, joins, votes, donut, kinds that do not exist yet: nothing a resident asked.
        return [Skipped(f"event type {kind[:40]}", str(event_id) if event_id is not None else None)]
    if not isinstance(obj, dict):
        raise ValueError(f"{kind} without an object")
    if kind == MENTION:
        return handler(account, 0, obj)
    group_id = group_id_of(account)
    event_group = optional_int_id(update.get("group_id"), "group_id")
    if event_group is not None and abs(event_group) != group_id:
        raise ValueError(f"event of community {event_group}, not of this account's {group_id}")
    return handler(account, group_id, obj)


def _when(value: Any, name: str = "date") -> datetime:
    return from_seconds(value, name) or utcnow()


def wall_ref(owner_id: int, item_id: int) -> str:
    return f"{owner_id}_{item_id}"


def _comment(account: Account, group_id: int, place: Place, c: dict, is_edit: bool = False) -> ChannelEvent:
    owner_id = place.owner(c, group_id)
    comment_id = int_id(c.get("id"), "id")
    object_id = int_id(c.get(place.object_field), place.object_field)
    from_id = int_id(c.get("from_id"), "from_id")
    external_id = place.ref(owner_id, comment_id)
    if from_id == -group_id:
        return Skipped("own comment", external_id)
    if c.get("deleted"):
        return Skipped("deleted comment", external_id)
    thread_ref = place.ref(owner_id, object_id)
    reply_to = optional_int_id(c.get("reply_to_comment"), "reply_to_comment")
    link = place.link.format(owner=owner_id, object=object_id, comment=comment_id)
    parents = c.get("parents_stack")
    top = loose_int_id(parents[0]) if not place.prefix and isinstance(parents, list) and parents else None
    if top is not None:  # only the link needs it: an odd value must not cost the comment
        link += f"&thread={top}"
    return InboundMessage(
        account_id=account.id, external_id=external_id, text=item_text(c), sent_at=_when(c.get("date")),
        author_id=str(from_id), author_name=fallback_name(from_id), thread_ref=thread_ref,
        post_ref=thread_ref if not place.prefix else None,  # only wall posts are the city's posts
        reply_to_external_id=place.ref(owner_id, reply_to) if reply_to else None, permalink=link,
        is_edit=is_edit, edited_at=utcnow() if is_edit else None)


def _comment_event(place: Place, action: str) -> Callable[[Account, int, dict], list[ChannelEvent]]:
    def handle(account: Account, group_id: int, obj: dict) -> list[ChannelEvent]:
        if action == "delete":
            # VK sends ``deleter_id``; the schema names ``user_id``: neither is needed here.
            owner_id = place.owner(obj, group_id)
            return [CommentDeleted(account.id, place.ref(owner_id, int_id(obj.get("id"), "id")))]
        event = _comment(account, group_id, place, obj, is_edit=action == "edit")
        if action == "restore" and not isinstance(event, Skipped):
            # The restored comment may never have been seen: ingest it (a duplicate if it was).
            return [event, CommentRestored(account.id, event.external_id)]
        return [event]

    return handle


def _post_new(account: Account, group_id: int, post: dict) -> list[ChannelEvent]:
    owner_id = optional_int_id(post.get("owner_id"), "owner_id") or -group_id
    ref = wall_ref(owner_id, int_id(post.get("id"), "id"))
    link = f"https://vk.com/wall{ref}"
    from_id = optional_int_id(post.get("from_id"), "from_id") or owner_id
    if post.get("post_type") == "suggest" or from_id > 0:
        # A resident's post on an open wall, or one suggested for moderation: an appeal, not the city's post.
        return [InboundMessage(account_id=account.id, external_id=f"post{ref}", text=item_text(post),
                               sent_at=_when(post.get("date")), author_id=str(from_id),
                               author_name=fallback_name(from_id), thread_ref=ref, permalink=link)]
    return [PostSeen(account_id=account.id, external_id=ref, text=item_text(post), posted_at=_when(post.get("date")),
                     link=link, thread_ref=ref)]


def _dialog_message(account: Account, group_id: int, obj: dict, *, is_edit: bool = False) -> list[ChannelEvent]:
    """A direct message: ``message_new`` wraps it as ``{message, client_info}`` since API
    5.103 (the object itself before); ``message_edit`` is the message object."""
    inner = obj.get("message")
    message: dict[str, Any] = inner if isinstance(inner, dict) else obj
    from_id = int_id(message.get("from_id", message.get("user_id")), "from_id")
    peer_id = optional_int_id(message.get("peer_id"), "peer_id") or from_id
    number = optional_int_id(message.get("conversation_message_id"), "conversation_message_id") \
        or int_id(message.get("id"), "id")
    external_id = f"dm:{peer_id}:{number}"
    if from_id <= 0 or message.get("out") in (1, True, "1"):
        return [Skipped("message of a community", external_id)]
    if message.get("action"):  # someone joined or left a chat, a title changed, a pin …
        return [Skipped("service message", external_id)]
    edited_at = (from_seconds(message.get("update_time"), "update_time") or utcnow()) if is_edit else None
    return [InboundMessage(account_id=account.id, external_id=external_id, text=item_text(message),
                           sent_at=_when(message.get("date")), author_id=str(from_id),
                           author_name=fallback_name(from_id), thread_ref=f"dm:{peer_id}",
                           permalink=f"https://vk.com/gim{group_id}?sel={peer_id}", is_edit=is_edit,
                           edited_at=edited_at)]


def _message_edit(account: Account, group_id: int, obj: dict) -> list[ChannelEvent]:
    return _dialog_message(account, group_id, obj, is_edit=True)


def _message_reply(account: Account, group_id: int, obj: dict) -> list[ChannelEvent]:
    return [Skipped("message of a community", None)]  # the community's own outgoing message


def _mention(account: Account, _group_id: int, post: dict) -> list[ChannelEvent]:
    owner_id, post_id = int_id(post.get("owner_id"), "owner_id"), int_id(post.get("id"), "id")
    ref = wall_ref(owner_id, post_id)
    author = optional_int_id(post.get("from_id"), "from_id") or owner_id
    return [InboundMessage(account_id=account.id, external_id=f"wall{ref}", text=item_text(post),
                           sent_at=_when(post.get("date")), author_id=str(author), author_name=fallback_name(author),
                           thread_ref=f"wall{ref}", permalink=f"https://vk.com/wall{ref}", is_mention=True)]


HANDLERS: dict[str, Callable[[Account, int, dict], list[ChannelEvent]]] = {
    "wall_post_new": _post_new,
    "message_new": _dialog_message,
    "message_edit": _message_edit,
    "message_reply": _message_reply,
    MENTION: _mention,
    **{f"{name}_{action}": _comment_event(place, action)
       for name, place in PLACES.items() for action in ("new", "edit", "restore", "delete")},
}


# --- the city's own comment coming back (desk.replies.echo) ---------------------------------


def own_message(account: Account, update: dict) -> OwnMessage | None:
    """The community's new comment on the wall, a photo, a video, a good or a board topic
    (``wall_reply_new``, ``photo_comment_new`` …), with the refs :func:`normalize` gives."""
    family, _, action = str(update.get("type")).rpartition("_")
    place = PLACES.get(family)
    if place is None or action != "new":
        return None
    obj = update.get("object") or {}
    group_id = abs(int((account.settings or {}).get("group_id") or 0))
    if not group_id or int(obj.get("from_id") or 0) != -group_id:
        return None
    owner = place.owner(obj, group_id)
    reply_to = obj.get("reply_to_comment")
    return OwnMessage(place.ref(owner, int(obj["id"])), place.ref(owner, int(reply_to)) if reply_to else None,
                      place.ref(owner, int(obj[place.object_field])), obj.get("text") or "",
                      seconds_or_now(obj.get("date")), by_thread=not reply_to)
