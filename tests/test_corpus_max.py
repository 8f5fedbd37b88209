"""The MAX real-payload corpus (tests/corpus/max/): every case through the public
webhook (``/hooks/max/<id>`` with ``X-Max-Bot-Api-Secret`` → queue → burst worker →
database) and through long polling (the fake's ``/updates`` returns the update
verbatim → ``poll_account``), each ending in the outcome the case expects."""
from __future__ import annotations

import pytest

from tests.corpus_support import by_polling, by_webhook, case_params, load_cases, run_case
from tests.fakes.max import FakeMax

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


@pytest.mark.parametrize("case,path", case_params(CASES))
def test_case(case, path, fake, make, client):
    account = make.account("max", settings={"chat_id": CHANNEL, "bot_user_id": BOT_USER_ID, **case.settings},
                           credentials={"bot_token": TOKEN, "webhook_secret": SECRET})
    run_case(case, by_webhook(client, f"/hooks/max/{account.id}", {"X-Max-Bot-Api-Secret": SECRET})
             if path == "webhook" else by_polling(fake.add, account.id))
