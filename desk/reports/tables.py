"""Export tables: ticket lists (drill-down, queue) and the report's figures."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from ..extensions import db
from ..labels import label
from ..links import public_url
from .drill import export_query
from .export import Table
from .figures import Report, Tally
from .labels import AGE_LABELS, DIMENSION_TITLES, TALLY_HEADERS

YIELD_PER = 2000


def local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """A naive local datetime for spreadsheets (they have no time zones)."""
    return value.astimezone(tz).replace(tzinfo=None) if value is not None else None


def ticket_table(conditions: list, tz: ZoneInfo, title: str) -> Table:
    headers = [_("No."), _("Created"), _("Status"), _("Priority"), _("Network"), _("Direction"),
               _("Department"), _("Category"), _("Subject"), _("Author"), _("Reaction due"), _("First reply"),
               _("Resolution due"), _("Resolved"), _("Closed"), _("Deadline missed"), _("Link")]
    card_url = public_url("tickets.card", ticket_id=0)[:-1]  # built once, not 100 000 times
    names: dict[tuple[str, str], str] = {}

    def name(kind: str, value: str | None) -> str | None:
        """A label translated once per export, not once per row."""
        if value is None:
            return None
        if (kind, value) not in names:
            names[kind, value] = label(kind, value)
        return names[kind, value]

    def rows() -> Iterator[list]:
        result = db.session.execute(export_query(conditions).execution_options(yield_per=YIELD_PER))
        try:
            for r in result:
                yield [r.id, local(r.created_at, tz), name("status", r.status), name("priority", r.priority),
                       name("platform", r.platform), name("direction", r.direction),
                       r.department, r.category, r.subject, r.author_name, local(r.reaction_due_at, tz),
                       local(r.first_reply_at, tz), local(r.resolution_due_at, tz), local(r.resolved_at, tz),
                       local(r.closed_at, tz), bool(r.sla_breached), f"{card_url}{r.id}"]
        finally:
            result.close()

    return Table(title, headers, rows())


def tally_cells(t: Tally) -> list:
    return [t.total, t.open, t.reaction_on_time, t.reaction_missed, t.reaction_pending, t.reaction_share,
            t.resolution_on_time, t.resolution_missed, t.resolution_pending, t.resolution_share, t.breached]


def report_tables(report: Report) -> list[Table]:
    tally_headers = [str(h) for h in TALLY_HEADERS]
    period = report.filters.period
    d = report.durations
    summary = Table(_("Summary"), [_("Figure"), _("Value")], [
        [_("Period"), f"{period.start.isoformat()} – {period.last_day.isoformat()}"],
        *zip([str(h) for h in TALLY_HEADERS], tally_cells(report.total), strict=False),
        [_("Median reaction time, hours"), _hours(d.reaction_median)],
        [_("90th percentile reaction time, hours"), _hours(d.reaction_p90)],
        [_("Median resolution time, hours"), _hours(d.resolution_median)],
        [_("90th percentile resolution time, hours"), _hours(d.resolution_p90)],
    ])
    tables = [summary]
    for name, lazy_title in DIMENSION_TITLES.items():
        title = str(lazy_title)
        tables.append(Table(title, [title, *tally_headers],
                            [[row.name, *tally_cells(row.tally)] for row in report.groups[name]]))
    tables.append(Table(_("Backlog by age"), [_("Age"), _("Open tickets")],
                        [[str(AGE_LABELS[key]), n] for key, n in report.backlog]))
    for title, points in ((_("By week"), report.weeks), (_("By month"), report.months)):
        tables.append(Table(title, [_("From"), _("To"), *tally_headers],
                            [[p.period.start.isoformat(), p.period.last_day.isoformat(), *tally_cells(p.tally)]
                             for p in points]))
    return tables


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)

