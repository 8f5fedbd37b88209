"""The real-payload corpus: cases in ``tests/corpus/<network>/*.json``, each a shape
seen in a public SDK test suite, an official SDK stub, an API schema or a capture.

A case file::

    {
      "source": "where the shape comes from (repository and path, or page)",
      "about": "what is special about it",
      "settings": {...},           # optional: merged into the test account's settings
      "paths": ["webhook", "poll"],# optional: the paths the shape can arrive by
      "before": [update, ...],     # optional: delivered first (the post, the first comment)
      "update": {...},             # the update under test (or "updates": [...])
      "expect": {
        "outcome": "ticket | joined | edited | ignored | post | dead_letter | deleted | restored",
        "text": "exact stored text", "text_contains": ["..."],
        "author_name": "...", "author_id": "...",
        "on_post": true | false,   # whether the message is tied to a post of the city
        "post_text": "...",        # the text of that post
        "thread_ref": "...", "reply_to": "..."
      }
    }

Each network's test module delivers ``before`` and then the update by each path (the
webhook endpoint → queue → worker, and the polling collector against the fake
server) and calls :func:`check` with the database snapshots around the update;
:func:`run_case` does that with a :func:`by_webhook` or :func:`by_polling` deliverer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from desk.extensions import db
from desk.models import DeadLetter, Message, MessageRevision, Post, Ticket
from tests.collect_helpers import drain_queue, no_sleep
from workers.collectors.base import poll_account

CORPUS = Path(__file__).parent / "corpus"
OUTCOMES = {"ticket", "joined", "edited", "ignored", "post", "dead_letter", "deleted", "restored"}


@dataclass
class Case:
    network: str
    name: str
    source: str
    about: str
    updates: list[dict]
    expect: dict
    before: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    paths: list[str] = field(default_factory=lambda: ["webhook", "poll"])

    @property
    def id(self) -> str:
        return f"{self.network}/{self.name}"


def load_cases(network: str) -> list[Case]:
    cases = []
    for path in sorted((CORPUS / network).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        updates = data["updates"] if "updates" in data else [data["update"]]
        case = Case(network=network, name=path.stem, source=data["source"], about=data.get("about", ""),
                    updates=updates, expect=data["expect"], before=data.get("before", []),
                    settings=data.get("settings", {}), paths=data.get("paths", ["webhook", "poll"]))
        assert case.source.strip(), f"{path.name}: every case names its source"
        assert case.expect.get("outcome") in OUTCOMES, f"{path.name}: unknown outcome"
        cases.append(case)
    return cases


def case_params(cases: list[Case]) -> list:
    """One pytest parameter per (case, path), named ``<case>-<path>``."""
    return [pytest.param(case, path, id=f"{case.name}-{path}") for case in cases for path in case.paths]


def by_webhook(client, url: str, headers: dict | None = None):
    """A ``deliver`` for :func:`run_case`: POST each update to ``url`` with the Flask test
    client (each must be answered 200), then run the queued jobs with a burst worker."""
    def deliver(updates: list) -> None:
        for update in updates:
            answer = client.post(url, data=json.dumps(update, ensure_ascii=False), content_type="application/json",
                                 headers=headers or {})
            assert answer.status_code == 200, (answer.status_code, update)
        drain_queue()
    return deliver


def by_polling(push, account_id: int):
    """A ``deliver`` for :func:`run_case`: hand each update to the fake server with
    ``push(update)`` (it returns them verbatim), then poll the account once."""
    def deliver(updates: list) -> None:
        for update in updates:
            push(update)
        poll_account(account_id, sleep=no_sleep)
    return deliver


def run_case(case: Case, deliver) -> None:
    """Deliver the case's ``before`` updates, then its updates (``deliver(list)``), and
    check the database change with :func:`check`."""
    if case.before:
        deliver(case.before)
    before = snapshot()
    deliver(case.updates)
    check(case, before, snapshot())


@dataclass(frozen=True)
class Snapshot:
    message_ids: frozenset[int]
    ticket_count: int
    dead_letters: int
    post_ids: frozenset[int]
    revisions: int
    deleted: int


def snapshot() -> Snapshot:
    db.session.expire_all()
    return Snapshot(
        message_ids=frozenset(db.session.scalars(db.select(Message.id))),
        ticket_count=db.session.scalar(db.select(db.func.count(Ticket.id))),
        dead_letters=db.session.scalar(db.select(db.func.count(DeadLetter.id))),
        post_ids=frozenset(db.session.scalars(db.select(Post.id))),
        revisions=db.session.scalar(db.select(db.func.count(MessageRevision.id))),
        deleted=db.session.scalar(db.select(db.func.count(Message.id)).where(Message.is_deleted.is_(True))),
    )


def _touched_message(before: Snapshot, after: Snapshot) -> Message | None:
    new = sorted(after.message_ids - before.message_ids)
    if new:
        return db.session.get(Message, new[-1])
    return db.session.scalars(db.select(Message).order_by(Message.edited_at.desc().nulls_last(),
                                                          Message.id.desc()).limit(1)).first()


def check(case: Case, before: Snapshot, after: Snapshot) -> Message | None:
    """Assert the case's expected outcome from the database change; returns the
    message the update produced or touched, if any."""
    expect, outcome = case.expect, case.expect["outcome"]
    new_messages = len(after.message_ids - before.message_ids)
    new_tickets = after.ticket_count - before.ticket_count
    new_dead = after.dead_letters - before.dead_letters
    summary = (f"{case.id}: {new_messages} new messages, {new_tickets} new tickets, {new_dead} dead letters, "
               f"{after.revisions - before.revisions} revisions")
    if outcome == "dead_letter":
        assert new_dead >= 1 and new_messages == 0, summary
        return None
    assert new_dead == 0, summary
    if outcome in ("ignored", "post"):
        assert new_messages == 0 and new_tickets == 0, summary
        if outcome == "post":
            assert after.post_ids, summary
            post = db.session.scalars(db.select(Post).order_by(Post.id.desc()).limit(1)).first()
            if "post_text" in expect:
                assert post.text == expect["post_text"], (summary, post.text)
        return None
    if outcome == "deleted":
        assert after.deleted == before.deleted + 1 and new_messages == 0, summary
        return None
    if outcome == "restored":
        assert after.deleted == before.deleted - 1, summary
        return None
    expected_counts = {"ticket": (1, 1), "joined": (1, 0), "edited": (0, 0)}[outcome]
    assert (new_messages, new_tickets) == expected_counts, summary
    if outcome == "edited":
        assert after.revisions == before.revisions + 1, summary
    message = _touched_message(before, after)
    assert message is not None, summary
    assert message.text.strip(), f"{case.id}: stored an empty text"
    if message.ticket is not None:
        assert message.ticket.subject.strip(), f"{case.id}: a ticket with an empty subject"
    if "text" in expect:
        assert message.text == expect["text"], (case.id, message.text)
    for part in expect.get("text_contains", []):
        assert part in message.text, (case.id, message.text)
    if "author_name" in expect:
        assert message.author_name == expect["author_name"], (case.id, message.author_name)
    if "author_id" in expect:
        assert message.author_external_id == expect["author_id"], (case.id, message.author_external_id)
    if "on_post" in expect:
        assert (message.post_id is not None) == expect["on_post"], (case.id, message.post_id)
    if "post_text" in expect:
        assert message.post_id is not None and db.session.get(Post, message.post_id).text == expect["post_text"]
    if "thread_ref" in expect:
        assert message.thread_ref == expect["thread_ref"], (case.id, message.thread_ref)
    if "reply_to" in expect:
        assert message.reply_to_external_id == expect["reply_to"], (case.id, message.reply_to_external_id)
    return message
