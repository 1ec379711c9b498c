"""The training KPI report (培训考核指标): one month, filtered by team and star level, per agent with
the aggregates per team and level, and its CSV / XLSX export. Trainers and admins read every agent;
mentors their mentees. The figures: lms.records.kpi."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import Optional

from lms.clock import utcnow
from lms.records import exports, kpi

bp = Blueprint("kpi", __name__, url_prefix="/kpi")

MONTHS_OFFERED = 24


def _level_or_none(value):
    if value in (None, ""):
        return None
    return int(value)


class KpiFilterForm(FlaskForm):
    """The report's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    month = SelectField(_l("Month"), validators=[Optional()])
    team = SelectField(_l("Team"), validators=[Optional()])
    level = SelectField(_l("Star level"), coerce=_level_or_none, validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=[Choice("team", _l("Team")), Choice("index", _l("Training index")),
                                               Choice("name", _l("Name"))], validators=[Optional()])


def _form(now) -> KpiFilterForm:
    form = KpiFilterForm(request.args)
    months = kpi.recent_months(now, MONTHS_OFFERED)
    form.month.choices = [Choice(month, month) for month in months]
    form.team.choices = [Choice("", _l("All teams"))] + [Choice(team, team) for team in kpi.teams_in_scope(current_user)]
    form.level.choices = [Choice("", _l("All levels"))] + [Choice(level, str(level)) for level in range(6)]
    if request.args:
        form.validate()
    return form


def _report(now):
    """The filters as given (each refused one falls back to its default) and the report."""
    if not kpi.may_read_report(current_user):
        abort(403)
    form = _form(now)
    month = form.month.data if form.month.data and not form.month.errors else kpi.month_of(now)
    team = (form.team.data or None) if not form.team.errors else None
    level = form.level.data if not form.level.errors else None
    sort = form.sort.data if form.sort.data in kpi.SORTS and not form.sort.errors else "team"
    return form, kpi.kpi_report(current_user, month, team=team, level=level, sort=sort)


@bp.route("")
@login_required
def index():
    now = utcnow()
    form, report = _report(now)
    message = None
    if any(getattr(form, name).errors for name in ("month", "team", "level", "sort")):
        message = _("Some filters could not be used: see the messages beside them. The other filters apply.")
    return render_template("kpi/index.html", form=form, report=report, filter_message=message,
                           args={k: v for k, v in (("month", report.month), ("team", report.team),
                                                   ("level", report.level)) if v not in (None, "")})


@bp.route("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    now = utcnow()
    report = _report(now)[1]
    data, filename, media_type = kpi.export_kpi(fmt, report, _("no data: no scored result this month"))
    kpi.record_export(current_user, report, fmt)
    response = Response(data, content_type=media_type)
    response.headers["Content-Disposition"] = exports.content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"  # personal data: not for shared caches
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
