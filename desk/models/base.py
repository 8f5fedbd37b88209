"""The declarative base every model subclasses, visible to type checkers.

Flask-SQLAlchemy builds ``db.Model`` at runtime (our ``Base`` plus its bind and
``__tablename__`` mixins), so mypy sees a variable, not a class. Models subclass
``Model`` from here: at runtime it *is* ``db.Model``; for the type checker it is a class
over ``Base`` that carries every mapped-column and relationship type the models declare.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import Table

from ..extensions import Base, db

if TYPE_CHECKING:
    class Model(Base):
        __abstract__ = True
        # Every model here maps one declared table (never a join or a select), so its
        # ``__table__`` is a Table (bulk inserts use ``Model.__table__.insert()``).
        __table__: ClassVar[Table]
else:
    Model = db.Model

__all__ = ["Model"]
