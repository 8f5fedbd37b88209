"""Shared set-up for the Telegram collector tests: the fake server and an account on it."""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Message, Post, Ticket

from .fakes.telegram import FakeBot, FakeTelegram


@pytest.fixture
def fake_tg(app):
    fake = FakeTelegram(seed=7, max_long_poll=1.0).start()
    app.config["TELEGRAM_API_BASE"] = fake.url
    app.config["TELEGRAM_HTTP_TIMEOUT"] = 2
    yield fake
    fake.stop()


@pytest.fixture
def tg_bot(fake_tg) -> FakeBot:
    return fake_tg.add_bot()


def telegram_account(make, bot: FakeBot, **settings):
    return make.account(
        "telegram", settings={"channel_id": bot.channel_id, "discussion_chat_id": bot.discussion_chat_id,
                              "username": bot.channel_username, **settings},
        credentials={"bot_token": bot.token, "webhook_secret": "s3cret_-Token"})


@pytest.fixture
def tg_account(make, tg_bot):
    return telegram_account(make, tg_bot)


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def texts() -> list[str]:
    return sorted(db.session.scalars(db.select(Message.text)).all())


__all__ = ["fake_tg", "tg_bot", "tg_account", "telegram_account", "count", "texts", "Message", "Post", "Ticket"]
