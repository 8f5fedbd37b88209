"""Full-text search over a ticket's subject and author name, per backend.

PostgreSQL: ``websearch_to_tsquery`` against the expression of the GIN index
``ix_tickets_search`` (declared on the model, PostgreSQL only). The expression here must
stay identical to the index's, and the text search configuration is a literal (not a
bound parameter) so that the planner can match the index.

SQLite: an FTS5 external-content table ``tickets_fts`` kept in sync by triggers, created
right after the ``tickets`` table (``after_create``). Its ``unicode61`` tokenizer folds
Cyrillic case, which ``LIKE``/``lower()`` in SQLite do not. Each query word is cut to its
Snowball stem, the algorithm of PostgreSQL's ``russian`` configuration, and matched as a
prefix: "отопления" finds "отопление", "фонарей" finds "фонари", on both databases. A database created by
migrations without these objects falls back to ``LIKE`` until :func:`install_sqlite_fts`
is run (``SQLITE_FTS_DDL`` is what a migration executes).
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement, TextClause

from ..extensions import db
from ..models import Ticket
from ..web_input import parse_id

# Keep in sync with Index("ix_tickets_search", ...) in desk/models/tickets.py.
PG_SEARCH_VECTOR = "to_tsvector('russian', coalesce(tickets.subject, '') || ' ' || coalesce(tickets.author_name, ''))"

SQLITE_FTS_DDL = [
    "DROP TABLE IF EXISTS tickets_fts",
    "CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, author_name, content='tickets', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS tickets_fts_ai AFTER INSERT ON tickets BEGIN "
    "INSERT INTO tickets_fts(rowid, subject, author_name) VALUES (new.id, new.subject, new.author_name); END",
    "CREATE TRIGGER IF NOT EXISTS tickets_fts_ad AFTER DELETE ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject, author_name) "
    "VALUES ('delete', old.id, old.subject, old.author_name); END",
    "CREATE TRIGGER IF NOT EXISTS tickets_fts_au AFTER UPDATE OF subject, author_name ON tickets BEGIN "
    "INSERT INTO tickets_fts(tickets_fts, rowid, subject, author_name) "
    "VALUES ('delete', old.id, old.subject, old.author_name); "
    "INSERT INTO tickets_fts(rowid, subject, author_name) VALUES (new.id, new.subject, new.author_name); END",
    # Index rows that existed before the table (a database upgraded in place).
    "INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')",
]

RARE_CAP = 1000
_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яё]")
_STEMMER_LOCK = threading.Lock()
_fts_ready: dict[int, bool] = {}


def install_sqlite_fts(connection: Connection) -> None:
    """Create (or recreate) the FTS5 table and its triggers on a SQLite database."""
    for statement in SQLITE_FTS_DDL:
        connection.exec_driver_sql(statement)
    _fts_ready.clear()


@event.listens_for(Ticket.__table__, "after_create")
def _after_create(_table: Table, connection: Connection, **_kw: Any) -> None:
    if connection.dialect.name == "sqlite":
        install_sqlite_fts(connection)


@event.listens_for(Ticket.__table__, "before_drop")
def _before_drop(_table: Table, connection: Connection, **_kw: Any) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TABLE IF EXISTS tickets_fts")
        _fts_ready.clear()


def _sqlite_has_fts(engine: Engine) -> bool:
    key = id(engine)
    if key not in _fts_ready:
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickets_fts'"
            ).first()
        _fts_ready[key] = found is not None
    return _fts_ready[key]


def _pg_rare_matches(cond: TextClause) -> list[int] | None:
    """Ids of all tickets matching ``cond`` when there are fewer than ``cap``, else None.

    The planner cannot estimate rare terms (a name, a house number): it then walks the
    id or deadline index and evaluates ``to_tsvector`` on every row (seconds at a
    million tickets). Probing first makes a rare term a short id list (GIN, a few ms);
    a common term keeps the ordered index scan, which finds matches quickly.
    """
    ids = list(db.session.scalars(db.select(Ticket.id).where(cond).limit(RARE_CAP + 1)))
    return ids if len(ids) <= RARE_CAP else None


def _fts5_query(q: str) -> str:
    # Every word's stem as a quoted prefix term: no FTS syntax from users; "ямы" and "ям"
    # find "яма", "отопления" finds "отопление".
    return " ".join(f'"{_stem(w)}"*' for w in _WORD.findall(q))


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    word = word.lower()
    if not _CYRILLIC.search(word):
        return word
    with _STEMMER_LOCK:  # a Snowball stemmer keeps its word in itself: one thread at a time
        stem = _russian().stemWord(word) or word
    # Snowball writes ё as е; the index keeps ё (unicode61 folds no Cyrillic): the word's
    # own letters, cut to the stem's length.
    if word.replace("ё", "е").startswith(stem):
        return word[:len(stem)]
    return stem


@lru_cache(maxsize=1)
def _russian() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("russian")


def ticket_number(q: str) -> tuple[int | None, bool]:
    """The ticket number ``q`` may name, and whether it can only be that (``#123``) rather
    than also words to search (``123``, a house number too)."""
    q = q.strip()
    number = parse_id(q.lstrip("#"))
    return number, number is not None and q.startswith("#")


def search_condition(q: str, with_number: bool = True) -> ColumnElement[bool] | TextClause:
    """A WHERE condition matching tickets whose subject or author contains ``q``'s words
    (in any of their forms).

    ``#123`` (or, with ``with_number``, a bare number) also finds the ticket with that id.
    """
    q = q.strip()
    by_id = None
    number, exact = ticket_number(q)
    if number is not None:
        by_id = Ticket.id == number
        if exact:
            return by_id
        if not with_number:
            by_id = None

    # The PostgreSQL match stays literal SQL (see PG_SEARCH_VECTOR), hence the TextClause.
    cond: ColumnElement[bool] | TextClause
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        cond = text(f"{PG_SEARCH_VECTOR} @@ websearch_to_tsquery('russian', :desk_q)").bindparams(desk_q=q)
        rare = _pg_rare_matches(cond)
        if rare is not None:
            cond = Ticket.id.in_(rare) if rare else db.false()
    elif dialect == "sqlite" and _sqlite_has_fts(db.engine):
        terms = _fts5_query(q)
        if not terms:
            return by_id if by_id is not None else db.false()
        cond = Ticket.id.in_(
            text("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH :desk_q").bindparams(desk_q=terms)
            .columns(rowid=db.Integer)
        )
    else:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        cond = Ticket.subject.ilike(pattern, escape="\\") | Ticket.author_name.ilike(pattern, escape="\\")
    return cond if by_id is None else db.or_(cond, by_id)
