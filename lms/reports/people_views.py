"""The people reports' pages: the mentor report (trainers and admins: every mentor; a mentor: their
own) and the recognition board (表彰榜: trainers and admins; each person's opt-out on
/reports/recognition/me). Figures: lms/reports/mentors.py and lms/reports/recognition.py."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, Length, Optional

from lms.clock import utcnow
from lms.extensions import db
from lms.models import User
from lms.records.kpi import recent_months
from lms.records.services import audit
from lms.reports import mentors, recognition
from lms.reports.exports import export_table
from lms.reports.period import PeriodInvalid, default_period, parse_period, period_from_field
from lms.reports.tables import Filters

bp = Blueprint("people_reports", __name__, url_prefix="/reports")

MONTHS_OFFERED = 24


def _level_or_none(value):
    if value in (None, ""):
        return None
    return int(value)


class MentorFilterForm(FlaskForm):
    """The mentor report's filters, from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    period = StringField(_l("Period"), validators=[Optional(), Length(max=40)])
    team = SelectField(_l("Team"), validators=[Optional()])
    level = SelectField(_l("Star level"), coerce=_level_or_none, validators=[Optional()])


class BoardFilterForm(FlaskForm):
    class Meta:
        csrf = False

    month = SelectField(_l("Month"), validators=[Optional()])
    team = SelectField(_l("Team"), validators=[Optional()])


class AwardForm(FlaskForm):
    agent_id = IntegerField(validators=[DataRequired()])
    month = HiddenField(validators=[DataRequired()])
    citation = StringField(_l("Citation (optional)"), validators=[Optional(), Length(max=recognition.MAX_CITATION)])


class OptOutForm(FlaskForm):
    opted_out = BooleanField(_l("Do not show me on the recognition board"))


def _teams() -> list[str]:
    return list(db.session.scalars(select(User.team).where(User.active.is_(True), User.team != "")
                                   .distinct().order_by(User.team)))


def _team_choices():
    return [Choice("", _l("All teams"))] + [Choice(team, team) for team in _teams()]


def _mentor_filters(now):
    """The form, the period and the filters; a refused value falls back to its default and says so."""
    form = MentorFilterForm(request.args)
    form.team.choices = _team_choices()
    form.level.choices = [Choice("", _l("All levels"))] + [Choice(level, str(level)) for level in range(6)]
    if request.args:
        form.validate()
    period = period_from_field(form.period, default_period(now))
    if not form.period.data or form.period.errors:
        form.period.data = period.text
    filters = Filters(team=(form.team.data or None) if not form.team.errors else None,
                      level=form.level.data if not form.level.errors else None)
    return form, period, filters


def _args(period, filters) -> dict:
    return {key: value for key, value in (("period", period.text), ("team", filters.team),
                                          ("level", filters.level)) if value not in (None, "")}


def _send(table, fmt: str, report_name: str, period_text: str) -> Response:
    data, filename, media_type = export_table(table, fmt)
    # personal figures left the system: keep a trace
    audit(current_user, "report.exported", "report", 0, report=report_name, period=period_text, format=fmt,
          rows=len(table.rows))
    db.session.commit()
    return Response(data, content_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- the mentor report ---------------------------------------------------------------------------

@bp.route("/mentors")
@login_required
def mentors_index():
    """Trainers and admins: every mentor; a mentor is sent to their own report."""
    if not mentors.may_read_all(current_user):
        if current_user.has_role("mentor"):
            return redirect(url_for("people_reports.mentor_detail", mentor_id=current_user.id, **request.args))
        abort(403)
    now = utcnow()
    form, period, filters = _mentor_filters(now)
    result = mentors.mentor_report(current_user, period, filters)
    return render_template("reports/mentors.html", form=form, result=result,
                           table=mentors.mentors_table(result), args=_args(period, filters),
                           flag_min=mentors.FLAG_MIN_OBSERVATIONS, flag_below=mentors.FLAG_OTHERS_BELOW)


@bp.route("/mentors/<int:mentor_id>")
@login_required
def mentor_detail(mentor_id: int):
    now = utcnow()
    try:
        mentors.check_mentor_access(current_user, mentor_id)
    except mentors.MentorReportNotAllowed:
        abort(403)
    form, period, filters = _mentor_filters(now)
    try:
        row = mentors.mentor_report(current_user, period, filters, mentor_id=mentor_id).rows[0]
    except mentors.MentorNotFound:
        abort(404)
    return render_template("reports/mentor.html", form=form, row=row, period=period,
                           scenarios=mentors.calibration_table([row], name="mentor-scenarios"),
                           pass_rates=mentors.calibration_table([row], name="mentor-pass-rates",
                                                                title=_l("Pass rate by scenario: this mentor against the others")),
                           distribution=mentors.distribution_table(row), args=_args(period, filters),
                           flag_min=mentors.FLAG_MIN_OBSERVATIONS, flag_below=mentors.FLAG_OTHERS_BELOW)


@bp.route("/mentors/export.<any(csv, xlsx):fmt>")
@login_required
def mentors_export(fmt: str):
    """The mentors table (a mentor: their own row); ?table=scenarios for the calibration table."""
    if not mentors.may_read_all(current_user) and not current_user.has_role("mentor"):
        abort(403)
    now = utcnow()
    form, period, filters = _mentor_filters(now)
    tables = mentors.build_mentors(current_user, period, filters, now)
    table = tables[1] if request.args.get("table") == "scenarios" else tables[0]
    return _send(table, fmt, "mentors", period.text)


# --- the recognition board -----------------------------------------------------------------------

def _board_filters(now):
    form = BoardFilterForm(request.args)
    months = recent_months(now, MONTHS_OFFERED)
    form.month.choices = [Choice(month, month) for month in months]
    form.team.choices = _team_choices()
    if request.args:
        form.validate()
    month = form.month.data if form.month.data and not form.month.errors else recognition.last_month(now)
    form.month.data = month
    return form, month, Filters(team=(form.team.data or None) if not form.team.errors else None)


@bp.route("/recognition")
@login_required
def recognition_board():
    if not recognition.may_manage(current_user):
        abort(403)
    now = utcnow()
    form, month, filters = _board_filters(now)
    shown = recognition.load_board_for(current_user, month, filters)
    return render_template("reports/recognition.html", form=form, board=shown, award_form=AwardForm(),
                           args={k: v for k, v in (("month", month), ("team", filters.team)) if v})


@bp.route("/recognition/award", methods=["POST"])
@login_required
def recognition_award():
    if not recognition.may_manage(current_user):
        abort(403)
    form = AwardForm()
    month = (form.month.data or "")[:7]
    back = url_for("people_reports.recognition_board", month=month) if month else \
        url_for("people_reports.recognition_board")
    if not form.validate():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(back)
    try:
        certificate = recognition.award_recognition(current_user, form.agent_id.data, form.month.data,
                                                    form.citation.data or "", utcnow())
    except recognition.MonthInvalid:
        flash(_("That month cannot be chosen."), "error")
    except recognition.AgentNotRanked:
        flash(_("That agent is not on the board for this month."), "error")
    except recognition.AlreadyRecognized:
        flash(_("That agent already has a certificate of recognition for this month."), "error")
    else:
        flash(_("Certificate of recognition given to %(name)s.", name=certificate.user.name), "success")
    return redirect(back)


@bp.route("/recognition/export.<any(csv, xlsx):fmt>")
@login_required
def recognition_export(fmt: str):
    """?period=2026-01..2026-06 (default: the last twelve months), ?team=."""
    if not recognition.may_manage(current_user):
        abort(403)
    now = utcnow()
    try:
        period = parse_period(request.args["period"]) if request.args.get("period") else default_period(now)
    except PeriodInvalid:
        abort(400)
    team = (request.args.get("team") or "").strip()[:100] or None
    tables = recognition.build_recognition(current_user, period, Filters(team=team), now)
    return _send(tables[0], fmt, "recognition", period.text)


@bp.route("/recognition/me", methods=["GET", "POST"])
@login_required
def recognition_me():
    """Anyone's own choice to appear on the board, and their certificates of recognition."""
    user = current_user._get_current_object()
    # a POST without the box ticked sends no field at all: never fall back to the stored value then
    form = OptOutForm() if request.method == "POST" else OptOutForm(opted_out=user.recognition_opt_out)
    if form.validate_on_submit():
        if recognition.set_opt_out(user, form.opted_out.data):
            flash(_("You will not be shown on the recognition board.") if form.opted_out.data
                  else _("You may be shown on the recognition board."), "success")
        return redirect(url_for("people_reports.recognition_me"))
    return render_template("reports/recognition_me.html", form=form,
                           certificates=recognition.recognitions_of(user))
