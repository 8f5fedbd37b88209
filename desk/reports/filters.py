"""What a report (or a drill-down) covers: a period and optional dimension values.

Dimension values come from query arguments: ``department``/``category`` are ids,
``direction``/``platform`` enum values, and ``none`` selects tickets without one.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..models import Direction, Platform, Ticket, TicketStatus
from ..web_input import parse_id
from .periods import Period, parse_period

NONE = "none"
# Tickets that are not appeals at all: never counted in a report.
# Report dimension (also its query argument) -> ticket column.
DIMENSIONS = {
    "department": Ticket.department_id,
    "direction": Ticket.direction,
    "category": Ticket.category_id,
    "platform": Ticket.platform,
}
ALLOWED = {"direction": Direction.values(), "platform": Platform.values()}


def city_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["DESK_TIMEZONE"])


@dataclass(frozen=True)
class ReportFilters:
    period: Period
    # Dimension name -> int id, enum value, or NONE; absent means any.
    dims: tuple[tuple[str, int | str], ...] = ()

    @classmethod
    def from_args(cls, args: Mapping, today: date) -> tuple[ReportFilters, dict[str, Any]]:
        period, errors = parse_period(args, today)
        dims: list[tuple[str, int | str]] = []
        for name in DIMENSIONS:
            raw = (args.get(name) or "").strip()
            if not raw:
                continue
            if raw == NONE:
                dims.append((name, NONE))
            elif name in ALLOWED:
                if raw in ALLOWED[name]:
                    dims.append((name, raw))
                else:
                    errors[name] = _l("must be one of %(values)s", values=", ".join(ALLOWED[name]))
            elif (number := parse_id(raw)) is not None:
                dims.append((name, number))
            else:
                errors[name] = _l("must be a positive integer or none")
        return cls(period, tuple(dims)), errors

    def dim(self, name: str) -> int | str | None:
        return dict(self.dims).get(name)

    def with_dim(self, name: str, value) -> ReportFilters:
        dims = dict(self.dims)
        dims[name] = NONE if value is None else value
        return replace(self, dims=tuple(dims.items()))

    def with_period(self, period: Period) -> ReportFilters:
        return replace(self, period=period)

    def to_args(self, **extra: Any) -> dict[str, Any]:  # query-string values for url_for
        args: dict[str, Any] = {**self.period.to_args(), **dict(self.dims)}
        args.update(extra)
        return {k: v for k, v in args.items() if v not in (None, "")}

    def dim_conditions(self) -> list:
        conds = []
        for name, value in self.dims:
            column = DIMENSIONS[name]
            conds.append(column.is_(None) if value == NONE else column == value)
        return conds

    def conditions(self, tz: ZoneInfo) -> list:
        """Appeals created in the period, matching the dimensions."""
        start, end = self.period.utc_bounds(tz)
        return [Ticket.created_at >= start, Ticket.created_at < end,
                Ticket.status.not_in(TicketStatus.unreported_values()), *self.dim_conditions()]

