"""The programme reports' pages (overview, teams, courses). Other report pages have their own modules
(item_views, people_views, audit_views); this blueprint also gives every template `chart_spec`.

Trainers and admins only. Every page reads its filters from the query string (a GET form); a filter
that names nothing (an unknown team, level 9, period "2026-13") is dropped with a message beside it
and the page shows the rest. The figures: lms/reports/programme.py."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import Optional, ValidationError

from lms.auth.permissions import role_required
from lms.clock import utcnow
from lms.models.courses import TRACKS
from lms.records.exports import content_disposition
from lms.reports import programme
from lms.reports.exports import FORMATS, export_table
from lms.reports.period import PeriodInvalid, default_period, parse_period
from lms.reports.tables import REPORTS, Filters, chart_spec

bp = Blueprint("reports", __name__, url_prefix="/reports")
bp.add_app_template_global(chart_spec, "chart_spec")
bp.add_app_template_global(programme.variant, "programme_variant")

READERS = ("trainer", "admin")
TRACK_LABELS = {"onboarding": _l("Onboarding"), "in-service": _l("In-service"), "refresher": _l("Refresher")}
EXPORTED = ("overview", "teams", "courses", "team", "course")


def _level_or_none(value):
    if value in (None, ""):
        return None
    return int(value)


def _period_valid(form, field):
    if field.data:
        try:
            parse_period(field.data)
        except PeriodInvalid:
            raise ValidationError(_l("Not a period: write 2026-11, 2026 or 2026-01..2026-06.")) from None


class ProgrammeFilterForm(FlaskForm):
    """The reports' filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    period = StringField(_l("Period"), validators=[Optional(), _period_valid])
    team = SelectField(_l("Team"), validators=[Optional()])
    level = SelectField(_l("Star level"), coerce=_level_or_none, validators=[Optional()])
    track = SelectField(_l("Track"), validators=[Optional()])
    course = SelectField(_l("Course"), validators=[Optional()])


class Selection:
    """What the query string asked for, once each refused filter is dropped."""

    def __init__(self, now):
        self.now = now
        form = ProgrammeFilterForm(request.args)
        form.team.choices = [Choice("", _l("All teams"))] + [Choice(t, t) for t in programme.teams()]
        form.level.choices = [Choice("", _l("All levels"))] + [Choice(n, str(n)) for n in range(6)]
        form.track.choices = [Choice("", _l("All tracks"))] + [Choice(t, TRACK_LABELS.get(t, t)) for t in TRACKS]
        form.course.choices = [Choice("", _l("All courses"))] + [
            Choice(c.slug, c.title) for c in programme.courses_offered()]
        if request.args:
            form.validate()
        self.form = form
        self.errors = any(getattr(form, name).errors for name in ("period", "team", "level", "track", "course"))

        def ok(name):
            field = getattr(form, name)
            return None if field.errors or field.data in (None, "") else field.data

        period_text = ok("period")
        self.period = parse_period(period_text) if period_text else default_period(now)
        self.filters = Filters(team=ok("team"), level=ok("level"), track=ok("track"), course_slug=ok("course"))
        self.args = {key: value for key, value in (
            ("period", period_text), ("team", self.filters.team), ("level", self.filters.level),
            ("track", self.filters.track), ("course", self.filters.course_slug)) if value is not None}
        self.sort = request.args.get("sort") or None
        self.descending = request.args.get("dir") == "desc"

    @property
    def message(self) -> str | None:
        if self.errors:
            return _("Some filters could not be used: see the messages beside them. The other filters apply.")
        return None

    def page_args(self, **extra) -> dict:
        return {**self.args, **extra}


def _render(template: str, selection: Selection, **context):
    return render_template(template, form=selection.form, selection=selection, filter_message=selection.message,
                           args=selection.args, period=selection.period, **context)


@bp.route("")
@role_required(*READERS)
def overview():
    selection = Selection(utcnow())
    data = programme.load_programme(selection.period, selection.filters, selection.now)
    view = programme.overview(data)
    funnels = [programme.funnel_chart_table(intake, counts) for intake, counts in view.funnel]
    return _render("reports/overview.html", selection, view=view, funnels=funnels)


@bp.route("/teams")
@role_required(*READERS)
def teams():
    selection = Selection(utcnow())
    data = programme.load_programme(selection.period, selection.filters, selection.now)
    table = programme.teams_table(data, selection.sort, selection.descending)
    return _render("reports/teams.html", selection, table=table, trend=programme.trend_table(data, "teams-trend"),
                   sort=_sort_key(table, selection), report_name="teams")


@bp.route("/teams/<team>")
@role_required(*READERS)
def team(team: str):
    selection = Selection(utcnow())
    if team not in programme.teams():
        abort(404)
    filters = Filters(team=team, level=selection.filters.level, track=selection.filters.track,
                      course_slug=selection.filters.course_slug)
    data = programme.load_programme(selection.period, filters, selection.now)
    summary = programme.team_rows(data)
    agents = programme.agents_table(data, "team-agents", selection.sort, selection.descending)
    selection.args.pop("team", None)
    return _render("reports/team.html", selection, team=team, summary=summary[0] if summary else None,
                   courses=programme.courses_table(data, name="team-courses"), agents=agents,
                   trend=programme.trend_table(data, "team-trend"), sort=_sort_key(agents, selection),
                   export_args={**selection.args, "team": team})


@bp.route("/courses")
@role_required(*READERS)
def courses():
    selection = Selection(utcnow())
    data = programme.load_programme(selection.period, selection.filters, selection.now)
    table = programme.courses_table(data, selection.sort, selection.descending)
    return _render("reports/courses.html", selection, table=table, trend=programme.trend_table(data, "courses-trend"),
                   sort=_sort_key(table, selection), report_name="courses")


@bp.route("/courses/<slug>")
@role_required(*READERS)
def course(slug: str):
    selection = Selection(utcnow())
    found = next((c for c in programme.courses_offered() if c.slug == slug), None)
    if found is None:
        abort(404)
    filters = Filters(team=selection.filters.team, level=selection.filters.level, course_slug=slug)
    data = programme.load_programme(selection.period, filters, selection.now)
    selection.args.pop("course", None)
    selection.args.pop("track", None)
    return _render("reports/course.html", selection, course=found,
                   teams_table=programme.course_teams_table(data, found),
                   trend=programme.trend_table(data, "course-trend", course_id=found.id),
                   export_args={**selection.args, "course": slug})


@bp.route("/agents")
@role_required(*READERS)
def agents():
    """The agents behind one number: ?metric=overdue&...the page's filters (&intake= for a funnel stage)."""
    selection = Selection(utcnow())
    data = programme.load_programme(selection.period, selection.filters, selection.now)
    metric = request.args.get("metric", "")
    intake = request.args.get("intake") or None
    try:
        table = programme.drill_down(data, metric, intake)
    except programme.UnknownMetric:
        abort(404)
    intake_label = next((i.label for i in data.intakes if i.key == intake), None)
    return _render("reports/agents.html", selection, table=table, metric=metric, intake=intake,
                   intake_label=intake_label)


def _sort_key(table, selection: Selection) -> str:
    keys = [column.key for column in table.columns]
    return selection.sort if selection.sort in keys else keys[0]


@bp.route("/<any(overview, teams, courses, team, course):name>.<any(csv, xlsx):fmt>")
@role_required(*READERS)
def export(name: str, fmt: str):
    """One table of a report (?table=<name>, else the first) with the page's filters and sort."""
    selection = Selection(utcnow())
    if selection.errors:
        return Response(selection.message + "\n", status=400, content_type="text/plain; charset=utf-8")
    if name in ("team", "course") and (selection.filters.team if name == "team" else selection.filters.course_slug) is None:
        abort(404)
    builder = REPORTS[name]
    extra = {} if name == "overview" else {"sort": selection.sort, "descending": selection.descending}
    tables = builder(current_user, selection.period, selection.filters, selection.now, **extra)
    wanted = request.args.get("table")
    table = tables[0] if not wanted else next((t for t in tables if t.name == wanted), None)
    if table is None:
        abort(404)
    data, filename, media_type = export_table(table, fmt)
    response = Response(data, content_type=FORMATS[fmt])
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"  # agents' figures: not for shared caches
    return response
