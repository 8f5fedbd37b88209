"""SLA reports for managers: the report page, drill-down lists and their exports."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.scope import roles_required, ticket_scope
from ..models import Role, utcnow
from ..tickets.listing import choices
from ..tickets.queries import FilterError, QueueFilters
from ..web_input import parse_id
from . import drill as drill_mod
from .charts import trend_chart
from .export import csv_response, xlsx_response
from .figures import build_report, describe
from .filters import ReportFilters, city_tz
from .labels import AGE_LABELS, DIMENSION_HEADINGS, DIMENSION_TITLES, METRIC_LABELS
from .periods import PRESETS, Period, local_today
from .tables import report_tables, ticket_table

bp = Blueprint("reports", __name__, url_prefix="/reports")
MANAGERS = (Role.MANAGER, Role.ADMIN)
#: ``csv`` is the plain one (commas); ``excel.csv`` is for Russian Excel (semicolons)
FORMATS = ("csv", "xlsx", "excel.csv")


def _export(tables, stem: str, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    filename = f"{stem}-{local_today(utcnow(), city_tz()).isoformat()}.{fmt}"
    if fmt == "xlsx":
        return xlsx_response(tables, filename)
    return csv_response(tables, filename, delimiter=";" if fmt == "excel.csv" else ",")


@bp.route("/")
@roles_required(*MANAGERS)
def index():
    now, tz = utcnow(), city_tz()
    filters, errors = ReportFilters.from_args(request.args, local_today(now, tz))
    report = build_report(filters, now, tz)

    def link(period: Period, metric: str) -> str:
        return url_for(".tickets", **filters.with_period(period).to_args(metric=metric))

    charts = {
        "week": trend_chart(report.weeks, lambda p: format_date(p.start, "dd.MM"), link),
        "month": trend_chart(report.months, lambda p: format_date(p.start, "LLL yyyy"), link),
    }
    return render_template("reports/index.html", report=report, filters=filters, errors=errors,
                           charts=charts, presets=PRESETS, dimension_titles=DIMENSION_TITLES,
                           dimension_headings=DIMENSION_HEADINGS,
                           age_labels=AGE_LABELS, **choices()), 400 if errors else 200


@bp.route("/export.<fmt>")
@roles_required(*MANAGERS)
def export_report(fmt: str):
    now, tz = utcnow(), city_tz()
    filters, errors = ReportFilters.from_args(request.args, local_today(now, tz))
    if errors:
        abort(400)
    return _export(report_tables(build_report(filters, now, tz)), "sla-report", fmt)


@bp.route("/tickets")
@roles_required(*MANAGERS)
def tickets():
    now, tz = utcnow(), city_tz()
    drill, errors = drill_mod.Drill.from_args(request.args, local_today(now, tz))
    before_id = parse_id(request.args.get("before", ""))
    rows, next_before = drill_mod.page(drill, now, tz, before_id)
    return render_template("reports/tickets.html", drill=drill, rows=rows, next_before=next_before,
                           total=drill_mod.count(drill, now, tz), errors=errors, is_first_page=before_id is None,
                           metric_label=METRIC_LABELS[drill.metric], age_labels=AGE_LABELS,
                           described=describe(drill.filters)), 400 if errors else 200


@bp.route("/tickets.<fmt>")
@roles_required(*MANAGERS)
def export_tickets(fmt: str):
    now, tz = utcnow(), city_tz()
    drill, errors = drill_mod.Drill.from_args(request.args, local_today(now, tz))
    if errors:
        abort(400)
    table = ticket_table(drill.conditions(now, tz), tz, str(METRIC_LABELS[drill.metric]))
    return _export([table], "tickets", fmt)


@bp.route("/queue.<fmt>")
@roles_required(Role.OPERATOR, Role.ADMIN, Role.MANAGER, Role.DEPARTMENT_HEAD)
def export_queue(fmt: str):
    """The ticket list of the queue (or inbox) with its current filters, in the user's scope."""
    try:
        filters = QueueFilters.from_args(request.args)
    except FilterError:
        abort(400)
    conditions = [ticket_scope(current_user), *filters.conditions()]
    return _export([ticket_table(conditions, city_tz(), _("Tickets"))], "queue", fmt)
