"""Which public ids (``Account.settings``) and which secrets (``Account.credentials``)
each network's account carries. Collectors and reply senders read these keys."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class AccountField:
    key: str
    label: object  # a lazy string


# Public ids: shown and editable in the clear.
SETTINGS: dict[str, tuple[AccountField, ...]] = {
    "telegram": (
        AccountField("channel_id", _l("Channel id")),
        AccountField("channel_username", _l("Channel username")),
        AccountField("discussion_chat_id", _l("Discussion group id")),
    ),
    "vk": (
        AccountField("group_id", _l("Community id")),
        AccountField("screen_name", _l("Community short name")),
    ),
    "max": (
        AccountField("chat_id", _l("Channel chat id")),
        AccountField("channel_link", _l("Channel public link")),
    ),
    "ok": (
        AccountField("group_id", _l("Group id")),
        AccountField("application_key", _l("Application public key")),
    ),
}

# Secrets: write-only; the pages only say whether each one is set.
CREDENTIALS: dict[str, tuple[AccountField, ...]] = {
    "telegram": (
        AccountField("bot_token", _l("Bot token")),
        AccountField("webhook_secret", _l("Webhook secret")),
    ),
    "vk": (
        AccountField("access_token", _l("Community access token")),
        AccountField("service_token", _l("Service token")),
        AccountField("user_token", _l("Community admin's user token (answers under photos, videos, goods, topics)")),
        AccountField("callback_secret", _l("Callback API secret")),
        AccountField("confirmation_code", _l("Callback confirmation code")),
    ),
    "max": (
        AccountField("access_token", _l("Bot token")),
        AccountField("webhook_secret", _l("Webhook secret")),
    ),
    "ok": (
        AccountField("access_token", _l("Access token")),
        AccountField("application_secret_key", _l("Application secret key")),
    ),
}

PLATFORMS = tuple(SETTINGS)
