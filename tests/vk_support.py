"""Shared set-up for the VK collector tests: the strict fake and a community account on it."""
from __future__ import annotations

import pytest

from workers.collectors import vk as vk_collector

from .fakes.vk import FakeVK

GROUP = 12345678
OWNER = -GROUP
SECRET = "s3cr3t-callback"
CODE = "a1b2c3d4"
RESIDENTS = {1001: ("Иван", "Петров"), 1002: ("Мария", "Соколова"), 1003: ("Олег", "Ким"),
             1004: ("Анна", "Лис"), 1005: ("Пётр", "Орлов")}


@pytest.fixture
def fake(app):
    """The fake VK API with the city's community, another community (777) and five residents."""
    fake = FakeVK(seed=5).start()
    fake.add_token("group-token", "group", GROUP)
    fake.add_token("service-token", "service")
    fake.add_token("user-token", "user")
    fake.add_group(GROUP, "Администрация Белогорска", "belogorsk", members_count=48211)
    fake.add_group(777, "Новости Амура")
    for user_id, (first, last) in RESIDENTS.items():
        fake.add_user(user_id, first, last)
    app.config.update(VK_API_BASE=fake.url, VK_LONG_POLL_WAIT=0, VK_RETRY_BASE_DELAY=0.01)
    yield fake
    for client in vk_collector._clients.values():
        client.close()
    vk_collector._clients.clear()
    fake.stop()


def vk_account(make, **settings):
    return make.account("vk", name="Администрация Белогорска VK",
                        settings={"group_id": GROUP, "mention_keywords": ["Белогорск"], **settings},
                        credentials={"group_token": "group-token", "service_token": "service-token",
                                     "callback_secret": SECRET, "confirmation_code": CODE})


@pytest.fixture
def account(make):
    return vk_account(make)


__all__ = ["fake", "account", "vk_account", "GROUP", "OWNER", "SECRET", "CODE", "RESIDENTS"]
