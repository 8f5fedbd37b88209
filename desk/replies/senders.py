"""How each network receives a reply: the rate windows it counts against, and the call.

``send(delivery, config)`` returns the posted message's network id and link, or raises
:mod:`desk.channels.errors`. It runs after the row was committed as ``sending``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from ..channels.errors import PermanentError
from ..channels.max import FORWARD_ONLY_PREFIX, MaxClient
from ..channels.telegram import TelegramClient
from ..channels.vk import USER_RPS, Place, VKClient, place_of, random_id_for
from ..models.replies import ReplyDelivery
from ..networks import SPECS, spec_for
from .ratelimit import Window, secret_key

# Limits the networks publish (PLATFORM_APIS.md); config may lower them.
TELEGRAM_PER_BOT = (30, 1.0)
TELEGRAM_PER_GROUP = (20, 60.0)
TELEGRAM_PER_PRIVATE_CHAT = (1, 1.0)
VK_PER_TOKEN = (20, 1.0)
VK_PER_USER_TOKEN = (int(USER_RPS), 1.0)  # photos, videos, goods, boards: a user token
MAX_PER_TOKEN = (30, 1.0)


@dataclass(frozen=True)
class Posted:
    external_id: str
    permalink: str = ""


#: decrypted credentials per process, keyed by the encrypted value (a changed secret is a new key)
_credentials: dict[tuple[int, str], dict[str, Any]] = {}


def _creds(delivery: ReplyDelivery) -> dict[str, Any]:
    account = delivery.account
    if account is None or not account.credentials_encrypted:
        return {}
    key = (account.id, account.credentials_encrypted)
    creds = _credentials.get(key)
    if creds is None:
        if len(_credentials) > 1000:
            _credentials.clear()
        creds = _credentials[key] = account.get_credentials()
    return creds


def _token(delivery: ReplyDelivery, name: str) -> str:
    """Credential ``name`` as the network's spec names it (a legacy name still reads)."""
    token = spec_for(delivery.platform).credential(_creds(delivery), name)
    if not token:
        raise PermanentError(f"the {delivery.platform} account has no {name}")
    return token


def _split_chat(external_id: str | None) -> tuple[str, int]:
    """Telegram ``"<chat id>:<message id>"``."""
    if not external_id or ":" not in external_id:
        raise PermanentError("the resident's message has no Telegram id to reply to")
    chat, message = external_id.rsplit(":", 1)
    return chat, int(message)


def _scaled(pair: tuple[int, float], config: Mapping[str, Any]) -> tuple[int, float]:
    scale = float(config["REPLY_RATE_WINDOW_SCALE"])  # benches shrink the windows
    return pair[0], pair[1] * scale


def windows(delivery: ReplyDelivery, config: Mapping[str, Any]) -> list[Window]:
    """The rate windows one send of this delivery counts against (the spec's ``rate_windows``)."""
    spec = SPECS.get(delivery.platform)
    counted: Callable[[ReplyDelivery, Mapping[str, Any]], list[Window]] | None = \
        spec.load("rate_windows") if spec is not None else None
    return counted(delivery, config) if counted is not None else []


def telegram_windows(delivery: ReplyDelivery, config: Mapping[str, Any]) -> list[Window]:
    token = _token(delivery, "bot_token")
    bot = secret_key(token)
    chat, _ = _split_chat(delivery.target_external_id)
    per_bot = _scaled(TELEGRAM_PER_BOT, config)
    result = [Window(f"tg:{bot}", *per_bot)]
    if chat.startswith("-"):
        result.append(Window(f"tg:{bot}:{chat}", *_scaled(TELEGRAM_PER_GROUP, config)))
    else:
        result.append(Window(f"tg:{bot}:{chat}", *_scaled(TELEGRAM_PER_PRIVATE_CHAT, config)))
    return result


def vk_windows(delivery: ReplyDelivery, config: Mapping[str, Any]) -> list[Window]:
    if place_of(delivery.thread_ref):
        # The key crossposting uses too: both count against the admin's user token.
        token = _token(delivery, "user_token")
        return [Window(f"vk:{secret_key(token)}", *_scaled(VK_PER_USER_TOKEN, config))]
    token = _token(delivery, "group_token")
    return [Window(f"vk:{secret_key(token)}", *_scaled(VK_PER_TOKEN, config))]


def max_windows(delivery: ReplyDelivery, config: Mapping[str, Any]) -> list[Window]:
    token = _token(delivery, "bot_token")
    return [Window(f"max:{secret_key(token)}", *_scaled(MAX_PER_TOKEN, config))]


# --- clients, one per (base, token) per process -------------------------------------------

class _Client(Protocol):
    def close(self) -> None: ...


Client = TypeVar("Client", bound=_Client)

_clients: dict[tuple[str, str, str], _Client] = {}


def _client(kind: str, base: str, token: str, factory: Callable[[], Client]) -> Client:
    key = (kind, base, token)
    if key not in _clients:
        _clients[key] = factory()
    return cast(Client, _clients[key])  # ``kind`` names the client class: one factory per kind


def close_clients() -> None:
    for client in _clients.values():
        client.close()
    _clients.clear()


# --- the calls ---------------------------------------------------------------------------------


def send_telegram(delivery: ReplyDelivery, config: Mapping[str, Any]) -> Posted:
    """sendMessage into the resident's chat as a reply to the resident's message; in a
    discussion group that puts it in the post's comment thread."""
    token = _token(delivery, "bot_token")
    chat, message_id = _split_chat(delivery.target_external_id)
    client = _client("tg", config["TELEGRAM_API_BASE"], token, lambda: TelegramClient(
        token, config["TELEGRAM_API_BASE"], timeout=float(config["REPLY_HTTP_TIMEOUT"])))
    params = {"chat_id": int(chat), "text": delivery.text,
              "reply_parameters": {"message_id": message_id, "allow_sending_without_reply": False}}
    result = client.call("sendMessage", params, idempotent=False)
    posted_id = result["message_id"]
    link = delivery.ticket.post.link if delivery.ticket.post else ""
    return Posted(f"{result['chat']['id']}:{posted_id}", f"{link}?comment={posted_id}" if link else "")


_WALL_REF = re.compile(r"^[a-z]*(-?\d+)_(\d+)$")


def _wall(ref: str | None) -> tuple[int, int] | None:
    match = _WALL_REF.match(ref or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def send_vk(delivery: ReplyDelivery, config: Mapping[str, Any]) -> Posted:
    """wall.createComment under the post, replying to the resident's comment, as the
    community; ``guid`` = the outbox key makes a repeated request harmless. A direct
    message (thread ``dm:<peer_id>``) is answered in the dialog instead, a comment under
    a photo, video, good or board topic (``photo:<owner>_<id>`` …) in its place."""
    elsewhere = place_of(delivery.thread_ref)
    if elsewhere is not None:
        return _send_vk_place_comment(delivery, config, *elsewhere)
    token = _token(delivery, "group_token")
    assert delivery.account is not None  # _token() found the account's credentials
    group_id = abs(int((delivery.account.settings or {}).get("group_id") or 0))
    client = _client("vk", config["VK_API_BASE"], token, lambda: VKClient(
        config["VK_API_BASE"], token, rps=float(config["VK_GROUP_RPS"])))
    if (delivery.thread_ref or "").startswith("dm:"):
        return _send_vk_message(delivery, client, group_id)
    post = _wall(delivery.thread_ref)
    if post is None or not group_id:
        raise PermanentError("this VK thread is neither a wall post nor a dialog")
    owner_id, post_id = post
    target = delivery.target_external_id or ""
    comment = _wall(target) if not target.startswith(("post", "wall")) else None
    result = client.create_comment(owner_id, post_id, delivery.text, from_group=group_id,
                                   reply_to_comment=comment[1] if comment else None, guid=delivery.outbox_key)
    comment_id = int(result["comment_id"])
    link = f"https://vk.com/wall{owner_id}_{post_id}?reply={comment_id}"
    stack = result.get("parents_stack") or []
    if stack:
        link += f"&thread={stack[0]}"
    return Posted(f"{owner_id}_{comment_id}", link)


def _send_vk_place_comment(delivery: ReplyDelivery, config: Mapping[str, Any], place: Place, owner_id: int,
                           object_id: int) -> Posted:
    """A comment as the community under the photo, video, good or board topic, replying
    to the resident's comment where VK has replies (not on a board). These methods take
    only a community admin's user token (``user_token``, as crossposting uses)."""
    token = _token(delivery, "user_token")
    client = _client("vk", config["VK_API_BASE"], token, lambda: VKClient(
        config["VK_API_BASE"], token, rps=float(config["VK_USER_RPS"])))
    target = place_of(delivery.target_external_id)
    reply_to = target[2] if target and target[0] == place and target[1] == owner_id else None
    text, guid = delivery.text, delivery.outbox_key
    if place.prefix == "board":
        if owner_id >= 0:
            raise PermanentError("this VK board topic is not a community's")
        comment_id = client.board_create_comment(-owner_id, object_id, text, guid=guid)
    else:
        create = {"photo": client.photos_create_comment, "video": client.video_create_comment,
                  "market": client.market_create_comment}[place.prefix]
        comment_id = create(owner_id, object_id, text, reply_to_comment=reply_to, guid=guid)
    link = place.link.format(owner=owner_id, object=object_id, comment=comment_id)
    return Posted(place.ref(owner_id, comment_id), link)


_DM_REF = re.compile(r"^dm:(-?\d+)(?::(\d+))?$")


def _send_vk_message(delivery: ReplyDelivery, client: VKClient, group_id: int) -> Posted:
    """A direct message is answered in the same dialog (``messages.send``), as a reply to
    the resident's message; ``random_id`` from the outbox key lets VK drop a repeat."""
    thread = _DM_REF.match(delivery.thread_ref or "")
    if thread is None:
        raise PermanentError("the VK dialog is unknown")
    peer_id = int(thread.group(1))
    target = _DM_REF.match(delivery.target_external_id or "")  # "dm:<peer_id>:<conversation_message_id>"
    cmid = int(target.group(2)) if target and target.group(2) and int(target.group(1)) == peer_id else None
    message_id = client.send_message(peer_id, delivery.text, random_id=random_id_for(delivery.outbox_key),
                                     reply_to_cmid=cmid)
    # "msg" keeps the community's message ids apart from the residents' conversation ids.
    link = f"https://vk.com/gim{group_id}?sel={peer_id}&msgid={message_id}" if group_id else ""
    return Posted(f"dm:{peer_id}:msg{message_id}", link)


def send_max(delivery: ReplyDelivery, config: Mapping[str, Any]) -> Posted:
    """A comment under the channel post with a reply link, or a chat message replying."""
    token = _token(delivery, "bot_token")
    client = _client("max", config["MAX_API_BASE"], token, lambda: MaxClient(
        config["MAX_API_BASE"], token, **({"timeout": config["MAX_HTTP_TIMEOUT"]}
                                         if config.get("MAX_HTTP_TIMEOUT") else {})))
    thread = delivery.thread_ref or ""
    target = delivery.target_external_id
    if target and target.startswith(FORWARD_ONLY_PREFIX):
        target = None  # nothing on MAX has this id: answer in the thread
    if thread.startswith("chat:"):
        body = client.send_message(thread[5:], delivery.text, reply_to=target)
    elif thread:
        body = client.send_comment(thread, delivery.text, reply_to=target)
    else:
        raise PermanentError("the MAX thread is unknown")
    message = body.get("message") or {}
    mid = (message.get("body") or {}).get("mid")
    if not mid:
        raise PermanentError("MAX answered without the posted message id")
    return Posted(str(mid), message.get("url") or "")


def send(delivery: ReplyDelivery, config: Mapping[str, Any]) -> Posted:
    """Post through the sender the network's spec names."""
    spec = SPECS.get(delivery.platform)
    sender: Callable[[ReplyDelivery, Mapping[str, Any]], Posted] | None = \
        spec.load("sender") if spec is not None else None
    if sender is None:
        raise PermanentError(f"{delivery.platform}: the desk cannot post there by itself")
    return sender(delivery, config)
