"""Replies throughput (issue #4, Speed): queued answers over 10 accounts per network,
drained by two real ``flask worker`` processes against the strict fakes with their rate
limits on; the wall time against the minimum the limits allow, and the 429s the fakes
answered.

    .venv/bin/python bench/replies.py [--networks telegram,vk,max] [--count 1000]
        [--telegram-count 1000] [--accounts 10] [--workers 2] [--postgres] [--redis-db 9]

Each network is its own scenario (fresh database, fresh Redis db): the limits are per
account, so mixing networks only hides the slowest. The minimum for ``n`` answers to one
account under "at most ``limit`` in any ``window``" is ``(ceil(n / limit) - 1) * window``
(the last batch may start only then); a scenario's minimum is that of its busiest account.
Telegram's 20 messages a minute per group makes 1,000 answers over 10 groups at least
240 s: ``--telegram-count`` scales that scenario down when a shorter run is wanted.

The workers run without the periodic jobs (``--no-periodic``: the registry's and
collectors' ticks would only add noise), so the replies' sweeper is not measured. The
clock starts once both workers are listening, right before the answers are
enqueued (round-robin over the accounts, as approvals would arrive), and stops when the
last outbox row is final. SQLite is a file in a temporary directory; ``--postgres``
also runs every scenario on a ``bench_replies`` database it creates and drops.
Results are appended as Markdown to ``--out`` (default: print only).
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-replies-" + "s" * 40
PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_replies"
#: (limit, window seconds) per account, as the fakes enforce them
LIMITS = {"telegram": (20, 60.0), "vk": (20, 1.0), "max": (30, 1.0)}


@dataclass
class Result:
    network: str
    database: str
    count: int
    accounts: int
    minimum: float
    wall: float
    refused: int
    posted: int
    states: dict
    attempts: int

    @property
    def ratio(self) -> float:
        return self.wall / self.minimum if self.minimum else float("inf")

    def line(self) -> str:
        over = f"{(self.ratio - 1) * 100:+.0f}%" if self.minimum else "n/a"
        states = ", ".join(f"{k} {v}" for k, v in sorted(self.states.items()))
        return (f"| {self.network} | {self.database} | {self.count} / {self.accounts} | {self.minimum:.1f} s | "
                f"{self.wall:.1f} s | {over} | {self.refused} | {self.posted} | {self.attempts} | {states} |")


def minimum(network: str, per_account: list[int]) -> float:
    limit, window = LIMITS[network]
    return max((math.ceil(n / limit) - 1) * window for n in per_account if n)


def _postgres(create: bool) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "bench_replies" WITH (FORCE)'))
        if create:
            conn.execute(text('CREATE DATABASE "bench_replies"'))
    admin.dispose()


class World:
    """The fakes with their strict limits, and the accounts and residents' messages on them."""

    def __init__(self, network: str, accounts: int):
        from tests.fakes.limits import strict_max, strict_telegram
        from tests.fakes.max import FakeMax
        from tests.fakes.telegram import FakeTelegram
        from tests.fakes.vk import FakeVK

        self.network = network
        self.n_accounts = accounts
        if network == "telegram":
            self.fake = strict_telegram(FakeTelegram(seed=5).start())
            self.bots = [self.fake.add_bot(username=f"city{i}_bot", channel_id=-1001111110000 - i,
                                           discussion_chat_id=-1002222220000 - i) for i in range(accounts)]
            self.forwards = [bot.publish(f"Пост {i}")[1] for i, bot in enumerate(self.bots)]
        elif network == "vk":
            self.fake = FakeVK(seed=5).start()
            for i in range(accounts):
                self.fake.add_token(f"vk-group-token-{i}", "group", 5000 + i)
                self.fake.add_group(5000 + i, f"Город {i}")
                self.fake.add_post(-(5000 + i), 1, "Пост", int(time.time()))
        else:
            self.fake = strict_max(FakeMax("max-token-0", seed=5).start())
            for i in range(1, accounts):
                self.fake.add_token(f"max-token-{i}")
            self.post = self.fake.channel_post()

    @property
    def env(self) -> dict:
        name = {"telegram": "TELEGRAM_API_BASE", "vk": "VK_API_BASE", "max": "MAX_API_BASE"}[self.network]
        return {name: self.fake.url}

    def accounts(self) -> list:
        from tests import factories as make
        from tests.fakes.max import BOT_USER_ID

        result = []
        for i in range(self.n_accounts):
            if self.network == "telegram":
                bot = self.bots[i]
                result.append(make.account("telegram", name=f"TG {i}", credentials={"bot_token": bot.token},
                                           settings={"channel_id": bot.channel_id, "bot_id": bot.bot_id,
                                                     "discussion_chat_id": bot.discussion_chat_id}))
            elif self.network == "vk":
                result.append(make.account("vk", name=f"VK {i}", settings={"group_id": 5000 + i},
                                           credentials={"group_token": f"vk-group-token-{i}"}))
            else:
                result.append(make.account("max", name=f"MAX {i}", credentials={"bot_token": f"max-token-{i}"},
                                           settings={"chat_id": self.fake.channel_id, "bot_user_id": BOT_USER_ID}))
        return result

    def ticket(self, account, i: int, n: int):
        """The resident's comment on the network, ingested as the collector would."""
        from tests import factories as make

        text, user_id = f"Вопрос {n}: когда починят дорогу?", 10_000_000 + n
        if self.network == "telegram":
            bot, forward = self.bots[i], self.forwards[i]
            comment = bot.comment(forward, text, user=bot.user(user_id))
            return make.ticket(account, text, external_id=f"{bot.discussion_chat_id}:{comment['message_id']}",
                               author_id=str(user_id), thread_ref=str(forward["message_id"]))
        if self.network == "vk":
            owner = -(5000 + i)
            comment = self.fake.add_comment(owner, 1, user_id, text, int(time.time()))
            return make.ticket(account, text, external_id=f"{owner}_{comment['id']}", author_id=str(user_id),
                               thread_ref=f"{owner}_1")
        comment = self.fake.comment(self.post, text, self.fake.user(user_id))
        return make.ticket(account, text, external_id=comment["message"]["body"]["mid"], author_id=str(user_id),
                           thread_ref=self.post["message"]["body"]["mid"])

    def refused(self) -> int:
        return self.fake.refused

    def posted(self) -> int:
        """Replies the network actually holds (a refused or repeated request adds none)."""
        if self.network == "telegram":
            return sum(1 for bot in self.bots for m in bot.chat_messages[bot.discussion_chat_id].values()
                       if m.get("from", {}).get("id") == bot.bot_id)
        if self.network == "vk":
            return len(self.fake.created_comments)
        return len(self.fake.sent_comments)

    def stop(self) -> None:
        self.fake.stop()


def _start_workers(n: int, env: dict, logdir: str, no_fork: bool) -> list[subprocess.Popen]:
    procs = []
    command = [sys.executable, "-m", "flask", "--app", "desk:create_app", "worker", "--no-periodic",
               *(["--no-fork"] if no_fork else [])]
    for w in range(n):
        log = open(Path(logdir) / f"worker{w}.log", "w")  # noqa: SIM115 — the worker writes it until the end
        procs.append(subprocess.Popen(command,
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    return procs


def _stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # warm shutdown: the current job finishes
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def run(network: str, database: str, count: int, accounts: int, workers: int, redis_url: str,
        no_fork: bool) -> Result:
    from redis import Redis
    from rq import Worker

    from desk import create_app
    from desk.extensions import db
    from desk.models import Role
    from desk.models.replies import ReplyDelivery
    from desk.replies import services
    from desk.replies.jobs import enqueue_deliveries
    from tests import factories as make

    tmp = tempfile.mkdtemp(prefix=f"bench-replies-{network}-")
    if database == "postgresql":
        _postgres(create=True)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp}/bench.sqlite3"
    redis = Redis.from_url(redis_url)
    redis.flushdb()  # a spare db index of the bench's own
    world = World(network, accounts)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "REDIS_URL": redis_url,
                      "TESTING": True, **world.env})
    procs: list[subprocess.Popen] = []
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            operator = make.user(Role.OPERATOR)
            accs = world.accounts()
            for n in range(count):  # round-robin over the accounts
                i = n % accounts
                services.compose(world.ticket(accs[i], i, n), operator, "Здравствуйте, {name}! "
                                         "Заявка #{ticket} передана в службу.")
            db.session.commit()
            ids = db.session.scalars(db.select(ReplyDelivery.id).order_by(ReplyDelivery.id)).all()
            per_account = Counter(db.session.scalars(db.select(ReplyDelivery.account_id)).all())
            floor = minimum(network, list(per_account.values()))

            env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, SECRET_KEY=SECRET,
                       DESK_INSTANCE_PATH=tmp, **world.env)
            procs = _start_workers(workers, env, tmp, no_fork)
            deadline = time.monotonic() + 60
            while Worker.count(connection=redis) < workers:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise SystemExit(f"the workers did not start; see {tmp}/worker*.log")
                time.sleep(0.05)

            started = time.perf_counter()
            enqueue_deliveries(list(ids))
            limit = started + max(120.0, floor * 3)  # a safety net, not a measurement
            while True:
                db.session.rollback()
                pending = db.session.scalar(db.select(db.func.count()).select_from(ReplyDelivery).where(
                    ReplyDelivery.state.in_(("queued", "sending"))))
                db.session.rollback()  # hold no read transaction while the workers write (SQLite)
                if not pending:
                    break
                if time.perf_counter() > limit:
                    print(f"  gave up with {pending} rows not final", flush=True)
                    break
                time.sleep(0.02)
            wall = time.perf_counter() - started
            states = Counter(db.session.scalars(db.select(ReplyDelivery.state)).all())
            attempts = db.session.scalar(db.select(db.func.sum(ReplyDelivery.attempts))) or 0
        _stop_workers(procs)
        procs = []
        return Result(network, database, count, accounts, floor, wall, world.refused(), world.posted(),
                      dict(states), int(attempts))
    finally:
        _stop_workers(procs)
        world.stop()
        redis.flushdb()
        if database == "postgresql":
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            _postgres(create=False)


HEADER = ("| network | database | answers / accounts | minimum | wall | over the minimum | 429s | posted "
          "at the fake | attempts | final states |\n|---|---|---|---|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="vk,max,telegram")
    parser.add_argument("--count", type=int, default=1000, help="answers per VK and MAX scenario")
    parser.add_argument("--telegram-count", type=int, default=1000,
                        help="answers in the Telegram scenario (1,000 over 10 groups: at least 240 s)")
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help=f"also run on {PG_URL} (created and dropped)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--no-fork", action="store_true", help="flask worker --no-fork (jobs in the worker process)")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--out", default="", help="append the Markdown table to this file")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fakes' request log

    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    databases = (["sqlite"] if args.sqlite else []) + (["postgresql"] if args.postgres else [])
    results = []
    print(HEADER, flush=True)
    for database in databases:
        for network in [n.strip() for n in args.networks.split(",") if n.strip()]:
            count = args.telegram_count if network == "telegram" else args.count
            result = run(network, database, count, args.accounts, args.workers, redis_url, args.no_fork)
            results.append(result)
            print(result.line(), flush=True)
    if args.out:
        with open(args.out, "a") as out:
            out.write(HEADER + "\n" + "\n".join(r.line() for r in results) + "\n")


if __name__ == "__main__":
    main()
