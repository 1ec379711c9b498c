"""The audit log viewer (admins): /audit lists every audited event, newest first, filtered by person,
kind and period; /audit/export.csv|xlsx downloads the same filtered list. Services:
lms/reports/audit.py."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import Length, Optional

from lms.auth.permissions import role_required
from lms.clock import utcnow
from lms.extensions import db
from lms.pagination import page_number
from lms.records.exports import content_disposition
from lms.records.services import audit as record_audit
from lms.reports import audit
from lms.reports.exports import FORMATS, export_table
from lms.reports.period import period_from_field

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

EXPORT_FORMATS = "any(" + ", ".join(FORMATS) + ")"


class AuditFilterForm(FlaskForm):
    """The log's filters, from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    person = StringField(_l("Person (employee number)"), validators=[Optional(), Length(max=32)])
    kind = SelectField(_l("Kind"), validate_choice=False, validators=[Optional(), Length(max=40)])
    period = StringField(_l("Period"), validators=[Optional(), Length(max=40)])


def _filters() -> tuple[AuditFilterForm, audit.AuditFilter, bool]:
    """The form, the filter it gives, and whether the person asked for exists. A refused kind or
    period is left out and says so beside its field; an unknown person matches nothing."""
    form = AuditFilterForm(request.args)
    offered = audit.kinds_on_offer()
    form.kind.choices = [Choice("", _l("All kinds"))] + [Choice(value, label) for value, label in offered]
    form.validate()
    kind = period = person = None
    if form.kind.data and not form.kind.errors:
        try:
            kind = audit.check_kind(form.kind.data)
        except audit.KindInvalid:
            form.kind.errors = list(form.kind.errors) + [_("Not a kind of event.")]
        else:
            if kind not in {value for value, _label in offered}:  # a kind from a link: keep it selectable
                form.kind.choices.append(Choice(kind, kind))
    period = period_from_field(form.period, None)
    found = True
    if form.person.data and not form.person.errors:
        try:
            person = audit.find_person(form.person.data)
        except audit.PersonNotFound:
            form.person.errors = list(form.person.errors) + [_("No account has this employee number.")]
            found = False
    return form, audit.AuditFilter(person_id=person.id if person else None,
                                   person_no=person.employee_no if person else None,
                                   kind=kind, period=period), found


def _args(form: AuditFilterForm) -> dict:
    """The valid filters as query arguments, for the pages and the downloads."""
    return {name: getattr(form, name).data.strip() for name in ("person", "kind", "period")
            if getattr(form, name).data and getattr(form, name).data.strip() and not getattr(form, name).errors}


@bp.route("/")
@role_required("admin")
def index():
    form, filters, found = _filters()
    page = audit.search_events(current_user, filters, page_number(request.args),
                               current_app.config.get("AUDIT_EVENTS_PER_PAGE", 50)) if found else None
    return render_template("reports/audit.html", form=form, page=page, args=_args(form),
                           formats=list(FORMATS))


@bp.route(f"/export.<{EXPORT_FORMATS}:fmt>")
@role_required("admin")
def export(fmt: str):
    """The filtered list as CSV or XLSX (at most audit.EXPORT_LIMIT rows, newest first); the download
    itself is audited, as every report download is."""
    form, filters, found = _filters()
    args = _args(form)
    if not found:  # back to the list, where the message stands beside the person's field
        return redirect(url_for("audit_log.index", **request.args))
    try:
        (table,) = audit.build_audit(current_user, filters.period, None, utcnow(), person=args.get("person"),
                                     kind=filters.kind)
    except audit.AuditLogNotAllowed:
        abort(403)
    data, filename, media_type = export_table(table, fmt)
    record_audit(current_user, "report.exported", "report", 0, report="audit", format=fmt, rows=len(table.rows),
                 **args)
    db.session.commit()
    return Response(data, content_type=media_type, headers={
        "Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"})
