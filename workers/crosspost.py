"""RQ jobs that publish announcements, once per account.

``post_announcement_delivery(id)`` follows the replies outbox (:mod:`workers.replies`):
wait for the row's time, take a slot in the shared rate windows (the same Redis keys
as the replies of the same bot or token, so both together stay under the network's
limit), claim ``queued -> sending`` with a conditional UPDATE and a Redis lease,
**commit**, then call the network and commit what happened: ``sent``, ``queued`` again
with backoff (nothing reached the network), ``failed`` (a person must act) or
``unknown`` (the post may be there: never resent automatically). VK's ``guid`` (the
outbox key) makes a repeated ``wall.post`` return the first post, so VK retries there.
"""
from __future__ import annotations

import os
import random
import socket
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from desk.channels.errors import ChannelError, MalformedResponse, PermanentError, RetryableError, UnknownOutcome
from desk.channels.max import MaxClient
from desk.channels.telegram import TelegramClient
from desk.channels.vk import USER_RPS, VKClient
from desk.extensions import db
from desk.links import http_url
from desk.models import utcnow
from desk.models.announcements import AnnouncementDelivery
from desk.models.replies import DeliveryState
from desk.queue import get_redis
from desk.registry import crosspost
from desk.registry.targets import required_setting, telegram_channel, telegram_username
from desk.replies.ratelimit import RateLimiter, Window, secret_key
from desk.replies.senders import MAX_PER_TOKEN, TELEGRAM_PER_BOT, TELEGRAM_PER_GROUP

D = DeliveryState
LEASE_KEY = "desk:announce-lease:{}"
DEDUPED = frozenset({"vk"})


@dataclass(frozen=True)
class Published:
    external_id: str
    permalink: str = ""


def _setting(name: str, default):
    return type(default)(current_app.config.get(name, default))


def _token(delivery: AnnouncementDelivery, name: str) -> str:
    token = delivery.account.get_credentials().get(name)
    if not token:
        raise PermanentError(f"the {delivery.platform} account has no {name}")
    return token


# --- per network: rate windows and the call ----------------------------------------------------

def _telegram(delivery: AnnouncementDelivery, config: Mapping) -> tuple[list[Window], Callable[[], Published]]:
    token, chat = _token(delivery, "bot_token"), telegram_channel(delivery.account)
    bot = secret_key(token)
    windows = [Window(f"tg:{bot}", *TELEGRAM_PER_BOT), Window(f"tg:{bot}:{chat}", *TELEGRAM_PER_GROUP)]

    def call() -> Published:
        with closing(TelegramClient(token, config["TELEGRAM_API_BASE"],
                                     timeout=float(config.get("REPLY_HTTP_TIMEOUT", 10)))) as client:
            result = client.send_message(chat, delivery.announcement.text)
        username = telegram_username(delivery.account)
        link = f"https://t.me/{username}/{result['message_id']}" if username else ""
        return Published(f"{result['chat']['id']}:{result['message_id']}", link)

    return windows, call


def _vk(delivery: AnnouncementDelivery, config: Mapping) -> tuple[list[Window], Callable[[], Published]]:
    # wall.post takes a user token of a community admin; a community token is refused
    token, group_id = _token(delivery, "user_token"), abs(int(required_setting(delivery.account, "group_id")))

    def call() -> Published:
        with VKClient(config["VK_API_BASE"], token, rps=0) as client:
            result = client.wall_post(-group_id, delivery.announcement.text, from_group=True,
                                      guid=delivery.outbox_key)
        return Published(f"-{group_id}_{result['post_id']}", f"https://vk.com/wall-{group_id}_{result['post_id']}")

    return [Window(f"vk:{secret_key(token)}", int(USER_RPS), 1.0)], call


def _max(delivery: AnnouncementDelivery, config: Mapping) -> tuple[list[Window], Callable[[], Published]]:
    creds = delivery.account.get_credentials()
    token = creds.get("bot_token") or creds.get("access_token") or _token(delivery, "bot_token")
    chat_id = required_setting(delivery.account, "chat_id")

    def call() -> Published:
        kwargs = {"timeout": config["MAX_HTTP_TIMEOUT"]} if config.get("MAX_HTTP_TIMEOUT") else {}
        with MaxClient(config["MAX_API_BASE"], token, **kwargs) as client:
            message = client.send_message(chat_id, delivery.announcement.text).get("message") or {}
        mid = (message.get("body") or {}).get("mid")
        if not mid:
            raise MalformedResponse("MAX answered without the posted message id")
        return Published(str(mid), http_url(message.get("url")) or "")

    return [Window(f"max:{secret_key(token)}", *MAX_PER_TOKEN)], call


NETWORKS = {"telegram": _telegram, "vk": _vk, "max": _max}


# --- the job ---------------------------------------------------------------------------------

def _lease_seconds() -> int:
    return 2 * _setting("REPLY_HTTP_TIMEOUT", 10) + 30


def _backoff(attempts: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return max(float(retry_after), 0.0)
    base = _setting("CROSSPOST_BACKOFF_BASE", 2.0)
    return random.uniform(0.5, 1.0) * min(300.0, base * 2 ** (attempts - 1))


def _claim(delivery_id: int) -> bool:
    redis = get_redis()
    if not redis.set(LEASE_KEY.format(delivery_id), f"{socket.gethostname()}:{os.getpid()}", nx=True,
                     ex=_lease_seconds()):
        return False
    now = utcnow()
    claimed = db.session.execute(
        update(AnnouncementDelivery).where(AnnouncementDelivery.id == delivery_id,
                                           AnnouncementDelivery.state == D.QUEUED.value)
        .values(state=D.SENDING.value, sending_started_at=now, attempts=AnnouncementDelivery.attempts + 1,
                updated_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if claimed != 1:
        redis.delete(LEASE_KEY.format(delivery_id))
    return claimed == 1


def post_announcement_delivery(delivery_id: int) -> str:
    """Publish one announcement delivery (see the module doc); returns what happened."""
    config = current_app.config
    delivery = db.session.get(AnnouncementDelivery, delivery_id)
    if delivery is None:
        return "missing"
    if delivery.state == D.SENDING.value:
        if get_redis().exists(LEASE_KEY.format(delivery_id)):
            return "busy"
        crosspost.move(delivery, D.UNKNOWN, "the worker stopped while publishing: check the channel")
        db.session.commit()
        return "unknown"
    if delivery.state != D.QUEUED.value:
        return delivery.state
    now = utcnow()
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        at = delivery.next_attempt_at
        db.session.rollback()
        crosspost.enqueue_delivery(delivery_id, at)
        return "later"
    try:
        windows, call = NETWORKS[delivery.platform](delivery, config)
    except (PermanentError, KeyError, ValueError) as exc:
        crosspost.move(delivery, D.FAILED, getattr(exc, "description", f"cannot publish on {exc}"))
        db.session.commit()
        return "failed"
    wait = RateLimiter(get_redis()).acquire(windows)
    if wait > 0:
        db.session.rollback()
        crosspost.enqueue_delivery(delivery_id, utcnow() + timedelta(seconds=wait))
        return "rate-limited"
    if not _claim(delivery_id):
        return "claimed elsewhere"
    try:
        published = call()
    except ChannelError as exc:
        return _finish(delivery_id, _outcome(delivery.platform, exc), exc)
    except Exception as exc:  # noqa: BLE001 — the request may have left: never guess "not posted"
        return _finish(delivery_id, "unknown", UnknownOutcome(f"{exc.__class__.__name__}: {exc}"))
    finally:
        get_redis().delete(LEASE_KEY.format(delivery_id))
    db.session.rollback()
    crosspost.mark_sent(db.session.get(AnnouncementDelivery, delivery_id), published.external_id, published.permalink)
    db.session.commit()
    return "sent"


def _outcome(platform: str, exc: ChannelError) -> str:
    if isinstance(exc, PermanentError):
        return "failed"
    if isinstance(exc, (MalformedResponse, UnknownOutcome)):
        return "retry" if platform in DEDUPED else "unknown"
    return "retry" if isinstance(exc, RetryableError) else "unknown"


def _finish(delivery_id: int, outcome: str, exc: ChannelError) -> str:
    db.session.rollback()
    delivery = db.session.get(AnnouncementDelivery, delivery_id)
    reason = exc.description
    if outcome == "retry" and delivery.attempts >= _setting("CROSSPOST_MAX_ATTEMPTS", 8):
        outcome, reason = "failed", f"gave up after {delivery.attempts} attempts: {reason}"
    if outcome == "retry":
        delay = _backoff(delivery.attempts, exc.retry_after)
        crosspost.requeue(delivery, delay, reason)
        db.session.commit()
        crosspost.enqueue_delivery(delivery_id, delivery.next_attempt_at)
        return "retry"
    crosspost.move(delivery, D.FAILED if outcome == "failed" else D.UNKNOWN, reason)
    db.session.commit()
    return outcome


def sweep(older_than_seconds: int = 120) -> dict[str, int]:
    """Periodic: re-enqueue due queued rows whose job may be lost (a duplicate job is
    harmless: the claim lets one through); rows stuck in ``sending`` become ``unknown``."""
    now = utcnow()
    due = db.session.scalars(db.select(AnnouncementDelivery.id).where(
        AnnouncementDelivery.state == D.QUEUED.value, AnnouncementDelivery.updated_at < now - timedelta(
            seconds=older_than_seconds),
        db.or_(AnnouncementDelivery.next_attempt_at.is_(None), AnnouncementDelivery.next_attempt_at <= now))
        .limit(1000)).all()
    stuck = db.session.scalars(db.select(AnnouncementDelivery).where(
        AnnouncementDelivery.state == D.SENDING.value,
        AnnouncementDelivery.sending_started_at < now - timedelta(seconds=_lease_seconds()))).all()
    unknown = 0
    for delivery in stuck:
        if not get_redis().exists(LEASE_KEY.format(delivery.id)):
            crosspost.move(delivery, D.UNKNOWN, "the worker stopped while publishing: check the channel")
            unknown += 1
    db.session.commit()
    for delivery_id in due:
        crosspost.enqueue_delivery(delivery_id)
    return {"requeued": len(due), "unknown": unknown}
