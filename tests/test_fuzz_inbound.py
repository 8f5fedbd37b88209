"""Property-based: whatever JSON a network (or an attacker with the secret) sends, every
normaliser and every webhook ends in a ticket, an ignore, or a dead letter — never an
exception that stops the collector, never a 5xx, never a silent drop of a stored body.

The inputs are arbitrary JSON values and, more usefully, the real shapes of the corpus
(tests/corpus/<network>/) with random parts replaced or removed. Examples are
derandomized so the suite is the same on every run."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.channels.events import CommentDeleted, CommentRestored, InboundMessage, PostSeen, Skipped
from desk.extensions import db
from desk.models import DeadLetter, Message, WebhookDelivery
from tests.collect_helpers import drain_queue
from tests.corpus_support import load_cases
from workers.collectors.base import apply_isolated, network_module, normalize

NETWORKS = ("telegram", "vk", "max", "ok")
EXAMPLES = 60
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])

# Credentials and settings of a plausible account per network (the corpus uses the same ids).
ACCOUNTS = {
    "telegram": ({"channel_id": -1001111111111, "discussion_chat_id": -1002222222222, "username": "city_official"},
                 {"bot_token": "7000000001:AAfuzzfuzzfuzzfuzzfuzzfuzz", "webhook_secret": "fuzz_secret"}),
    "vk": ({"group_id": 12345678}, {"group_token": "vk1.a.fuzz", "callback_secret": "fuzz_secret",
                                     "confirmation_code": "a1b2c3d4"}),
    "max": ({"chat_id": -71234567890, "bot_user_id": 5550999}, {"bot_token": "max-fuzz", "webhook_secret": "fuzz_secret"}),
    "ok": ({"group_id": "57000000000001", "application_key": "CBAFUZZ"},
           {"application_secret": "s", "access_token": "t", "webhook_token": "fuzz_secret"}),
}

# When the corpus has no case yet, these keep the mutated strategy meaningful.
SEEDS = {
    "telegram": [{"update_id": 1, "message": {"message_id": 502, "message_thread_id": 501, "date": 1767225700,
                                              "from": {"id": 1, "is_bot": False, "first_name": "Иван"},
                                              "chat": {"id": -1002222222222, "type": "supergroup"},
                                              "text": "Яма"}}],
    "vk": [{"type": "wall_reply_new", "group_id": 12345678, "event_id": "e1", "v": "5.199",
            "object": {"id": 987, "from_id": 1234567, "post_id": 456, "owner_id": -12345678,
                       "date": 1767225700, "text": "Яма"}}],
    "max": [{"update_type": "comment_created", "timestamp": 1767225700000,
             "message": {"recipient": {"chat_id": -71234567890, "chat_type": "channel", "post_id": "mid.1"},
                         "timestamp": 1767225700000, "body": {"mid": "mid.2", "seq": 1, "text": "Яма"}}}],
    "ok": [{"kind": "comment", "group_id": "57000000000001", "topic_id": "155432109876",
            "comment": {"id": "MTY3", "author_id": "571234567890", "text": "Яма", "date_ms": 1767225700000}}],
}

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
                      st.sampled_from(["", "\x00", "\ud800", "0", "-1", "mid.", "null", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=20)


def real_shapes(network: str) -> list:
    shapes = []
    for case in load_cases(network) if _has_corpus(network) else []:
        shapes.extend(case.before + case.updates)
    return shapes or SEEDS[network]


def _has_corpus(network: str) -> bool:
    from tests.corpus_support import CORPUS

    return (CORPUS / network).is_dir()


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, prefix + (index,))


def _replace(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


def _remove(value, path):
    if not path:
        return value
    copy = dict(value) if isinstance(value, dict) else list(value)
    if len(path) == 1:
        del copy[path[0]]
    else:
        copy[path[0]] = _remove(value[path[0]], path[1:])
    return copy


@st.composite
def mutated(draw, network: str):
    """A real shape with 1–3 of its parts replaced by arbitrary JSON or removed."""
    value = draw(st.sampled_from(real_shapes(network)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(value))
        path = draw(st.sampled_from(paths))
        if path and draw(st.booleans()):
            value = _remove(value, path)
        else:
            value = _replace(value, path, draw(json_value))
    return value


def payloads(network: str):
    return st.one_of(mutated(network), mutated(network), json_value)


@pytest.fixture
def accounts(make, app):
    app.config["VK_RETRY_ATTEMPTS"] = 1  # author names from a closed port: fail fast, never wait
    app.config["OK_RETRY_ATTEMPTS"] = 1
    return {network: make.account(network, settings=ACCOUNTS[network][0], credentials=ACCOUNTS[network][1])
            for network in NETWORKS}


def _check_events(events) -> None:
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, (InboundMessage, PostSeen, CommentDeleted, CommentRestored, Skipped)), event
        if isinstance(event, InboundMessage):
            assert isinstance(event.external_id, str) and event.external_id
            assert isinstance(event.text, str) and event.text.strip(), event
            assert event.sent_at is None or isinstance(event.sent_at, datetime)


@pytest.mark.parametrize("network", NETWORKS)
def test_every_normaliser_returns_events_or_raises(network, accounts, app):
    module, account = network_module(network), accounts[network]

    @FUZZ
    @given(payloads(network))
    def run(raw):
        try:
            events = normalize(account, module, raw)  # the spec's normaliser and the collector's completion
        except Exception:  # noqa: BLE001 — raising is allowed: the update becomes a dead letter
            return
        _check_events(events)

    run()


@pytest.mark.parametrize("network", NETWORKS)
def test_every_update_is_stored_ignored_or_dead_lettered(network, accounts, app):
    """The collector's own path: never an exception, and when nothing is stored and
    nothing dead-lettered the normaliser said why (a Skipped) or it was a post."""
    module, account_id = network_module(network), accounts[network].id

    @FUZZ
    @given(payloads(network))
    def run(raw):
        messages = db.session.scalar(db.select(db.func.count(Message.id)))
        counts = apply_isolated(account_id, module, [raw], "poll")
        stored = db.session.scalar(db.select(db.func.count(Message.id))) - messages
        assert counts.dead + counts.created + counts.joined + counts.edited + counts.duplicate + counts.posts \
            + counts.deleted + counts.skipped >= 1 or stored == 0, counts
        assert counts.dead == 0 or db.session.scalar(db.select(db.func.count(DeadLetter.id))) >= 1

    run()


def _post_webhook(client, network: str, account, raw):
    secret = ACCOUNTS[network][1].get("webhook_secret") or ACCOUNTS[network][1].get("webhook_token")
    if network == "telegram":
        return client.post(f"/hooks/telegram/{account.id}", data=json.dumps(raw), content_type="application/json",
                           headers={"X-Telegram-Bot-Api-Secret-Token": secret})
    if network == "max":
        return client.post(f"/hooks/max/{account.id}", data=json.dumps(raw), content_type="application/json",
                           headers={"X-Max-Bot-Api-Secret": secret})
    if network == "vk":
        if isinstance(raw, dict) and raw.get("type") != "confirmation":
            raw = dict(raw, secret=ACCOUNTS["vk"][1]["callback_secret"])
        return client.post(f"/hooks/vk/{account.id}", data=json.dumps(raw), content_type="application/json")
    return client.post(f"/hooks/ok/{account.id}/{secret}", data=json.dumps(raw), content_type="application/json")


@pytest.mark.parametrize("network", NETWORKS)
def test_every_webhook_answers_below_500_and_its_worker_finishes(network, accounts, client, app):
    account = accounts[network]

    @settings(FUZZ, max_examples=EXAMPLES // 2)
    @given(payloads(network))
    def run(raw):
        answer = _post_webhook(client, network, account, raw)
        assert answer.status_code < 500, (answer.status_code, raw)
        drain_queue()
        db.session.expire_all()
        unfinished = db.session.scalars(db.select(WebhookDelivery).where(WebhookDelivery.processed_at.is_(None)))
        assert [d.id for d in unfinished] == []

    run()
