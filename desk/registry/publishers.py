"""How an announcement is published on each network: the rate windows it counts against, and the call.

A publisher takes the outbox row (:class:`AnnouncementDelivery`, its account and
announcement loaded) and the config and returns ``(windows, call)``; ``call()`` runs
after the claim's commit and returns the post's network id and link, or raises
:mod:`desk.channels.errors`. The windows use the same Redis keys as the replies of the
same bot or token, so both together stay under the network's limit.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import closing
from typing import Any

from ..channels.errors import MalformedResponse, PermanentError
from ..channels.max import MaxClient
from ..channels.telegram import TelegramClient
from ..channels.vk import USER_RPS, VKClient
from ..links import http_url
from ..models.announcements import AnnouncementDelivery
from ..networks import credential
from ..replies.ratelimit import Window, secret_key
from ..replies.senders import MAX_PER_TOKEN, TELEGRAM_PER_BOT, TELEGRAM_PER_GROUP, Posted
from .targets import required_setting, telegram_channel, telegram_username

Publisher = Callable[[AnnouncementDelivery, Mapping[str, Any]], tuple[list[Window], Callable[[], Posted]]]


def _token(delivery: AnnouncementDelivery, name: str) -> str:
    token = credential(delivery.account, name)
    if not token:
        raise PermanentError(f"the {delivery.platform} account has no {name}")
    return str(token)


def publish_telegram(delivery: AnnouncementDelivery, config: Mapping[str, Any]) -> tuple[list[Window], Callable[[], Posted]]:
    token, chat = _token(delivery, "bot_token"), telegram_channel(delivery.account)
    bot = secret_key(token)
    windows = [Window(f"tg:{bot}", *TELEGRAM_PER_BOT), Window(f"tg:{bot}:{chat}", *TELEGRAM_PER_GROUP)]

    def call() -> Posted:
        with closing(TelegramClient(token, config["TELEGRAM_API_BASE"],
                                     timeout=float(config["REPLY_HTTP_TIMEOUT"]))) as client:
            result = client.send_message(chat, delivery.announcement.text)
        username = telegram_username(delivery.account)
        link = f"https://t.me/{username}/{result['message_id']}" if username else ""
        return Posted(f"{result['chat']['id']}:{result['message_id']}", link)

    return windows, call


def publish_vk(delivery: AnnouncementDelivery, config: Mapping[str, Any]) -> tuple[list[Window], Callable[[], Posted]]:
    # wall.post takes a user token of a community admin; a community token is refused
    token, group_id = _token(delivery, "user_token"), abs(int(required_setting(delivery.account, "group_id")))

    def call() -> Posted:
        with VKClient(config["VK_API_BASE"], token, rps=0) as client:
            result = client.wall_post(-group_id, delivery.announcement.text, from_group=True,
                                      guid=delivery.outbox_key)
        return Posted(f"-{group_id}_{result['post_id']}", f"https://vk.com/wall-{group_id}_{result['post_id']}")

    return [Window(f"vk:{secret_key(token)}", int(USER_RPS), 1.0)], call


def publish_max(delivery: AnnouncementDelivery, config: Mapping[str, Any]) -> tuple[list[Window], Callable[[], Posted]]:
    token = _token(delivery, "bot_token")
    chat_id = required_setting(delivery.account, "chat_id")

    def call() -> Posted:
        kwargs = {"timeout": config["MAX_HTTP_TIMEOUT"]} if config.get("MAX_HTTP_TIMEOUT") else {}
        with MaxClient(config["MAX_API_BASE"], token, **kwargs) as client:
            message = client.send_message(chat_id, delivery.announcement.text).get("message") or {}
        mid = (message.get("body") or {}).get("mid")
        if not mid:
            raise MalformedResponse("MAX answered without the posted message id")
        return Posted(str(mid), http_url(message.get("url")) or "")

    return [Window(f"max:{secret_key(token)}", *MAX_PER_TOKEN)], call


#: networks a bot can publish on, and how
PUBLISHERS: dict[str, Publisher] = {"telegram": publish_telegram, "vk": publish_vk, "max": publish_max}
