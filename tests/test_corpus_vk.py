"""The VK real-payload corpus (``tests/corpus/vk``) through both real paths.

Every case is delivered as VK would: POSTed to ``/hooks/vk/<id>`` with the secret in
the body and applied by a burst RQ worker, and returned verbatim by the fake's Bots
Long Poll to the polling collector. Authors' names are resolved against the fake API
(residents 1001–1005 and the community 777 of :mod:`tests.vk_support`). The database
change must be the case's expected outcome (see :mod:`tests.corpus_support`).
"""
from __future__ import annotations

import pytest

from desk.extensions import db
from desk.models import Message, Ticket
from workers.collectors.base import poll_account

from .collect_helpers import no_sleep
from .corpus_support import by_polling, by_webhook, case_params, load_cases, run_case
from .fakes.vk import ATTACHMENTS
from .vk_support import GROUP, SECRET, fake, vk_account  # noqa: F401

CASES = load_cases("vk")


def _by_webhook(client, account_id: int):
    """POST each event as VK does, with the secret in the body."""
    deliver = by_webhook(client, f"/hooks/vk/{account_id}")
    return lambda updates: deliver([dict(update, secret=SECRET) for update in updates])


def _by_long_poll(fake, account_id: int):
    poll_account(account_id, sleep=no_sleep)  # the first run starts at VK's newest event
    return by_polling(lambda update: fake.push_raw(GROUP, update), account_id)


@pytest.mark.parametrize("case,path", case_params(CASES))
def test_real_payload(case, path, client, make, fake):
    account_id = vk_account(make, **case.settings).id
    run_case(case, _by_webhook(client, account_id) if path == "webhook" else _by_long_poll(fake, account_id))


def test_the_corpus_is_big_enough_and_names_its_sources():
    assert len(CASES) >= 18
    assert all(c.source.strip() and c.about.strip() for c in CASES)


def test_direct_messages_in_both_shapes_edits_and_attachments_over_the_long_poll(fake, make):
    account_id = vk_account(make).id
    poll_account(account_id, sleep=no_sleep)
    first = fake.push_direct_message(GROUP, 1003, "Нет воды в доме 12")
    fake.push_direct_message(GROUP, 1004, "", legacy=True, attachments=[ATTACHMENTS["photo"]])
    fake.push_message_edit(GROUP, first, "Нет воды в доме 14")
    poll_account(account_id, sleep=no_sleep)
    db.session.expire_all()
    texts = {m.author_name: (m.text, m.is_edited) for m in db.session.scalars(db.select(Message))}
    assert texts == {"Олег Ким": ("Нет воды в доме 14", True), "Анна Лис": ("[фото]", False)}
    assert sorted(t.thread_ref for t in db.session.scalars(db.select(Ticket))) == ["dm:1003", "dm:1004"]


def test_comments_under_photos_videos_goods_and_topics_are_appeals_without_a_post(fake, make):
    account_id = vk_account(make).id
    poll_account(account_id, sleep=no_sleep)
    owner = -GROUP
    fake.push_comment(GROUP, "photo_comment", "new", {"id": 1, "from_id": 1001, "date": 1767225700, "text": "Яма на фото",
                                                        "photo_owner_id": owner, "photo_id": 10})
    fake.push_comment(GROUP, "video_comment", "new", {"id": 1, "from_id": 1002, "date": 1767225700, "text": "Где это?",
                                                        "video_owner_id": owner, "video_id": 20})
    fake.push_comment(GROUP, "market_comment", "new", {"id": 1, "from_id": 1003, "date": 1767225700,
                                                         "text": "Сколько стоит?", "market_owner_id": owner, "item_id": 30})
    fake.push_comment(GROUP, "board_post", "new", {"id": 1, "from_id": 1004, "date": 1767225700, "text": "Тема",
                                                     "topic_owner_id": owner, "topic_id": 40})
    fake.push_comment(GROUP, "photo_comment", "new", {"id": 2, "from_id": owner, "date": 1767225800,
                                                        "text": "Передали в ЖКХ", "photo_owner_id": owner, "photo_id": 10})
    fake.push_comment(GROUP, "photo_comment", "delete", {"owner_id": owner, "id": 1, "user_id": 1001,
                                                           "deleter_id": 1001, "photo_id": 10})
    poll_account(account_id, sleep=no_sleep)
    db.session.expire_all()
    messages = {m.external_id: m for m in db.session.scalars(db.select(Message))}
    # the same comment id on four places: four appeals, none mistaken for another
    assert sorted(messages) == [f"board:{owner}_1", f"market:{owner}_1", f"photo:{owner}_1", f"video:{owner}_1"]
    assert messages[f"photo:{owner}_1"].is_deleted and messages[f"photo:{owner}_1"].permalink == \
        f"https://vk.com/photo{owner}_10"
    assert all(m.post_id is None for m in messages.values())
