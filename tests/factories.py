"""Factories for test data. Each creates rows, flushes and commits."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from desk.extensions import db
from desk.ingest import InboundMessage, ingest
from desk.models import Account, Category, Department, Role, Ticket, User

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def department(name: str | None = None, **kw) -> Department:
    dept = Department(name=name or f"Department {next(_seq)}", **kw)
    db.session.add(dept)
    db.session.commit()
    return dept


def category(name: str | None = None, default_department: Department | None = None, **kw) -> Category:
    cat = Category(name=name or f"Category {next(_seq)}", default_department=default_department, **kw)
    db.session.add(cat)
    db.session.commit()
    return cat


def user(role: Role | str = Role.OPERATOR, department: Department | None = None,
         email: str | None = None, password: str = PASSWORD, **kw) -> User:
    role = Role(role).value
    u = User(email=email or f"{role}{next(_seq)}@city.test", name=kw.pop("name", f"{role} user"),
             role=role, department=department, **kw)
    u.set_password(password)
    db.session.add(u)
    db.session.commit()
    return u


def account(platform: str = "telegram", direction: str = "housing", name: str | None = None,
            department: Department | None = None, settings: dict | None = None,
            credentials: dict | None = None) -> Account:
    acc = Account(platform=platform, direction=direction, name=name or f"Account {next(_seq)}",
                  department=department, settings=settings or {}, link="https://example.org/acc")
    if credentials:
        acc.set_credentials(credentials)
    db.session.add(acc)
    db.session.commit()
    return acc


def inbound(acc: Account, text: str = "Когда починят ямы во дворе дома 5?", *, external_id: str | None = None,
            author_id: str = "1001", author_name: str = "Иван Петров", thread_ref: str | None = "post-1",
            post_ref: str | None = None, sent_at: datetime | None = None, **kw) -> InboundMessage:
    return InboundMessage(
        account_id=acc.id,
        external_id=external_id or f"m{next(_seq)}",
        text=text,
        sent_at=sent_at or datetime.now(UTC) - timedelta(minutes=5),
        author_id=author_id,
        author_name=author_name,
        thread_ref=thread_ref,
        post_ref=post_ref if post_ref is not None else thread_ref,
        **kw,
    )


def ticket(acc: Account | None = None, text: str = "Когда починят ямы во дворе дома 5?", **kw) -> Ticket:
    """A new ticket that came in through ingest, as in production."""
    acc = acc or account()
    kw.setdefault("author_id", str(next(_seq)))
    result = ingest(inbound(acc, text, **kw))
    db.session.commit()
    return db.session.get(Ticket, result.ticket_id)
