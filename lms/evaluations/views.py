from io import BytesIO

from flask import Blueprint, abort, current_app, redirect, render_template, send_file, url_for
from flask_babel import get_locale
from flask_login import current_user

from lms.auth.permissions import role_required
from lms.config import DEFAULT_BAND_THRESHOLDS
from lms.evaluations import services
from lms.evaluations.forms import ImportForm
from lms.jobs import services as jobs

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")

TEMPLATES = {
    "csv": (services.template_csv, "text/csv"),
    "xlsx": (services.template_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@bp.app_context_processor
def band_thresholds():
    """The result bands' lower limits, for `band_scale` in templates/exams/_macros.html.
    (Registered here because the app factory is not ours to edit.)"""
    return {"band_thresholds": current_app.config.get("LMS_BAND_THRESHOLDS") or DEFAULT_BAND_THRESHOLDS}


@bp.route("/import", methods=["GET", "POST"])
@role_required("trainer", "admin")
def import_form():
    """A small file imports at once and its result shows here; a large one becomes a background
    job and the browser goes to its progress page (lms/jobs/services.py)."""
    form = ImportForm()
    job = None
    if form.validate_on_submit():
        job, problem = jobs.accept_upload("evaluations", current_user._get_current_object(), form.file.data,
                                          max_rows=services.MAX_IMPORT_ROWS, locale=str(get_locale()))
        if problem:
            form.file.errors.append(problem)
        elif not job.finished:
            return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("evaluations/import.html", form=form, job=job, pass_percent=services.pass_percent(),
                           max_rows=services.MAX_IMPORT_ROWS)


@bp.route("/template.<fmt>")
@role_required("trainer", "admin")
def template(fmt: str):
    if fmt not in TEMPLATES:
        abort(404)
    make, mimetype = TEMPLATES[fmt]
    return send_file(BytesIO(make()), mimetype=mimetype, as_attachment=True,
                     download_name=f"evaluations-template.{fmt}", max_age=0)
