"""Exam and item analysis pages (trainers, admins): the exams list, one exam's items, and their
CSV/XLSX exports. The numbers come from lms/reports/items.py."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from lms.auth.permissions import role_required
from lms.clock import utcnow
from lms.reports import items
from lms.reports.exports import FORMATS, export_table
from lms.reports.period import Period, PeriodInvalid, default_period, parse_period

bp = Blueprint("item_analysis", __name__, url_prefix="/reports/exams")

VIEWERS = ("trainer", "admin")


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter: bookmarkable, changes nothing

    period = StringField(_l("Period"), validators=[Optional(), Length(max=20)],
                         description=_l("A month 2026-11, a year 2026 or months 2026-01..2026-06"))


def _period() -> tuple[PeriodForm, Period]:
    """The form and the period it names; a bad period gets a message and the last twelve months."""
    form = PeriodForm(request.args)
    fallback = default_period(utcnow())
    if not form.validate() or not (form.period.data or "").strip():
        if not form.period.errors:
            form.period.data = fallback.text
        return form, fallback
    try:
        return form, parse_period(form.period.data)
    except PeriodInvalid:
        form.period.errors = [_l("Write a month (2026-11), a year (2026) or months (2026-01..2026-06).")]
        return form, fallback


@bp.route("/")
@role_required(*VIEWERS)
def index():
    form, period = _period()
    analyses = items.exams_overview(period)
    return render_template("reports/exams.html", form=form, period=period, analyses=analyses,
                           table=items.exams_table(analyses), min_takers=items.MIN_TAKERS)


@bp.route("/<slug>")
@role_required(*VIEWERS)
def show(slug: str):
    exam = items.load_exam(slug) or abort(404)
    form, period = _period()
    sort = request.args.get("sort", "position")
    sort = sort if sort in items.SORTS else "position"
    analysis = items.exam_analysis(exam, period)
    return render_template("reports/exam.html", form=form, period=period, exam=exam, analysis=analysis,
                           rows=items.sort_items(analysis.items, sort), sort=sort,
                           distribution=items.distribution_table(analysis), min_takers=items.MIN_TAKERS,
                           flag_labels=items.FLAG_LABELS)


@bp.route("/export.<fmt>")
@role_required(*VIEWERS)
def export(fmt: str):
    """?exam=slug (else every exam) &table=exam-items|exam-options|exam-summary|exam-distribution."""
    if fmt not in FORMATS:
        abort(404)
    _form, period = _period()
    slug = request.args.get("exam") or None
    if slug is not None and items.load_exam(slug) is None:
        abort(404)
    tables = items.build_exam_items(current_user._get_current_object(), period, None, utcnow(), exam=slug,
                                    sort=request.args.get("sort", "position"))
    wanted = request.args.get("table") or tables[0].name
    table = next((t for t in tables if t.name == wanted), None) or abort(404)
    data, filename, media_type = export_table(table, fmt)
    if slug:
        filename = f"{slug}-{filename}"
    return send_file(BytesIO(data), mimetype=media_type, as_attachment=True, download_name=filename, max_age=0)
