"""Shared fixtures: a fresh app per test on SQLite (default) or PostgreSQL
(``TEST_DATABASE_URL``), a real Redis (``TEST_REDIS_URL``), factories and form login.

The schema is created once per test process; after each test every table is emptied,
so each test starts from an empty database without paying for DDL.
"""
from __future__ import annotations

import atexit
import os
import re
import time
import uuid

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from desk import create_app
from desk.extensions import db

from . import factories

pytest_plugins = ["tests.plugins.live"]

TEST_SECRET = "test-secret-key-" + "x" * 40


def _postgres_url(base: str, slot: int) -> str:
    """A database of this test process's own (named after its claimed slot), created on
    first use."""
    url = make_url(base)
    name = f"{url.database}_slot{slot}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, test_slot) -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if base and base.startswith("postgresql"):
        return _postgres_url(base, test_slot)
    path = tmp_path_factory.mktemp("db") / "test.sqlite3"
    return f"sqlite:///{path}"


REDIS_CLAIM = "desk-test:redis-db:{}"
REDIS_CLAIM_SECONDS = 3 * 3600  # outlives any run; a crashed run's claim ends by itself


def _claim_redis_db(base: str) -> int:
    """A Redis database of this test process's own, for the whole session (its number
    also names the process's PostgreSQL databases).

    Every test starts with FLUSHDB: two runs (or xdist workers) sharing a database would
    wipe each other's queues and fail at random. Each process claims a free database
    (1–15; 0 is left to the desk itself) with SET NX in database 0 and releases it at
    exit. ``DESK_TEST_REDIS_DB`` pins one (plus the xdist worker number) instead, and
    marks it taken for the others.
    """
    conn = Redis.from_url(f"{base.rstrip('/')}/0")
    token = f"{os.getpid()}:{uuid.uuid4().hex}"
    pinned = os.environ.get("DESK_TEST_REDIS_DB")
    if pinned:
        worker = int(re.sub(r"\D", "", os.environ.get("PYTEST_XDIST_WORKER", "gw0")) or "0")
        index = (int(pinned) + worker) % 16
        conn.set(REDIS_CLAIM.format(index), token, ex=REDIS_CLAIM_SECONDS)
    else:
        index = _first_free_db(conn, token)
    atexit.register(_release_redis_db, conn, index, token)
    return index


def _first_free_db(conn: Redis, token: str) -> int:
    for _ in range(600):
        for index in range(15, 0, -1):
            if conn.set(REDIS_CLAIM.format(index), token, nx=True, ex=REDIS_CLAIM_SECONDS):
                return index
        time.sleep(1)  # every database is in use by other runs: wait for one
    raise RuntimeError("no free Redis database for the tests (all 15 are claimed)")


def _release_redis_db(conn: Redis, index: int, token: str) -> None:
    try:
        if conn.get(REDIS_CLAIM.format(index)) == token.encode():
            conn.delete(REDIS_CLAIM.format(index))
    except RedisError:
        pass


TEST_REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


@pytest.fixture(scope="session")
def test_slot() -> int:
    """This test process's own number (1–15): its Redis database, and the name of its
    PostgreSQL databases, so parallel runs and xdist workers never share state."""
    return _claim_redis_db(TEST_REDIS_BASE)


@pytest.fixture(scope="session")
def redis_url(test_slot) -> str:
    return f"{TEST_REDIS_BASE}/{test_slot}"


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def _schema(database_url, redis_url, instance_path):
    app = create_app(_test_config(database_url, redis_url, instance_path))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    return True


def _test_config(database_url: str, redis_url: str, instance_path: str) -> dict:
    os.environ["DESK_INSTANCE_PATH"] = instance_path
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SERVER_NAME": None,
        "LOGIN_MAX_FAILURES": 5,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing; production uses scrypt
        "TELEGRAM_API_BASE": "http://127.0.0.1:9",
        "VK_API_BASE": "http://127.0.0.1:9",
        "MAX_API_BASE": "http://127.0.0.1:9",
        "OK_API_BASE": "http://127.0.0.1:9",
    }


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(_schema, database_url, redis_url, instance_path):
    app = create_app(_test_config(database_url, redis_url, instance_path))
    with app.app_context():
        _empty_tables()
        from desk.queue import get_redis

        get_redis().flushdb()
        yield app
        db.session.rollback()
        db.session.remove()


class FreshRequestClient(FlaskClient):
    """Each request starts with an empty ``g``, as in production.

    The ``app`` fixture keeps one app context open for the whole test (factories need
    it), and Flask reuses it for requests; without this, per-request caches in ``g``
    (the logged-in user, the CSRF token, the locale) would leak from one request into
    the next and could hide a scope bug.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(vars(g)):
                delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshRequestClient
    return app.test_client()


@pytest.fixture
def make(app):
    """Factories for test data (see tests/factories.py)."""
    return factories


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, email: str, password: str = factories.PASSWORD):
    """Log in through the real form, CSRF token included."""
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(client):
    def _login(user):
        response = login(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return _login
