"""The MAX real-payload corpus (tests/corpus/max/): every case through the public
webhook (``/hooks/max/<id>`` with ``X-Max-Bot-Api-Secret`` → queue → burst worker →
database) and through long polling (the fake's ``/updates`` returns the update
verbatim → ``poll_account``), each ending in the outcome the case expects."""
from __future__ import annotations

import json

import pytest

from tests.collect_helpers import drain_queue, no_sleep
from tests.corpus_support import check, load_cases, snapshot
from tests.fakes.max import FakeMax
from workers.collectors.base import poll_account

# The same channel and bot as the fuzz tests (tests/test_fuzz_inbound.py), so the corpus
# shapes read as this account's there too.
CHANNEL = -71234567890
BOT_USER_ID = 5550999
TOKEN = "max-corpus-token"
SECRET = "corpus_secret-1"
CASES = load_cases("max")


def test_the_corpus_is_large_enough_and_names_its_sources():
    assert len(CASES) >= 14
    assert all(case.source.strip() and case.expect for case in CASES)


@pytest.fixture
def fake(app):
    with FakeMax(TOKEN, channel_id=CHANNEL, bot_user_id=BOT_USER_ID) as server:
        app.config["MAX_API_BASE"] = server.url
        app.config["MAX_HTTP_TIMEOUT"] = 5.0
        yield server


def _webhook(client, account_id: int):
    def deliver(updates: list) -> None:
        for update in updates:
            answer = client.post(f"/hooks/max/{account_id}", data=json.dumps(update, ensure_ascii=False),
                                 content_type="application/json", headers={"X-Max-Bot-Api-Secret": SECRET})
            assert answer.status_code == 200, (answer.status_code, update)
        drain_queue()
    return deliver


def _poll(fake: FakeMax, account_id: int):
    def deliver(updates: list) -> None:
        for update in updates:
            fake.add(update)
        poll_account(account_id, sleep=no_sleep)
    return deliver


@pytest.mark.parametrize("case,path", [pytest.param(case, path, id=f"{case.name}-{path}")
                                       for case in CASES for path in case.paths])
def test_case(case, path, fake, make, client):
    account = make.account("max", settings={"chat_id": CHANNEL, "bot_user_id": BOT_USER_ID, **case.settings},
                           credentials={"bot_token": TOKEN, "webhook_secret": SECRET})
    deliver = _webhook(client, account.id) if path == "webhook" else _poll(fake, account.id)
    if case.before:
        deliver(case.before)
    before = snapshot()
    deliver(case.updates)
    check(case, before, snapshot())
