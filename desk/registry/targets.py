"""Where an account's own channel is on its network, from the account's settings."""
from __future__ import annotations

from ..channels.errors import PermanentError
from ..models import Account


def required_setting(account: Account, name: str) -> str:
    value = (account.settings or {}).get(name)
    if value in (None, ""):
        raise PermanentError(f"the {account.platform} account has no {name} setting")
    return str(value)


def telegram_channel(account: Account) -> int | str:
    """The channel's numeric id, else ``@username`` (public channels)."""
    settings = account.settings or {}
    username = settings.get("username") or settings.get("channel_username")
    chat_id = settings.get("channel_id") or (f"@{username.lstrip('@')}" if username else None)
    if not chat_id:
        raise PermanentError("the Telegram account has no channel_id or username setting")
    return chat_id


def telegram_username(account: Account) -> str | None:
    settings = account.settings or {}
    username = settings.get("username") or settings.get("channel_username")
    return username.lstrip("@") if username else None
