"""Odnoklassniki: a group's topics and their comments, read with a signed API."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models.types import Platform
from .spec import AccountField, NetworkSpec

SPEC = NetworkSpec(
    platform=Platform.OK,
    label=_l("Odnoklassniki"),
    api_base_setting="OK_API_BASE",
    api_base_default="https://api.ok.ru",
    settings=(
        AccountField("group_id", _l("Group id")),
        AccountField("application_key", _l("Application public key")),
    ),
    credentials=(
        AccountField("access_token", _l("Access token")),
        # The admin form stored it as "application_secret_key" before the names were unified.
        AccountField("application_secret", _l("Application secret key"), legacy_keys=("application_secret_key",)),
        AccountField("webhook_token", _l("Webhook token")),
    ),
    integer_settings=frozenset(),
    required_on_import=("group_id",),
    reply_limit=4096,
    replies="manual",
    deduped=False,
    webhook="desk.hooks.ok.ok_webhook",
    collector="workers.collectors.ok",
    normaliser="desk.channels.ok_events.normalize",
    sender=None,
    rate_windows=None,
    echo=None,
    counter="workers.stats.ok_counts",
    publisher=None,
    absent={
        "sender": "OK has no public method to answer a group's comments: a person posts the reply",
        "rate_windows": "nothing is sent automatically",
        "echo": "nothing is sent automatically, so nothing comes back to settle",
        "publisher": "OK has no public posting method for groups",
    },
)
