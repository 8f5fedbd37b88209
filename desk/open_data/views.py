"""Public (no login): ``/open`` — the city's open figures — its JSON and CSV downloads and
an embeddable widget. ``?month=YYYY-MM`` selects a month; the default is the last twelve.

Responses carry an ETag (of the figures, the format and the language) and the time the
figures were computed as Last-Modified, so a browser or proxy revalidates with a 304;
``Cache-Control: public, max-age=OPEN_DATA_CACHE_SECONDS``. The page and the widget vary
by language (chosen in the session cookie); the downloads are always in the city's
default language, so they do not vary.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _

from ..labels import label
from ..models import utcnow
from ..reports.charts import trend_chart
from ..reports.figures import Tally, TrendPoint
from ..reports.filters import city_tz
from ..reports.labels import AGE_LABELS
from ..reports.periods import Period, local_today
from ..security import FRAMEABLE_CSP
from ..spreadsheets import safe_cell
from ..templating import share
from . import summary
from .charts import hbar_chart
from .services import OpenFigures, Row, default_period, figures, month_period, selectable_months

bp = Blueprint("open_data", __name__, url_prefix="/open")


def _figures() -> tuple[OpenFigures, str]:
    """The figures the query asks for, and the selected month (``""``: the default period)."""
    now, tz = utcnow(), city_tz()
    today = local_today(now, tz)
    raw = (request.args.get("month") or "").strip()
    period = month_period(raw, today) if raw else default_period(today)
    if period is None:
        abort(400)
    return figures(period, now, tz), raw


def _conditional(response: Response, figs: OpenFigures, variant: str, per_language: bool) -> Response:
    response.set_etag(f"{figs.etag}-{variant}" + (f"-{get_locale()}" if per_language else ""))
    response.last_modified = figs.generated
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["OPEN_DATA_CACHE_SECONDS"]
    if per_language:
        response.vary.add("Cookie")
    response.make_conditional(request)  # turns the response itself into a 304 on a match
    return response


def _month_point(row: Row) -> TrendPoint:
    period = Period(date.fromisoformat(row.start), date.fromisoformat(row.end))
    return TrendPoint(period, Tally(total=row.received, reaction_on_time=row.answered_on_time,
                                    reaction_missed=row.answered_late, resolution_on_time=row.resolved_on_time,
                                    resolution_missed=row.resolved_late))


def _month_chart(figs: OpenFigures):
    return trend_chart([_month_point(r) for r in figs.months], lambda p: format_date(p.start, "LLL yy"),
                       lambda p, _metric: url_for(".page", month=p.start.strftime("%Y-%m")))


def _slice_name(kind: str, row: Row) -> str:
    if row.key == "none":
        return _("Not assigned yet") if kind == "department" else _("Not set")
    return label("direction", row.key) if kind == "direction" else row.name


def _charts(figs: OpenFigures) -> dict:
    def shares(kind: str, rows: list[Row]):
        return hbar_chart([(_slice_name(kind, r), r.answered_share, share(r.answered_share))
                           for r in rows], maximum=100)

    return {
        "months": _month_chart(figs),
        "departments": shares("department", figs.departments),
        "directions": shares("direction", figs.directions),
        "backlog": hbar_chart([(str(AGE_LABELS[k]), n, str(n)) for k, n in figs.backlog]),
        "categories": hbar_chart([(name, n, str(n)) for name, n in figs.categories]),
    }


@bp.get("")
def page():
    figs, month = _figures()
    today = local_today(utcnow(), city_tz())
    body = render_template("open_data/page.html", figs=figs, month=month, charts=_charts(figs),
                           summary=summary.sentences(figs), months=selectable_months(today),
                           slice_name=_slice_name, percent=share,
                           format_month=lambda iso: summary.month_name(date.fromisoformat(iso)))
    return _conditional(Response(body, mimetype="text/html"), figs, "page", per_language=True)


@bp.get("/widget")
def widget():
    figs, _month = _figures()
    latest = figs.latest_month
    body = render_template("open_data/widget.html", figs=figs, latest=latest, chart=_month_chart(figs),
                           summary=summary.sentences(figs, latest) if latest else [], percent=share)
    response = _conditional(Response(body, mimetype="text/html"), figs, "widget", per_language=True)
    response.headers["Content-Security-Policy"] = FRAMEABLE_CSP
    response.headers["X-Frame-Options"] = "ALLOWALL"  # see desk/registry/views.py
    return response


# --- open data ---------------------------------------------------------------------------

COLUMNS = ("section", "key", "name", "from", "to", "received", "answered_on_time", "answered_late",
           "answered_share_percent", "median_first_answer_hours", "resolved_on_time", "resolved_late",
           "resolved_share_percent", "open_now")


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _record(section: str, kind: str, row: Row) -> dict:
    return {"section": section, "key": row.key, "name": _slice_name(kind, row), "from": row.start, "to": row.end,
            "received": row.received, "answered_on_time": row.answered_on_time, "answered_late": row.answered_late,
            "answered_share_percent": row.answered_share,
            "median_first_answer_hours": _hours(row.median_first_answer_seconds),
            "resolved_on_time": row.resolved_on_time, "resolved_late": row.resolved_late,
            "resolved_share_percent": row.resolved_share, "open_now": row.open_now}


def open_data(figs: OpenFigures) -> dict:
    """The downloadable document (JSON as is; CSV one row per record)."""
    return {
        "period": {"from": figs.start, "to": figs.end, "timezone": figs.timezone},
        "generated_at": figs.generated_at,
        "definitions": {
            "received": "appeals created in the period (not-an-appeal, spam and merged excluded)",
            "answered_share_percent": "first public answer by the reaction deadline (24 hours unless the "
                                      "SLA policy says otherwise), among the appeals answered or past it",
            "median_first_answer_hours": "median time from the appeal to the first public answer",
            "resolved_share_percent": "resolved by the deadline, among the appeals resolved or past it",
            "open_now": "appeals open today, whatever the period",
        },
        "total": _record("total", "total", figs.total),
        "months": [_record("month", "month", r) for r in figs.months],
        "departments": [_record("department", "department", r) for r in figs.departments],
        "directions": [_record("direction", "direction", r) for r in figs.directions],
        "backlog_by_age": [{"age": k, "name": str(AGE_LABELS[k]), "open": n} for k, n in figs.backlog],
        "top_categories": [{"name": name, "received": n} for name, n in figs.categories],
    }


def _cell(value) -> str:
    if value is None:
        return ""
    return safe_cell(value) if isinstance(value, str) else str(value)


def _csv(document: dict) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    records = [document["total"], *document["months"], *document["departments"], *document["directions"]]
    period = document["period"]
    records += [{"section": "backlog", "key": b["age"], "name": b["name"], "open_now": b["open"]}
                for b in document["backlog_by_age"]]
    records += [{"section": "category", "name": c["name"], "from": period["from"], "to": period["to"],
                 "received": c["received"]} for c in document["top_categories"]]
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in COLUMNS])
    return out.getvalue()


@bp.get("/figures.<fmt>")
def download(fmt: str):
    if fmt not in ("json", "csv"):
        abort(404)
    figs, month = _figures()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        document = open_data(figs)
    stem = f"open-figures-{month or figs.start[:7] + '-' + figs.end[:7]}"
    if fmt == "json":
        response = Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json")
    else:
        response = Response(_csv(document), content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    return _conditional(response, figs, fmt, per_language=False)
