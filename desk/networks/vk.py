"""VK: a community, its wall, photos, videos, goods, board and messages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models.types import Platform
from .spec import AccountField, NetworkSpec

SPEC = NetworkSpec(
    platform=Platform.VK,
    label=_l("VK"),
    api_base_setting="VK_API_BASE",
    api_base_default="https://api.vk.com",
    settings=(
        AccountField("group_id", _l("Community id")),
        AccountField("screen_name", _l("Community short name")),
    ),
    credentials=(
        # The admin form stored it as "access_token" before the names were unified.
        AccountField("group_token", _l("Community access token"), legacy_keys=("access_token",)),
        AccountField("service_token", _l("Service token")),
        AccountField("user_token",
                     _l("Community admin's user token (answers under photos, videos, goods, topics)")),
        AccountField("callback_secret", _l("Callback API secret")),
        AccountField("confirmation_code", _l("Callback confirmation code")),
    ),
    integer_settings=frozenset({"group_id"}),
    required_on_import=("group_id",),
    reply_limit=16384,  # no documented limit for wall.createComment: what VK's own form accepts
    replies="automatic",
    deduped=True,  # guid / random_id = our outbox key
    webhook="desk.hooks.vk.vk_callback",
    collector="workers.collectors.vk",
    normaliser="desk.channels.vk_events.normalize",
    sender="desk.replies.senders.send_vk",
    rate_windows="desk.replies.senders.vk_windows",
    echo="desk.channels.vk_events.own_message",
    counter="workers.stats.vk_counts",
    publisher="desk.registry.publishers.publish_vk",
)
