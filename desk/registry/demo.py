"""``flask demo-registry``: the seed's network at its scale.

On top of ``flask demo``'s reference data it adds accounts until there are 137 active
ones in the 8 directions, 60 days of subscriber snapshots ending today with about
336 500 subscribers in total (a few days missing, as when a network was down), and the
city's own posts, some accounts falling silent. Running it again adds nothing.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import insert

from ..demo import data
from ..demo.loader import ensure_reference_data
from ..extensions import db
from ..i18n import city_today
from ..models import Account, Department, Post, utcnow
from ..models.registry import SubscriberSnapshot

SEED = 20260137
TARGET_ACCOUNTS = 137
TARGET_SUBSCRIBERS = 336_500
HISTORY_DAYS = 60
GAP_SHARE = 0.01  # share of (account, day) pairs without a count
PLATFORM_WEIGHTS = {"telegram": 50, "vk": 25, "max": 15, "ok": 10}

# (direction, department, name patterns): the kinds of organisations of each direction.
GENERATED = [
    ("housing", "ЖКХ", ["Управляющая компания «Дом {n}»", "ТСЖ «Северный-{n}»", "Совет МКД квартала {n}"]),
    ("education", "Образование", ["Школа №{n}", "Детский сад №{n}", "Дом детского творчества {n}"]),
    ("culture", "Культура", ["Библиотека-филиал №{n}", "Клуб микрорайона {n}", "Детская школа искусств {n}"]),
    ("sport", "Спорт", ["Спортивный клуб «Амур-{n}»", "ФОК микрорайона {n}", "Секция единоборств {n}"]),
    ("public_associations", None, ["ТОС «Квартал {n}»", "Молодёжный совет {n}", "Общественная палата: округ {n}"]),
    ("social", "Социальная защита", ["Соцучреждение «Забота-{n}»", "Центр семьи {n}", "Отделение МФЦ {n}"]),
    ("business", "Предпринимательство и торговля", ["Торговый центр {n}", "Кооператив «Белогорье-{n}»"]),
    ("authorities", None, ["Избирательный округ №{n}", "Территориальный отдел {n}"]),
]


@dataclass
class RegistryDemoReport:
    accounts_added: int = 0
    snapshots_added: int = 0
    posts_added: int = 0
    accounts: int = 0
    subscribers: int = 0


def _link(platform: str, slug: str) -> str:
    return {"telegram": f"https://t.me/{slug}", "vk": f"https://vk.com/{slug}",
            "ok": f"https://ok.ru/{slug}", "max": f"https://max.ru/{slug}"}[platform]


def _settings(platform: str, n: int) -> dict:
    return {"telegram": {"channel_id": f"-100{1900000000 + n}"}, "vk": {"group_id": str(220000000 + n)},
            "max": {"chat_id": str(-71300000000 - n)}, "ok": {"group_id": str(71000000000000 + n)}}[platform]


def ensure_accounts(rng: random.Random) -> tuple[list[Account], int]:
    """Every active account, after adding generated ones up to :data:`TARGET_ACCOUNTS`."""
    ensure_reference_data()
    departments = {d.name: d for d in db.session.scalars(db.select(Department)).all()}
    active = list(db.session.scalars(db.select(Account).where(Account.is_active.is_(True), Account.on_networks())).all())
    added, n = 0, 0
    platforms, weights = list(PLATFORM_WEIGHTS), list(PLATFORM_WEIGHTS.values())
    while len(active) < TARGET_ACCOUNTS:
        direction, dept, patterns = GENERATED[n % len(GENERATED)]
        number = n // len(GENERATED) + 2
        name = patterns[(n // len(GENERATED)) % len(patterns)].format(n=number)
        platform = rng.choices(platforms, weights)[0]
        n += 1
        if db.session.scalars(db.select(Account.id).where(Account.platform == platform, Account.name == name)).first():
            continue
        account = Account(platform=platform, name=name, direction=direction, department=departments.get(dept),
                          settings=_settings(platform, n), link=_link(platform, f"belogorsk_reg{n}"))
        db.session.add(account)
        active.append(account)
        added += 1
    db.session.flush()
    return sorted(active, key=lambda a: a.id), added


def final_counts(accounts: list[Account], rng: random.Random) -> dict[int, int]:
    """Today's count per account: a few big accounts (the city's own) and a long tail,
    scaled so that the network totals :data:`TARGET_SUBSCRIBERS`."""
    weights = {a.id: rng.paretovariate(1.3) * (6 if a.direction == "authorities" else 1) for a in accounts}
    scale = TARGET_SUBSCRIBERS / sum(weights.values())
    counts = {account_id: max(40, round(w * scale)) for account_id, w in weights.items()}
    largest = max(counts, key=counts.__getitem__)
    counts[largest] += TARGET_SUBSCRIBERS - sum(counts.values())  # the exact total
    return counts


def add_snapshots(accounts: list[Account], finals: dict[int, int], today: date, rng: random.Random) -> int:
    start = today - timedelta(days=HISTORY_DAYS - 1)
    existing = set(db.session.execute(db.select(SubscriberSnapshot.account_id, SubscriberSnapshot.day)
                                      .where(SubscriberSnapshot.day >= start)).all())
    rows = []
    for account in accounts:
        growth = rng.uniform(-0.02, 0.12)  # over the whole window
        for back in range(HISTORY_DAYS):
            day = today - timedelta(days=back)
            # draw every number before deciding to skip, so a re-run sees the same data
            gap, noise = rng.random() < GAP_SHARE, 1 + rng.uniform(-0.002, 0.002)
            if (account.id, day) in existing or (back and gap):
                continue
            trend = finals[account.id] / (1 + growth * back / HISTORY_DAYS)
            noise = noise if back else 1
            rows.append({"account_id": account.id, "day": day, "count": max(0, round(trend * noise))})
    if rows:
        db.session.execute(insert(SubscriberSnapshot), rows)
    return len(rows)


def add_posts(accounts: list[Account], today: date, rng: random.Random) -> int:
    tz, now = ZoneInfo(current_app.config["DESK_TIMEZONE"]), utcnow()
    existing = set(db.session.execute(db.select(Post.account_id, Post.external_id)
                                      .where(Post.external_id.like("reg-%"))).all())
    rows = []
    for account in accounts:
        per_day = rng.choice([0.15, 0.3, 0.6, 1.0, 1.6])
        silent_for = rng.choice([0] * 8 + [10, 21])  # some accounts stopped posting
        for back in range(silent_for, HISTORY_DAYS):
            day = today - timedelta(days=back)
            for k in range(int(per_day) + (rng.random() < per_day % 1)):
                external_id = f"reg-{day.isoformat()}-{k}"
                at = datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)), tzinfo=tz)
                text = data.POSTS[rng.randrange(len(data.POSTS))]
                if (account.id, external_id) in existing or at > now:
                    continue
                rows.append({"account_id": account.id, "external_id": external_id, "text": text,
                             "posted_at": at.astimezone(ZoneInfo("UTC")), "link": account.link})
    if rows:
        db.session.execute(insert(Post), rows)
    return len(rows)


def load_registry_demo(today: date | None = None) -> RegistryDemoReport:
    """Flushes only; the command commits."""
    today = today or city_today()
    # one generator per stage: a re-run that skips a stage's work draws the same numbers later
    accounts, added = ensure_accounts(random.Random(SEED))
    finals = final_counts(accounts, random.Random(SEED + 1))
    report = RegistryDemoReport(accounts_added=added, accounts=len(accounts))
    report.snapshots_added = add_snapshots(accounts, finals, today, random.Random(SEED + 2))
    report.posts_added = add_posts(accounts, today, random.Random(SEED + 3))
    report.subscribers = int(db.session.scalar(
        db.select(db.func.sum(SubscriberSnapshot.count)).where(SubscriberSnapshot.day == today)) or 0)
    return report
