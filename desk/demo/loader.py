"""``flask demo``: the city of Belogorsk with its departments, accounts and tickets.

Tickets come in through :func:`desk.ingest.ingest` and are worked with the ticket
services, so every ticket has its messages and events as in production. Loading is
idempotent: reference rows are found by their natural keys, and a comment whose
external id is already stored is skipped together with everything done to its ticket.
The timestamps of each step are moved back to plausible moments between the comment
and now, so ages, reaction and resolution times look like a real desk's.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..extensions import db
from ..ingest import InboundMessage, ingest, record_post
from ..models import Account, Category, Department, Message, Post, Priority, Ticket, TicketStatus, User, utcnow
from ..sla.services import record_first_public_reply
from ..tickets import services
from ..tickets.workflow import change_status, record_event
from . import data

S = TicketStatus
SEED = 20260101
COMMIT_EVERY = 250

# Share of each final status among the demo tickets.
STATUS_WEIGHTS = {
    S.NEW: 14, S.TRIAGED: 11, S.IN_PROGRESS: 15, S.WAITING_RESIDENT: 6, S.RESOLVED: 13,
    S.CLOSED: 20, S.NOT_APPEAL: 11, S.SPAM: 5, S.MERGED: 5,
}
# How old (in days) a ticket in each status may be.
AGE_DAYS = {
    S.NEW: (0, 3), S.TRIAGED: (0, 6), S.IN_PROGRESS: (1, 20), S.WAITING_RESIDENT: (2, 20),
    S.RESOLVED: (2, 30), S.CLOSED: (5, 90), S.NOT_APPEAL: (0, 90), S.SPAM: (0, 90), S.MERGED: (1, 40),
}
PRIORITY_WEIGHTS = {Priority.LOW: 15, Priority.NORMAL: 65, Priority.HIGH: 15, Priority.URGENT: 5}


@dataclass
class Reference:
    departments: dict[str, Department]
    categories: list[Category]
    accounts: list[Account]
    posts: dict[int, list[Post]]
    operator: User
    heads: dict[int, User]  # department id -> head


@dataclass
class DemoReport:
    created: int = 0
    skipped: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def _get_or_create(model, where: dict, **values):
    row = db.session.scalars(db.select(model).filter_by(**where)).first()
    if row is None:
        row = model(**where, **values)
        db.session.add(row)
        db.session.flush()
    return row


def _platform_settings(platform: str, index: int, extra: dict) -> dict:
    base = {
        "telegram": {"channel_id": f"-100{1700000000 + index}", "discussion_chat_id": f"-100{1800000000 + index}"},
        "vk": {"group_id": str(210000000 + index)},
        "max": {"chat_id": str(-71200000000 - index)},
        "ok": {"group_id": str(70000000000000 + index)},
    }[platform]
    return {**base, **extra}


def _account_link(platform: str, settings: dict, index: int) -> str:
    if platform == "telegram":
        return f"https://t.me/{settings.get('channel_username', f'belogorsk_{index}')}"
    if platform == "vk":
        return f"https://vk.com/{settings.get('screen_name', 'club' + settings['group_id'])}"
    if platform == "ok":
        return f"https://ok.ru/group/{settings['group_id']}"
    return f"https://max.ru/belogorsk_{index}"


def ensure_reference_data() -> Reference:
    """Departments, categories, accounts with posts, and the demo users (idempotent)."""
    departments = {}
    for name, _slug, approval in data.DEPARTMENTS:
        departments[name] = _get_or_create(Department, {"name": name}, answers_need_approval=approval)
    categories = [
        _get_or_create(Category, {"name": name}, direction=direction,
                       default_department=departments[dept])
        for name, direction, dept, _texts in data.CATEGORIES
    ]
    accounts, posts = [], {}
    for index, (name, platform, direction, dept, extra) in enumerate(data.ACCOUNTS, start=1):
        settings = _platform_settings(platform, index, extra)
        account = _get_or_create(Account, {"platform": platform, "name": name}, direction=direction,
                                 department=departments[dept] if dept else None, settings=settings,
                                 link=_account_link(platform, settings, index))
        accounts.append(account)
        posts[account.id] = [_ensure_post(account, index, n) for n in range(3)]

    users = {}
    for email, name, role, dept in data.DEMO_LOGINS:
        users[email] = _ensure_user(email, name, role, departments[dept] if dept else None)
    heads = {}
    for name, slug, _approval in data.DEPARTMENTS:
        dept = departments[name]
        email = f"head.{slug}@{data.DEMO_DOMAIN}"
        heads[dept.id] = users.get(email) or _ensure_user(email, f"Руководитель: {name}", "department_head", dept)
    db.session.flush()
    return Reference(departments, categories, accounts, posts,
                     users[f"operator@{data.DEMO_DOMAIN}"], heads)


def _ensure_post(account: Account, index: int, n: int) -> Post:
    external_id = str(100 + n)
    thread_ref = str(5000 + n) if account.platform == "telegram" else None
    existing = db.session.scalars(
        db.select(Post).where(Post.account_id == account.id, Post.external_id == external_id)
    ).first()
    if existing is not None:
        return existing
    text = data.POSTS[(index + n) % len(data.POSTS)]
    posted_at = utcnow() - timedelta(days=90 - 30 * n)
    return record_post(account.id, external_id, text, posted_at=posted_at,
                       link=f"{account.link}/{external_id}", thread_ref=thread_ref)


def _ensure_user(email: str, name: str, role: str, department: Department | None) -> User:
    user = db.session.scalars(db.select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, name=name, role=role, department=department)
        user.set_password(data.DEMO_PASSWORD)
        db.session.add(user)
        db.session.flush()
    return user


# --- tickets ---------------------------------------------------------------------------

@dataclass
class Plan:
    index: int
    account: Account
    category: Category
    status: TicketStatus
    sent_at: datetime
    text: str
    author_id: str
    author_name: str
    follow_up: str | None


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _complaint(rng: random.Random, texts: list[str]) -> str:
    body = rng.choice(texts).format(
        street=rng.choice(data.STREETS), house=rng.randint(1, 120), place=rng.choice(data.PLACES),
        route=rng.randint(1, 24), school=rng.randint(1, 17))
    return rng.choice(data.OPENERS) + body + rng.choice(data.CLOSERS)


def plan_ticket(rng: random.Random, index: int, ref: Reference, now: datetime) -> Plan:
    """What the ``index``-th demo ticket looks like (the same for the same seed)."""
    account = ref.accounts[index % len(ref.accounts)]
    own = [c for c in ref.categories if account.department_id and c.default_department_id == account.department_id]
    category = rng.choice(own) if own and rng.random() < 0.7 else rng.choice(ref.categories)
    status = _pick(rng, STATUS_WEIGHTS)
    low, high = AGE_DAYS[status]
    sent_at = now - timedelta(days=rng.uniform(low, high), minutes=rng.randint(5, 60))
    texts = dict((name, t) for name, _d, _dept, t in data.CATEGORIES)[category.name]
    if status is S.NOT_APPEAL:
        text = rng.choice(data.THANKS)
    elif status is S.SPAM:
        text = rng.choice(data.SPAM)
    else:
        text = _complaint(rng, texts)
    follow_up = rng.choice(data.FOLLOW_UPS) if status not in (S.NOT_APPEAL, S.SPAM) and rng.random() < 0.15 else None
    name = f"{rng.choice(data.FIRST_NAMES)} {rng.choice(data.LAST_NAMES)}"
    return Plan(index, account, category, status, sent_at, text, str(7_000_000 + index), name, follow_up)


def _inbound(plan: Plan, post: Post, external_id: str, text: str, sent_at: datetime) -> InboundMessage:
    thread = post.thread_ref or post.external_id
    return InboundMessage(
        account_id=plan.account.id, external_id=external_id, text=text, sent_at=sent_at,
        author_id=plan.author_id, author_name=plan.author_name, thread_ref=thread, post_ref=thread,
        permalink=f"{post.link}?comment={external_id}",
    )


class Timeline:
    """Moves the timestamps a service set to 'now' back to the moment of the step."""

    def __init__(self, ticket: Ticket, start: datetime, steps: int, rng: random.Random, now: datetime):
        self.ticket = ticket
        span = max((now - start).total_seconds() - 120, 60)
        # Skewed towards the start: most tickets are routed and answered within a day or
        # two, a few drag on (so the SLA reports show both).
        self.moments = sorted(start + timedelta(seconds=60 + (span - 60) * rng.random() ** 4)
                              for _ in range(steps))
        self.seen = 0
        self.last = start

    def step(self, action: Callable[[], object]) -> None:
        action()  # every ticket service flushes, so its events have ids by now
        when = self.moments.pop(0) if self.moments else self.last
        self.last = when
        events = self.ticket.events
        for event in events[self.seen:]:
            event.created_at = when
        self.seen = len(events)
        for name in ("triaged_at", "resolved_at", "closed_at", "first_reply_at", "reacted_at"):
            value = getattr(self.ticket, name)
            if value is not None and value > when:
                setattr(self.ticket, name, when)
        for message in self.ticket.messages:
            if message.direction == "outbound" and message.sent_at > when:
                message.sent_at = when


def _public_reply(ticket: Ticket, author: User, text: str, key: str = "reply") -> None:
    """The city's answer as it looks once posted: an outbound message on the thread and
    the first public reply recorded (stops the reaction clock)."""
    db.session.add(Message(
        ticket=ticket, direction="outbound", platform=ticket.platform, account_id=ticket.account_id,
        external_id=f"demo-{key}-{ticket.id}", post_id=ticket.post_id, thread_ref=ticket.thread_ref,
        author_name=ticket.account.name if ticket.account else "", text=text, sent_at=utcnow(),
    ))
    record_first_public_reply(ticket, utcnow())
    record_event(ticket, author, "reply_sent", new=text[:200], is_public=True)
    db.session.flush()


def _steps(plan: Plan, ticket: Ticket, ref: Reference, rng: random.Random,
           merge_targets: list[int]) -> list[Callable[[], object]]:
    """The services to call, in order, to bring a new ticket to the planned status."""
    op = ref.operator
    dept = plan.category.default_department
    head = ref.heads.get(dept.id) if dept else None
    priority = _pick(rng, PRIORITY_WEIGHTS)
    route = lambda: services.route(ticket, op, category=plan.category, priority=priority)  # noqa: E731
    status = plan.status
    if status is S.NEW:
        if rng.random() < 0.15 and head is not None:  # wrongly routed, sent back by the department
            return [route, lambda: services.return_to_triage(
                ticket, head, "Не наш профиль, просим передать в другое подразделение.")]
        return []
    if status is S.NOT_APPEAL:
        return [lambda: change_status(ticket, S.NOT_APPEAL, op)]
    if status is S.SPAM:
        return [lambda: change_status(ticket, S.SPAM, op)]
    if status is S.MERGED:
        target_id = merge_targets[rng.randrange(len(merge_targets))] if merge_targets else None
        target = db.session.get(Ticket, target_id) if target_id else None
        if target is None or not target.is_open:
            return [route]
        return [lambda: services.merge(ticket, target, op)]
    steps: list[Callable[[], object]] = [route]
    if status is S.TRIAGED:
        return steps
    if head is None:  # every demo category names a department, and every department has a head
        raise RuntimeError(f"demo category {plan.category.name!r} has no department head")
    steps.append(lambda: services.accept(ticket, head))
    if rng.random() < 0.8:  # most tickets got a public "we are on it" answer
        steps.append(lambda: _public_reply(ticket, head, rng.choice(data.ACKNOWLEDGEMENTS)))
    if status is S.IN_PROGRESS:
        if rng.random() < 0.3:
            steps.append(lambda: services.add_note(ticket, head, "Направлена бригада, ждём результат."))
        return steps
    if status is S.WAITING_RESIDENT:
        steps.append(lambda: _public_reply(ticket, head, rng.choice(data.WAITING_QUESTIONS), "question"))
        steps.append(lambda: change_status(ticket, S.WAITING_RESIDENT, head))
        return steps
    steps.append(lambda: _public_reply(ticket, head, rng.choice(data.ANSWERS), "answer"))
    steps.append(lambda: change_status(ticket, S.RESOLVED, head))
    if status is S.CLOSED:
        steps.append(lambda: change_status(ticket, S.CLOSED, op))
    return steps


def load_tickets(ref: Reference, count: int, progress=None) -> DemoReport:
    """Create ``count`` demo tickets (those already loaded are skipped); commits in batches."""
    rng = random.Random(SEED)
    now = utcnow()
    report = DemoReport()
    merge_targets: list[int] = []
    # One query instead of one per comment: what an earlier run already loaded.
    loaded = set(db.session.scalars(
        db.select(Message.external_id).where(Message.external_id.like("demo-%"))))
    for index in range(count):
        plan = plan_ticket(rng, index, ref, now)
        # A separate stream per ticket: its steps do not shift the plans of later tickets.
        steps_rng = random.Random(SEED * 31 + index)
        post = ref.posts[plan.account.id][index % 3]
        result = None
        if f"demo-{index}" not in loaded:
            result = ingest(_inbound(plan, post, f"demo-{index}", plan.text, plan.sent_at))
        if result is None or result.outcome != "created":
            report.skipped += 1
        else:
            report.created += 1
            ticket = db.session.get(Ticket, result.ticket_id)
            assert ticket is not None  # ingest() has just created it
            _work(plan, ticket, post, ref, steps_rng, now, merge_targets)
        if progress is not None:
            progress.update(1)
        if index % COMMIT_EVERY == COMMIT_EVERY - 1:
            db.session.commit()
    db.session.commit()
    rows = db.session.execute(db.select(Ticket.status, db.func.count()).group_by(Ticket.status)).all()
    report.statuses = {status: n for status, n in rows}
    return report


def _work(plan: Plan, ticket: Ticket, post: Post, ref: Reference, rng: random.Random, now: datetime,
          merge_targets: list[int]) -> None:
    if plan.follow_up:
        later = min(plan.sent_at + timedelta(minutes=rng.randint(10, 600)), now - timedelta(minutes=1))
        ingest(_inbound(plan, post, f"demo-{plan.index}-f", plan.follow_up, later))
    steps = _steps(plan, ticket, ref, rng, merge_targets)
    timeline = Timeline(ticket, plan.sent_at, len(steps), rng, now)
    for action in steps:
        timeline.step(action)
    ticket.updated_at = timeline.last
    if ticket.status in (S.NEW.value, S.TRIAGED.value, S.IN_PROGRESS.value):
        merge_targets.append(ticket.id)
        del merge_targets[:-200]  # merge into recent incidents
