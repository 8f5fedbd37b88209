"""Drill-down: the tickets behind one figure of the report, with the same filters.

``metric`` names the figure (see :func:`metrics.outcome_conditions`), or ``backlog``
with an ``age`` bucket; the list is keyset-paginated by id, newest first.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Category, Department, Ticket
from . import metrics
from .filters import ReportFilters

PAGE_SIZE = 50
BACKLOG = "backlog"


@dataclass(frozen=True)
class Drill:
    filters: ReportFilters
    metric: str = "total"
    age: str = ""

    @classmethod
    def from_args(cls, args: Mapping, today: date) -> tuple[Drill, dict[str, Any]]:
        filters, errors = ReportFilters.from_args(args, today)
        metric = (args.get("metric") or "total").strip()
        age = (args.get("age") or "").strip()
        if metric == BACKLOG:
            if age not in {key for key, _lo, _hi in metrics.AGE_BUCKETS}:
                errors["age"] = _l("unknown age bucket")
                age = metrics.AGE_BUCKETS[0][0]
        elif metric not in metrics.OUTCOMES:
            errors["metric"] = _l("unknown figure")
            metric = "total"
        return cls(filters, metric, age if metric == BACKLOG else ""), errors

    def to_args(self, **extra: Any) -> dict[str, Any]:  # query-string values for url_for
        return self.filters.to_args(metric=self.metric, age=self.age or None, **extra)

    def conditions(self, now: datetime, tz: ZoneInfo) -> list:
        if self.metric == BACKLOG:  # today's backlog: the period does not apply
            return [metrics.age_condition(self.age, now), *self.filters.dim_conditions()]
        return [*self.filters.conditions(tz), metrics.outcome_conditions(now)[self.metric]]


def page(drill: Drill, now: datetime, tz: ZoneInfo, before_id: int | None = None,
         limit: int = PAGE_SIZE) -> tuple[list[Ticket], int | None]:
    """One page of tickets and the id to continue after (``None`` on the last page)."""
    query = (db.select(Ticket).where(*drill.conditions(now, tz))
             .options(joinedload(Ticket.department), joinedload(Ticket.category))
             .order_by(Ticket.id.desc()).limit(limit + 1))
    if before_id is not None:
        query = query.where(Ticket.id < before_id)
    rows = list(db.session.scalars(query).unique())
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def count(drill: Drill, now: datetime, tz: ZoneInfo) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Ticket).where(*drill.conditions(now, tz))) or 0


def export_query(conditions: list):
    """Flat rows for an export: ticket columns plus department and category names."""
    return (db.select(Ticket.id, Ticket.created_at, Ticket.status, Ticket.priority, Ticket.platform,
                      Ticket.direction, Department.name.label("department"), Category.name.label("category"),
                      Ticket.subject, Ticket.author_name, Ticket.reaction_due_at, Ticket.first_reply_at,
                      Ticket.resolution_due_at, Ticket.resolved_at, Ticket.closed_at, Ticket.sla_breached)
            .outerjoin(Department, Department.id == Ticket.department_id)
            .outerjoin(Category, Category.id == Ticket.category_id)
            .where(*conditions).order_by(Ticket.id.desc()))
