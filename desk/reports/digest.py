"""The weekly SLA digest for managers: last week's headline figures and the worst overdue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..links import public_url
from ..models import Role, Ticket, TicketStatus, User
from ..templating import duration_short
from .figures import Report, backlog, build_report
from .filters import ReportFilters
from .periods import local_today, previous_week

WORST = 10


@dataclass
class DigestData:
    report: Report
    open_now: int
    overdue_now: int
    worst: list[Ticket]


def worst_overdue(now: datetime, limit: int = WORST) -> list[Ticket]:
    """Open tickets past their nearest running deadline (reaction or resolution), the
    longest overdue first."""
    return list(db.session.scalars(
        db.select(Ticket).where(Ticket.status.in_(TicketStatus.open_values()), Ticket.next_due_at < now)
        .options(joinedload(Ticket.department))
        .order_by(Ticket.next_due_at.asc(), Ticket.id.asc()).limit(limit)))


def gather(now: datetime, tz: ZoneInfo) -> DigestData:
    filters = ReportFilters(previous_week(local_today(now, tz)))
    report = build_report(filters, now, tz, with_trends=False)
    overdue = db.session.scalar(db.select(db.func.count()).select_from(Ticket).where(
        Ticket.status.in_(TicketStatus.open_values()), Ticket.next_due_at < now)) or 0
    return DigestData(report, sum(n for _key, n in backlog(filters, now)), overdue, worst_overdue(now))


def managers() -> list[User]:
    return list(db.session.scalars(db.select(User).where(
        User.role == Role.MANAGER.value, User.is_active_user.is_(True)).order_by(User.id)))


def _share(on_time: int, missed: int, share: float | None) -> str:
    if share is None:
        return _("nothing measured")
    return _("%(share)s%% (%(on_time)s of %(measured)s)", share=share, on_time=on_time, measured=on_time + missed)


def compose(data: DigestData, now: datetime) -> tuple[str, str]:
    """Subject and plain text in the current locale (call under ``force_locale``)."""
    t, d, period = data.report.total, data.report.durations, data.report.filters.period
    span = f"{format_date(period.start, 'dd.MM.yyyy')} – {format_date(period.last_day, 'dd.MM.yyyy')}"
    report_url = public_url("reports.index", **data.report.filters.to_args())
    card_urls = {tk.id: public_url("tickets.card", ticket_id=tk.id) for tk in data.worst}
    lines = [
        _("SLA digest for the week %(span)s", span=span),
        "",
        _("Appeals: %(n)s", n=t.total),
        _("Reacted on time: %(value)s", value=_share(t.reaction_on_time, t.reaction_missed, t.reaction_share)),
        _("Resolved on time: %(value)s", value=_share(t.resolution_on_time, t.resolution_missed, t.resolution_share)),
        _("Median reaction time: %(median)s (p90 %(p90)s)", median=duration_short(d.reaction_median),
          p90=duration_short(d.reaction_p90)),
        _("Median resolution time: %(median)s (p90 %(p90)s)", median=duration_short(d.resolution_median),
          p90=duration_short(d.resolution_p90)),
        _("Open now: %(open)s, overdue: %(overdue)s", open=data.open_now, overdue=data.overdue_now),
        "",
    ]
    if data.worst:
        lines.append(_("Most overdue tickets:"))
        for i, ticket in enumerate(data.worst, 1):
            due = ticket.next_due_at
            assert due is not None  # worst_overdue() picks tickets past their due time
            lines.append(_("%(i)s. #%(id)s «%(subject)s» — %(department)s, overdue by %(late)s (due %(due)s)",
                           i=i, id=ticket.id, subject=ticket.subject[:80],
                           department=ticket.department.name if ticket.department else "—",
                           late=duration_short((now - due).total_seconds()),
                           due=format_datetime(due, "dd.MM.yyyy HH:mm")))
            lines.append("   " + card_urls[ticket.id])
    else:
        lines.append(_("No overdue tickets."))
    lines += ["", _("Full report: %(url)s", url=report_url)]
    return _("SLA digest, week %(span)s", span=span), "\n".join(lines) + "\n"
