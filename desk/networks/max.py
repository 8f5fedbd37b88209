"""MAX: a bot in the channel (comments under posts) and in chats."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models.types import Platform
from .spec import AccountField, NetworkSpec

SPEC = NetworkSpec(
    platform=Platform.MAX,
    label="MAX",  # a name, the same in every language
    api_base_setting="MAX_API_BASE",
    api_base_default="https://platform-api2.max.ru",
    settings=(
        AccountField("chat_id", _l("Channel chat id")),
        AccountField("channel_link", _l("Channel public link")),
    ),
    credentials=(
        # The admin form stored it as "access_token" before the names were unified.
        AccountField("bot_token", _l("Bot token"), legacy_keys=("access_token",)),
        AccountField("webhook_secret", _l("Webhook secret")),
    ),
    integer_settings=frozenset({"chat_id"}),
    required_on_import=("chat_id",),
    reply_limit=4000,  # documented
    replies="automatic",
    deduped=False,
    webhook="desk.hooks.max.max_webhook",
    collector="workers.collectors.max",
    normaliser="desk.channels.max_events.normalize",
    sender="desk.replies.senders.send_max",
    rate_windows="desk.replies.senders.max_windows",
    echo="desk.channels.max_events.own_message",
    counter="workers.stats.max_counts",
    publisher="desk.registry.publishers.publish_max",
)
