"""The Alembic migrations build exactly the schema the models describe, on SQLite and
PostgreSQL, so `flask db upgrade` (what `make run` and production use) is never behind."""
from __future__ import annotations

import os
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from desk import create_app
from desk.extensions import db


@pytest.fixture
def empty_database_url(tmp_path, test_slot):
    base = os.environ.get("TEST_DATABASE_URL")
    if not (base and base.startswith("postgresql")):
        yield f"sqlite:///{tmp_path}/migrated.sqlite3"
        return
    url = make_url(base)
    name = f"{url.database}_mig_slot{test_slot}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_matches_the_models(empty_database_url, instance_path, redis_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x" * 40,
                      "REDIS_URL": redis_url, "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn, warnings.catch_warnings():
            # SQLite cannot reflect expression indexes, so Alembic says it skips the
            # PostgreSQL-only ix_tickets_search; expected there (the index is checked by name below).
            warnings.filterwarnings("ignore", category=UserWarning,
                                    message="autogenerate skipping metadata-specified expression-based index 'ix_tickets_search'")
            diffs = [d for d in compare_metadata(MigrationContext.configure(conn), db.metadata)
                     if not _backend_specific(d)]
            tables = set(inspect(conn).get_table_names())
        with db.engine.begin() as conn:  # 0004 widened the platform CHECK (edited in place on SQLite)
            conn.execute(text("INSERT INTO accounts (platform, name, link, direction, settings, is_active, created_at) "
                              "VALUES ('open311', 'Open311', '', 'authorities', '{}', true, CURRENT_TIMESTAMP)"))
            with pytest.raises(Exception, match="(?i)check"), conn.begin_nested():
                conn.execute(text("INSERT INTO accounts (platform, name, link, direction, settings, is_active, "
                                  "created_at) VALUES ('fax', 'Fax', '', 'authorities', '{}', true, CURRENT_TIMESTAMP)"))
            ticket_indexes = {i["name"] for i in inspect(conn).get_indexes("tickets")}
        db.engine.dispose()
    assert diffs == [], f"models and migrations differ: {diffs}"
    assert {"tickets", "messages", "accounts", "users"} <= tables
    if empty_database_url.startswith("sqlite"):
        assert "tickets_fts" in tables  # full-text search on SQLite
        assert "ix_tickets_report" in ticket_indexes and "ix_tickets_search" not in ticket_indexes
    else:
        assert "ix_tickets_search" in ticket_indexes and "ix_tickets_report" not in ticket_indexes


# Alembic's comparison does not know indexes created for one backend only (``ddl_if``)
# nor SQLite's FTS5 shadow tables; the test checks those by name instead.
BACKEND_SPECIFIC_INDEXES = {"ix_tickets_search", "ix_tickets_report"}


def _backend_specific(diff) -> bool:
    kind, obj = diff[0], diff[1]
    if kind in ("add_index", "remove_index"):
        return obj.name in BACKEND_SPECIFIC_INDEXES
    if kind == "remove_table":
        return obj.name.startswith("tickets_fts")
    return False
