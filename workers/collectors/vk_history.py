"""VK history with the service token: the wall backfill and the search for mentions.

Both wrap what they read in the Callback API envelope (``wall_post_new``,
``wall_reply_new``; ``mention`` for a ``newsfeed.search`` hit) and apply it through the
generic :func:`workers.collectors.base.apply_updates`, so names are resolved per batch,
a broken item becomes a dead letter and ingest's idempotency absorbs repeats.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from desk import jobs
from desk.channels.errors import ChannelError
from desk.channels.vk import VKClient
from desk.channels.vk_events import MENTION, group_id_of
from desk.extensions import db
from desk.models import Account, CollectorState, utcnow

from . import vk
from .base import ApplyCounts, _record_items, apply_updates, get_state

log = logging.getLogger(__name__)

PAGE = 100
SEARCH_PAGE = 200
SEARCH_MAX_PAGES = 10
MENTIONS_STREAM = "mentions"
Progress = Callable[[int, int], None]


def _as_datetime(since: date | datetime) -> datetime:
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    return datetime.combine(since, time.min, tzinfo=UTC)


def _add(total: ApplyCounts, counts: ApplyCounts) -> None:
    for f in fields(ApplyCounts):
        if f.name != "skip_reasons":
            setattr(total, f.name, getattr(total, f.name) + getattr(counts, f.name))


def _apply_and_commit(account_id: int, updates: list[dict], source: str,
                      before_commit: Callable[[ApplyCounts], None] | None = None) -> ApplyCounts:
    """Apply one batch and commit it; if a concurrent worker stored some of the same
    comments, the unique key rejects ours and the batch is applied again."""
    for attempt in range(3):
        counts = ApplyCounts()
        try:
            account = db.session.get(Account, account_id)
            assert account is not None  # accounts are deactivated, never deleted
            apply_updates(account, vk, updates, source, counts)
            if before_commit is not None:
                before_commit(counts)
            db.session.commit()
            return counts
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    return ApplyCounts()


def _envelope(kind: str, group_id: int, obj: dict) -> dict:
    return {"type": kind, "group_id": group_id, "object": obj}


def _pages(call: Callable[[int], dict], config: Mapping) -> Iterator[dict]:
    """Items of an offset-paged VK list, page by page (each page retried)."""
    offset = 0
    while True:
        page = vk.retrying(lambda: call(offset), config)
        items = page.get("items") or []
        yield from items
        offset += len(items)
        if not items or offset >= int(page.get("current_level_count", page.get("count", 0))):
            return


def _posts_since(api: VKClient, owner_id: int, since_ts: int, config: Mapping) -> list[dict]:
    """The wall's posts published since ``since_ts``, oldest first (wall.get is newest
    first after the pinned post, so reading stops at the first older unpinned post)."""
    posts: list[dict] = []
    offset = 0
    while True:
        page = vk.retrying(lambda: api.wall_get(owner_id, offset=offset, count=PAGE), config)
        items = page.get("items") or []
        posts.extend(p for p in items if int(p.get("date") or 0) >= since_ts)
        offset += len(items)
        reached_older = any(not p.get("is_pinned") and int(p.get("date") or 0) < since_ts for p in items)
        if not items or reached_older or offset >= int(page.get("count", 0)):
            break
    return sorted(posts, key=lambda p: (int(p.get("date") or 0), int(p["id"])))


def _comments_of(api: VKClient, owner_id: int, post_id: int, config: Mapping) -> list[dict]:
    """Every comment of a post, threads included (a long thread is read on its own)."""
    comments: list[dict] = []
    for top in _pages(lambda offset: api.wall_get_comments(owner_id, post_id, offset=offset, count=PAGE), config):
        comments.append(top)
        thread = top.get("thread") or {}
        replies = thread.get("items") or []
        if int(thread.get("count") or 0) > len(replies):
            replies = list(_pages(lambda offset: api.wall_get_comments(
                owner_id, post_id, offset=offset, count=PAGE, comment_id=int(top["id"])), config))
        comments.extend(replies)
    for comment in comments:
        comment.setdefault("post_id", post_id)
        comment.setdefault("owner_id", owner_id)
    return comments


def backfill(account: Account, since: date | datetime, progress: Progress | None = None) -> ApplyCounts:
    """Pull the posts published since ``since`` and their comments (``wall.get`` +
    ``wall.getComments``, service token), committing post by post; ``progress(done,
    total)`` is called after each post. Safe to run again: repeats are duplicates."""
    group_id = group_id_of(account)
    config = current_app.config
    api = vk.client_for(account, config, "service")
    since_ts = int(_as_datetime(since).timestamp())
    account_id = account.id
    posts = _posts_since(api, -group_id, since_ts, config)
    total = ApplyCounts()
    if progress is not None:
        progress(0, len(posts))
    for done, post in enumerate(posts, 1):
        comments = _comments_of(api, -group_id, int(post["id"]), config)
        updates = [_envelope("wall_post_new", group_id, post)] + [
            _envelope("wall_reply_new", group_id, c) for c in comments if int(c.get("date") or 0) >= since_ts]
        _add(total, _apply_and_commit(account_id, updates, "backfill"))
        if progress is not None:
            progress(done, len(posts))
    return total


def _search(account: Account, keywords: list[str], start_time: int, config: Mapping) -> dict[tuple, dict]:
    api = vk.client_for(account, config, "service")
    found: dict[tuple, dict] = {}
    for keyword in keywords:
        start_from: str | None = None
        for _ in range(SEARCH_MAX_PAGES):
            page = vk.retrying(lambda: api.newsfeed_search(keyword, start_time=start_time, start_from=start_from,
                                                           count=SEARCH_PAGE), config)
            for post in page.get("items") or []:
                found[(int(post["owner_id"]), int(post["id"]))] = post
            start_from = page.get("next_from")
            if not start_from:
                break
    return found


def _record_failure(state: CollectorState, exc: ChannelError, now: datetime) -> None:
    state.last_run_at = state.last_error_at = now
    state.last_error = f"{exc.__class__.__name__}: {exc.description}"[:4000]
    state.consecutive_failures += 1


def collect_mentions(account_id: int) -> ApplyCounts:
    """Job: posts anywhere on VK that mention the account's ``mention_keywords`` become
    tickets marked as mentions. The stream ``mentions`` keeps the newest post time seen;
    the next search starts there (inclusive: a repeat is a duplicate, never a loss)."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_active or account.platform != "vk":
        return ApplyCounts()
    keywords = [str(k).strip() for k in (account.settings or {}).get("mention_keywords") or [] if str(k).strip()]
    if not keywords:
        return ApplyCounts()
    config = current_app.config
    group_id = group_id_of(account)
    state = get_state(account.id, MENTIONS_STREAM)
    cursor: dict[str, Any] = json.loads(state.cursor) if state.cursor else {}
    now = utcnow()
    lookback = timedelta(hours=float(config["VK_MENTIONS_LOOKBACK_HOURS"]))
    start_time = int(cursor.get("start_time") or (now - lookback).timestamp())
    try:
        found = _search(account, keywords, start_time, config)
    except ChannelError as exc:
        _record_failure(state, exc, now)
        db.session.commit()
        raise
    posts = sorted(found.values(), key=lambda p: int(p.get("date") or 0))
    updates = [{"type": MENTION, "object": p} for p in posts
               if -group_id not in (int(p["owner_id"]), int(p.get("from_id") or 0))]  # not the city's own posts
    newest = max([start_time] + [int(p.get("date") or 0) for p in posts])

    def advance(counts: ApplyCounts) -> None:
        current = get_state(account_id, MENTIONS_STREAM)
        current.cursor = json.dumps({"start_time": newest})
        current.last_run_at = current.last_success_at = now
        current.last_error = None
        current.consecutive_failures = 0
        _record_items(current, counts, now)

    return _apply_and_commit(account_id, updates, "mentions", advance)


def collect_all_mentions() -> list[int]:
    """Periodic job: enqueue :func:`collect_mentions` for every active VK account that
    has mention keywords. Returns the account ids enqueued."""
    from desk.queue import enqueue

    accounts = db.session.scalars(
        db.select(Account).where(Account.platform == "vk", Account.is_active.is_(True))).all()
    ids = [a.id for a in accounts if (a.settings or {}).get("mention_keywords")]
    db.session.rollback()  # read-only; nothing to keep open while enqueueing
    for account_id in ids:
        enqueue(jobs.COLLECT_MENTIONS, account_id, job_timeout=600)
    return ids
