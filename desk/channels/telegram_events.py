"""Telegram updates into desk events: the normaliser and the echo parser (no database).

Message ids are unique per chat only, so a message's ``external_id`` is
``"<chat id>:<message id>"``. Threads:

- a comment under a channel post: the id of the automatic forward that roots its thread
  in the discussion group (``thread_ref`` and ``post_ref``);
- a supergroup reply chain: Telegram sets ``message_thread_id`` there too, so a thread
  root is a post only when the message replies to the automatic forward itself; other
  messages of the thread name the root as an unconfirmed ``post_ref`` and ingest ties
  them to the post once (or if ever) its forward is recorded;
- a forum topic: ``topic:<chat id>:<topic id>``, never a post;
- the group itself: ``chat:<chat id>``; a direct message: ``dm:<chat id>``.

Service messages, bots, the city's own channel and group, reactions, member updates and
unknown update types are :class:`Skipped`; a payload that is not a Telegram update (no
chat, an id that is not a number) raises, so it becomes a dead letter.
"""
from __future__ import annotations

from typing import NamedTuple

from ..models import Account
from ..networks import credential
from ..text import clean_text
from .events import ChannelEvent, InboundMessage, OwnMessage, PostSeen, Skipped
from .payload import from_seconds, int_id, optional_int_id, seconds_or_now
from .telegram import message_text

SERVICE_USER_ID = 777000
MESSAGE_KINDS = ("message", "edited_message")
POST_KINDS = ("channel_post", "edited_channel_post")


class Thread(NamedTuple):
    """Where a message belongs: ``ref`` is the ticket's thread; ``post_ref`` the thread
    root that may be a channel post; ``post_confirmed`` whether it is known to be one."""

    ref: str
    post_ref: str | None
    post_confirmed: bool
    reply_to: str | None


def normalize(account: Account, update: dict) -> list[ChannelEvent]:
    if not isinstance(update, dict):
        raise ValueError("not a Telegram update (not an object)")
    update_id = int_id(update.get("update_id"), "update_id")
    for kind in MESSAGE_KINDS:
        if kind in update:
            return [_message(account, _object(update[kind]), is_edit=kind == "edited_message")]
    for kind in POST_KINDS:
        if kind in update:
            return [_channel_post(account, _object(update[kind]))]
    # Reactions, members, join requests, callback queries, business messages, kinds that
    # do not exist yet: nothing a resident asked the city.
    kinds = [str(k)[:40] for k in update if k != "update_id"]
    return [Skipped(f"update type {kinds[0] if kinds else 'empty'}", str(update_id))]


# --- rules ----------------------------------------------------------------------------


def _object(value) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("chat"), dict):
        raise ValueError("message without a chat")
    int_id(value.get("message_id"), "message_id")
    int_id(value["chat"].get("id"), "chat.id")
    return value


def _setting(account: Account, *names: str):
    for name in names:
        value = (account.settings or {}).get(name)
        if value not in (None, ""):
            return value
    return None


def _same_id(a, b) -> bool:
    return a is not None and b is not None and str(a) == str(b)


# Token-derived bot ids by the account's stored ciphertext: decrypting the credentials for
# every message costs more than the rest of its normalisation; a changed token is new ciphertext.
_bot_ids: dict[str | None, str | None] = {}


def _bot_id(account: Account) -> str | None:
    configured = _setting(account, "bot_id")
    if configured is not None:
        return str(configured)
    key = account.credentials_encrypted
    if key not in _bot_ids:
        if len(_bot_ids) > 1000:
            _bot_ids.clear()
        token = credential(account, "bot_token")
        _bot_ids[key] = token.split(":", 1)[0] or None
    return _bot_ids[key]


def _post_link(account: Account, post_id) -> str:
    username = _setting(account, "username", "channel_username")
    return f"https://t.me/{str(username).lstrip('@')}/{post_id}" if username and post_id else ""


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _channel_post(account: Account, post: dict) -> ChannelEvent:
    message_id = int_id(post["message_id"], "message_id")
    channel_id = _setting(account, "channel_id")
    if channel_id is not None and not _same_id(int_id(post["chat"]["id"], "chat.id"), channel_id):
        return Skipped("post of another channel", str(message_id))
    return PostSeen(account_id=account.id, external_id=str(message_id), text=message_text(post) or "",
                    posted_at=from_seconds(post.get("date")), link=_post_link(account, message_id))


def _auto_forward(account: Account, message: dict, chat_id: int) -> ChannelEvent:
    """The channel's post copied into the discussion group: the root of its comments."""
    message_id = int_id(message["message_id"], "message_id")
    discussion = _setting(account, "discussion_chat_id")
    if discussion is not None and not _same_id(chat_id, discussion):
        return Skipped("a chat other than the discussion group", f"{chat_id}:{message_id}")
    origin = _dict(message.get("forward_origin"))
    source = _dict(origin.get("chat")) or _dict(message.get("sender_chat")) or _dict(message.get("forward_from_chat"))
    channel_id = _setting(account, "channel_id")
    if channel_id is not None and source.get("id") is not None and not _same_id(source.get("id"), channel_id):
        return Skipped("post of another channel", f"{chat_id}:{message_id}")
    post_id = optional_int_id(origin.get("message_id", message.get("forward_from_message_id")), "forward_origin.message_id")
    if not post_id:
        raise ValueError("automatic forward without the channel post id")
    return PostSeen(account_id=account.id, external_id=str(post_id), text=message_text(message) or "",
                    posted_at=from_seconds(origin.get("date") or message.get("date")),
                    link=_post_link(account, post_id), thread_ref=str(message_id))


def _author(account: Account, message: dict, chat_id: int) -> tuple[str | None, str] | Skipped:
    """(author id, display name), or why the message is not a resident's."""
    sender_chat = message.get("sender_chat")
    if isinstance(sender_chat, dict):  # anonymous: sent on behalf of a channel or of the group itself
        sender_chat_id = int_id(sender_chat.get("id"), "sender_chat.id")
        reply = _dict(message.get("reply_to_message"))
        own = {str(v) for v in (_setting(account, "channel_id"), _setting(account, "discussion_chat_id"), chat_id)
               if v is not None}
        if reply.get("is_automatic_forward"):  # the channel whose post this thread discusses
            own.add(str(_dict(reply.get("sender_chat")).get("id")))
        if str(sender_chat_id) in own:
            return Skipped("the city's own channel or group", None)
        name = sender_chat.get("title") or sender_chat.get("username") or str(sender_chat_id)
        return str(sender_chat_id), clean_text(name)
    sender = _dict(message.get("from"))
    sender_id = optional_int_id(sender.get("id"), "from.id")
    if _same_id(sender_id, _bot_id(account)):
        return Skipped("the desk's own bot", None)
    if sender.get("is_bot") is True:
        return Skipped("a bot", None)
    if sender_id == SERVICE_USER_ID:
        return Skipped("Telegram service message", None)
    name = " ".join(clean_text(sender.get(p)) for p in ("first_name", "last_name") if clean_text(sender.get(p)))
    if not name and isinstance(sender.get("username"), str):
        name = "@" + sender["username"]
    return (str(sender_id) if sender_id is not None else None), name


def _thread(account: Account, message: dict, chat: dict, chat_id: int) -> Thread | Skipped:
    """Where a group message belongs: a channel post's comments, a reply chain, a forum
    topic or the chat itself (see :class:`Thread`)."""
    discussion = _setting(account, "discussion_chat_id")
    if discussion is not None and not _same_id(chat_id, discussion):
        return Skipped("a chat other than the discussion group", None)
    reply = _dict(message.get("reply_to_message"))
    reply_id = optional_int_id(reply.get("message_id"), "reply_to_message.message_id")
    root = optional_int_id(message.get("message_thread_id"), "message_thread_id")
    if root is None and reply.get("is_automatic_forward"):
        root = reply_id  # a client that sends no thread id: the reply target is the root
    topic = bool(message.get("is_topic_message") and chat.get("is_forum"))
    reply_to = None
    # Replying to the post's forward or to a topic's first message is writing in that
    # thread, not answering someone.
    if reply_id is not None and not reply.get("is_automatic_forward") and not (topic and reply_id == root):
        reply_to = f"{chat_id}:{reply_id}"
    if root is None:
        return Thread(f"chat:{chat_id}", None, False, reply_to)
    if topic:
        return Thread(f"topic:{chat_id}:{root}", None, False, reply_to)
    # A thread in a supergroup is a channel post's comments only if its root is the post's
    # automatic forward; a reply chain has a thread id too. Known only when the reply
    # target is that forward; otherwise ingest joins the post if and when it is known.
    confirmed = bool(reply.get("is_automatic_forward")) and reply_id == root
    return Thread(str(root), str(root), confirmed, reply_to)


def _message(account: Account, message: dict, *, is_edit: bool) -> ChannelEvent:
    chat = message["chat"]
    chat_id = int_id(chat.get("id"), "chat.id")
    message_id = int_id(message["message_id"], "message_id")
    external_id = f"{chat_id}:{message_id}"
    if message.get("is_automatic_forward"):
        return _auto_forward(account, message, chat_id)
    author = _author(account, message, chat_id)
    if isinstance(author, Skipped):
        return Skipped(author.reason, external_id)
    text = message_text(message)
    if text is None:
        return Skipped("service message", external_id)
    thread: Thread | Skipped
    if chat.get("type") == "private":
        thread = Thread(f"dm:{chat_id}", None, False, None)
    else:
        thread = _thread(account, message, chat, chat_id)
        if isinstance(thread, Skipped):
            return Skipped(thread.reason, external_id)
    permalink = ""
    origin = _dict(_dict(message.get("reply_to_message")).get("forward_origin"))
    if thread.post_confirmed and origin.get("message_id") is not None:
        link = _post_link(account, int_id(origin["message_id"], "forward_origin.message_id"))
        permalink = f"{link}?comment={message_id}" if link else ""
    author_id, author_name = author
    return InboundMessage(
        account_id=account.id, external_id=external_id, text=text, sent_at=from_seconds(message.get("date")),
        author_id=author_id, author_name=author_name, thread_ref=thread.ref, post_ref=thread.post_ref,
        post_ref_confirmed=thread.post_confirmed, reply_to_external_id=thread.reply_to, permalink=permalink,
        is_edit=is_edit, edited_at=from_seconds(message.get("edit_date"), "edit_date") if is_edit else None)


# --- the city's own message coming back (desk.replies.echo) ---------------------------


def own_message(account: Account, update: dict) -> OwnMessage | None:
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict):
        return None
    sender = message.get("from") or {}
    bot_id = (account.settings or {}).get("bot_id") or credential(account, "bot_token").split(":", 1)[0]
    if not sender.get("is_bot") or str(sender.get("id")) != str(bot_id):
        return None
    chat = message["chat"]["id"]
    reply = message.get("reply_to_message") or {}
    return OwnMessage(f"{chat}:{message['message_id']}",
                      f"{chat}:{reply['message_id']}" if reply.get("message_id") else None,
                      str(message["message_thread_id"]) if message.get("message_thread_id") else None,
                      message.get("text") or "", seconds_or_now(message.get("date")))
