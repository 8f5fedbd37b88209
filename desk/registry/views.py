"""The accounts registry.

Public (no login): ``/accounts`` (the directory), QR codes, the printable QR sheet of a
direction and the embeddable widget. Managers and administrators: ``/registry/growth``
(with an Excel export) and ``/registry/publications``.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.scope import roles_required
from ..extensions import db
from ..i18n import city_today
from ..links import http_url
from ..models import Account, Role
from ..models.replies import DeliveryState
from ..security import FRAMEABLE_CSP
from ..web_input import parse_id
from . import publications
from .directory import DIRECTIONS, NETWORKS, build_directory, clean_filter
from .export import growth_workbook
from .growth import PERIOD_DAYS, clean_days, growth_chart, growth_report
from .qr import qr_png, qr_svg
from .snapshots import snapshot_failures

bp = Blueprint("registry", __name__)
DELIVERY_STATE_LABELS = {s.value: _l(s.label) for s in DeliveryState}

# The widget is meant to be framed by any municipal site (security.FRAMEABLE_CSP).
WIDGET_CSP = FRAMEABLE_CSP
QR_MAX_AGE = 3600


def _filters() -> tuple[str | None, str | None]:
    return (clean_filter(request.args.get("network"), NETWORKS),
            clean_filter(request.args.get("direction"), DIRECTIONS))


@bp.app_template_global("delivery_state_label")
def delivery_state_label(state: str) -> str:
    return str(DELIVERY_STATE_LABELS.get(state, state))


@bp.app_template_global("subscriber_snapshot_failures")
def _snapshot_failures_global():
    """For the collectors admin page (included there, so its view stays as it is)."""
    return snapshot_failures()


@bp.get("/accounts")
def directory():
    network, direction = _filters()
    return render_template("registry/directory.html", directory=build_directory(network, direction),
                           network=network, direction=direction, networks=NETWORKS, directions=DIRECTIONS)


@bp.get("/accounts/widget")
def widget():
    network, direction = _filters()
    response = Response(render_template("registry/widget.html", directory=build_directory(network, direction)))
    response.headers["Content-Security-Policy"] = WIDGET_CSP
    # No standard value allows every framer; browsers ignore an unknown one and obey
    # the CSP frame-ancestors above (which takes precedence anyway).
    response.headers["X-Frame-Options"] = "ALLOWALL"
    return response


@bp.get("/accounts/qr-sheet")
def qr_sheet():
    network, direction = _filters()
    directory = build_directory(network, direction) if direction else None
    return render_template("registry/qr_sheet.html", directory=directory, direction=direction,
                           directions=DIRECTIONS)


def _linked_account_or_404(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or not account.is_active or not http_url(account.link):
        abort(404)
    return account


def _qr_response(account_id: int, body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.cache_control.public, response.cache_control.max_age = True, QR_MAX_AGE
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="account-{account_id}-{filename}"'
    return response


@bp.get("/accounts/<int:account_id>/qr.svg")
def qr_code_svg(account_id: int):
    return _qr_response(account_id, qr_svg(_linked_account_or_404(account_id).link), "image/svg+xml", "qr.svg")


@bp.get("/accounts/<int:account_id>/qr.png")
def qr_code_png(account_id: int):
    return _qr_response(account_id, qr_png(_linked_account_or_404(account_id).link), "image/png", "qr.png")


# --- managers -------------------------------------------------------------------------------

def _growth_from_query():
    """The growth report the query string asks for, and its cleaned arguments."""
    network, direction = _filters()
    days = clean_days(request.args.get("days"))
    account_id = parse_id(request.args.get("account"))
    args = {"days": days, "network": network, "direction": direction, "account_id": account_id}
    report = growth_report(days, direction=direction, network=network, account_id=account_id)
    return args, report


@bp.get("/registry/growth")
@roles_required(Role.MANAGER, Role.ADMIN)
def growth():
    args, report = _growth_from_query()
    chart, names, title = growth_chart(report, args["account_id"])
    return render_template("registry/growth.html", report=report, args=args, period_days=PERIOD_DAYS,
                           networks=NETWORKS, directions=DIRECTIONS, chart=chart, chart_names=names,
                           chart_title=title)


@bp.get("/registry/growth.xlsx")
@roles_required(Role.MANAGER, Role.ADMIN)
def growth_xlsx():
    args, report = _growth_from_query()
    filename = f"subscriber-growth-{city_today().isoformat()}-{args['days']}d.xlsx"
    return Response(growth_workbook(report),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/registry/publications")
@roles_required(Role.MANAGER, Role.ADMIN)
def publications_page():
    network, direction = _filters()
    days = clean_days(request.args.get("days"))
    requested = request.args.get("sort")
    sort = requested if requested in publications.SORTS else "posts"
    rows = publications.publication_report(days, direction=direction, network=network, sort=sort)
    return render_template("registry/publications.html", rows=rows, days=days, sort=sort, network=network,
                           direction=direction, networks=NETWORKS, directions=DIRECTIONS,
                           period_days=PERIOD_DAYS, stale_days=publications.stale_days(),
                           stale_count=sum(1 for r in rows if r.stale), user=current_user)


from . import crosspost_views  # noqa: E402,F401  (its routes are on this blueprint)
