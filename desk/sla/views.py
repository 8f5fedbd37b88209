"""Admin pages: the production calendar of a year, working hours, SLA policies."""
from __future__ import annotations

import calendar as pycal
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import jobs
from ..auth.scope import roles_required
from ..extensions import db
from ..i18n import city_today
from ..models import Category, Department, Role
from ..models.sla import SlaPolicy
from . import admin
from .forms import DayForm, DeleteForm, HoursForm, PolicyForm
from .store import get_calendar

bp = Blueprint("sla", __name__, url_prefix="/admin/sla")


@bp.route("/")
@roles_required(Role.ADMIN)
def index():
    return redirect(url_for("sla.calendar_year", year=city_today().year))


@bp.route("/calendar/<int:year>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def calendar_year(year: int):
    if not 1900 < year < 2200:
        abort(404)
    form = DayForm()
    if form.validate_on_submit():
        if form.day.data.year != year:
            flash(_("The date is not in %(year)s.", year=year), "error")
        else:
            admin.set_day(form.day.data, form.kind.data or None, (form.note.data or "").strip(),
                          f"edited by {current_user.email}")
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("sla.calendar_year", year=year, day=form.day.data.isoformat()))
    elif request.method == "GET":
        chosen = _parse_day(request.args.get("day"), year)
        stored = admin.year_days(year).get(chosen)
        form.day.data = chosen
        form.kind.data = stored.kind if stored else ""
        form.note.data = stored.note if stored else ""
    days = admin.year_days(year)
    cal = get_calendar()
    months = [_month(year, m, days, cal) for m in range(1, 13)]
    sources = sorted({r.source for r in days.values() if r.source})
    total = sum((cal.working_length(date.fromordinal(o)) for o in
                 range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1)), timedelta(0))
    return render_template("sla/calendar.html", year=year, months=months, form=form, sources=sources,
                           working_hours=total.total_seconds() / 3600)


def _parse_day(raw: str | None, year: int) -> date:
    try:
        chosen = date.fromisoformat(raw or "")
    except ValueError:
        chosen = city_today()
    return chosen if chosen.year == year else date(year, 1, 1)


def _month(year: int, month: int, days: dict, cal) -> dict:
    weeks = []
    for week in pycal.Calendar().monthdatescalendar(year, month):
        cells: list[dict[str, Any] | None] = []
        for d in week:
            if d.month != month:
                cells.append(None)
                continue
            row = days.get(d)
            kind = row.kind if row else ("" if cal.is_working_day(d) else "weekend")
            cells.append({"day": d, "kind": kind, "note": row.note if row else "",
                          "hours": cal.working_length(d).total_seconds() / 3600})
        weeks.append(cells)
    return {"month": month, "weeks": weeks}


@bp.route("/hours", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def hours():
    form = HoursForm()
    if form.validate_on_submit():
        try:
            for weekday, entry in enumerate(form.days.entries):
                d = entry.form
                admin.save_working_hours(weekday, d.is_working.data, d.start_time.data, d.end_time.data,
                                         d.lunch_start.data, d.lunch_end.data)
        except admin.HoursError as exc:
            db.session.rollback()
            flash(_("Not saved: %(reason)s", reason=str(exc)), "error")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("sla.hours"))
    elif request.method == "GET":
        form = HoursForm(data={"days": admin.working_hours_rows()})
    return render_template("sla/hours.html", form=form)


@bp.route("/policies")
@roles_required(Role.ADMIN)
def policies():
    return render_template("sla/policies.html", policies=admin.list_policies(), delete_form=DeleteForm())


def _policy_form(policy: SlaPolicy | None) -> PolicyForm:
    form = PolicyForm(obj=None)
    categories = db.session.scalars(db.select(Category).order_by(Category.name)).all()
    departments = db.session.scalars(db.select(Department).order_by(Department.name)).all()
    form.category_id.choices = [(0, "—")] + [(c.id, c.name) for c in categories]
    form.department_id.choices = [(0, "—")] + [(d.id, d.name) for d in departments]
    if request.method == "GET" and policy is not None:
        form.name.data = policy.name
        form.scope.data = policy.scope
        form.category_id.data = policy.category_id or 0
        form.department_id.data = policy.department_id or 0
        form.reaction_hours.data = policy.reaction_minutes / 60
        form.reaction_in_working_hours.data = policy.reaction_in_working_hours
        form.reaction_stops_at.data = policy.reaction_stops_at
        form.resolution_days.data = policy.resolution_days
        form.high_factor.data = policy.high_factor
        form.urgent_factor.data = policy.urgent_factor
    return form


@bp.route("/policies/new", methods=["GET", "POST"], defaults={"policy_id": None})
@bp.route("/policies/<int:policy_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def policy_edit(policy_id: int | None):
    policy = db.session.get(SlaPolicy, policy_id) if policy_id else None
    if policy_id and policy is None:
        abort(404)
    form = _policy_form(policy)
    if form.validate_on_submit():
        error = _save_policy(policy or SlaPolicy(), form, is_new=policy is None)
        if error is None:
            # _save_policy queued the recompute: open tickets follow the policy
            flash(_("Saved. Deadlines of open tickets are being recomputed."), "success")
            return redirect(url_for("sla.policies"))
        flash(error, "error")
    return render_template("sla/policy_form.html", form=form, policy=policy)


def _save_policy(policy: SlaPolicy, form: PolicyForm, is_new: bool) -> str | None:
    scope = form.scope.data
    category_id = form.category_id.data or None if scope == "category" else None
    department_id = form.department_id.data or None if scope == "department" else None
    if scope == "category" and category_id is None:
        return _("Choose a category.")
    if scope == "department" and department_id is None:
        return _("Choose a department.")
    if scope == "global":
        other = db.session.scalars(db.select(SlaPolicy.id).where(
            SlaPolicy.category_id.is_(None), SlaPolicy.department_id.is_(None), SlaPolicy.id != (policy.id or 0))).first()
        if other is not None:
            return _("There is already a global policy; edit it instead.")
    policy.name = (form.name.data or "").strip()
    policy.category_id, policy.department_id = category_id, department_id
    policy.reaction_minutes = max(1, round(form.reaction_hours.data * 60))
    policy.reaction_in_working_hours = form.reaction_in_working_hours.data
    policy.reaction_stops_at = form.reaction_stops_at.data
    policy.resolution_days = form.resolution_days.data
    policy.high_factor, policy.urgent_factor = form.high_factor.data, form.urgent_factor.data
    if is_new:
        db.session.add(policy)
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES)  # open tickets follow the policy
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _("This category or department already has a policy.")
    return None


@bp.route("/policies/<int:policy_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
def policy_delete(policy_id: int):
    if not DeleteForm().validate_on_submit():
        abort(400)
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        abort(404)
    db.session.delete(policy)
    jobs.enqueue_after_commit(jobs.RECOMPUTE_DEADLINES)
    db.session.commit()
    flash(_("Policy deleted."), "success")
    return redirect(url_for("sla.policies"))
