"""The OK real-payload corpus (tests/corpus/ok/). Comments under the group's topics
arrive only by polling: a case's items are the collector's own envelopes
(``{"kind": "topic"|"comment", "group_id", "topic_id", ...}``), and their ``topic``
and ``comment`` objects are put into the fake verbatim, so that
``mediatopic.getTopics`` and ``discussions.getComments`` return them as OK would;
then ``poll_account`` runs. Bot API messages arrive only by the webhook
``/hooks/ok/<id>/<token>`` → queue → burst worker. Authors without a name in the
payload are found by the fake's ``users.getInfo`` in :data:`RESIDENTS`."""
from __future__ import annotations

import pytest

from tests.corpus_support import by_polling, by_webhook, case_params, load_cases, run_case
from tests.fakes.ok import FakeOk

# The same group as the fuzz tests (tests/test_fuzz_inbound.py).
GROUP = "57000000000001"
KEYS = {"application_key": "CBACORPUS", "application_secret": "corpus-app-secret", "access_token": "tkn-corpus"}
HOOK_TOKEN = "corpusHookToken7Xq2"
RESIDENTS = {"571234567890": "Иван Петров", "571234567891": "Пётр Сидоров", "577777777777": "Мария Иванова"}
CASES = load_cases("ok")


def test_the_corpus_is_large_enough_and_names_its_sources():
    assert len(CASES) >= 10
    assert {path for case in CASES for path in case.paths} == {"poll", "webhook"}


@pytest.fixture
def fake(app):
    with FakeOk(group_id=GROUP, **KEYS) as server:
        for uid, name in RESIDENTS.items():
            server.add_user(uid, name)
        app.config["OK_API_BASE"] = server.url
        app.config["OK_HTTP_TIMEOUT"] = 5.0
        app.config["OK_TOPICS_REFRESH_SECONDS"] = 0  # every poll reads the topics list
        yield server


def _put(fake: FakeOk):
    """Put one envelope's topic or comment into the fake, verbatim."""
    def push(item: dict) -> None:
        if item["kind"] == "topic":
            fake.raw_topic(item["topic"])
            return
        topic_id = str(item["topic_id"])
        if topic_id not in fake.comments:
            fake.raw_topic({"id": topic_id, "media": [{"type": "text", "text": "Пост группы"}]})
        fake.raw_comment({"id": topic_id}, item["comment"])
    return push


@pytest.mark.parametrize("case,path", case_params(CASES))
def test_case(case, path, fake, make, client):
    account = make.account("ok", settings={"group_id": GROUP, "application_key": KEYS["application_key"],
                                           **case.settings},
                           credentials={"application_secret": KEYS["application_secret"],
                                        "access_token": KEYS["access_token"], "webhook_token": HOOK_TOKEN})
    run_case(case, by_webhook(client, f"/hooks/ok/{account.id}/{HOOK_TOKEN}")
             if path == "webhook" else by_polling(_put(fake), account.id))
