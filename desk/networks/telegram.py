"""Telegram: a bot in the channel and its discussion group."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models.types import Platform
from .spec import AccountField, NetworkSpec

SPEC = NetworkSpec(
    platform=Platform.TELEGRAM,
    label="Telegram",  # a name, the same in every language
    api_base_setting="TELEGRAM_API_BASE",
    api_base_default="https://api.telegram.org",
    settings=(
        AccountField("channel_id", _l("Channel id")),
        AccountField("channel_username", _l("Channel username")),
        AccountField("discussion_chat_id", _l("Discussion group id")),
    ),
    credentials=(
        AccountField("bot_token", _l("Bot token")),
        AccountField("webhook_secret", _l("Webhook secret")),
    ),
    integer_settings=frozenset({"channel_id", "discussion_chat_id", "bot_id"}),
    required_on_import=("bot_token",),
    reply_limit=4096,  # documented
    replies="automatic",
    deduped=False,
    webhook="desk.hooks.telegram.telegram_webhook",
    collector="workers.collectors.telegram",
    normaliser="desk.channels.telegram_events.normalize",
    sender="desk.replies.senders.send_telegram",
    rate_windows="desk.replies.senders.telegram_windows",
    echo="desk.channels.telegram_events.own_message",
    counter="workers.stats.telegram_counts",
    publisher="desk.registry.publishers.publish_telegram",
)
