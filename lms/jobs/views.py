import csv
import io

import click
from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, send_file
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.jobs import services
from lms.formatting import counted

bp = Blueprint("jobs", __name__, url_prefix="/jobs", cli_group="jobs")


@bp.app_context_processor
def job_helpers():
    """For templates/jobs/_result.html, which the import pages include too."""
    from lms.auth.activation import ACTIVATION_DAYS

    return {"job_error_message": services.error_message, "ACTIVATION_DAYS": ACTIVATION_DAYS,
            "inline_rows": services.inline_rows()}


def _job(job_id: int):
    return services.load_job_for(current_user._get_current_object(), job_id)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"  # activation codes and row errors: never cached
    return response


@bp.route("/<int:job_id>")
@login_required
def show(job_id: int):
    job = _job(job_id)
    return _no_store(make_response(render_template("jobs/show.html", job=job, form=FlaskForm())))


@bp.route("/<int:job_id>/status")
@login_required
def status(job_id: int):
    return _no_store(jsonify(services.status(_job(job_id))))


@bp.route("/<int:job_id>/codes.csv", methods=["POST"])
@login_required
def codes(job_id: int):
    """The activation codes of a staff import as a CSV file, once: they leave the server with it."""
    job = _job(job_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    rows = services.take_codes(job, current_user._get_current_object())
    if not rows:
        abort(410)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["employee_no", "name", "activation_code"])
    writer.writerows(rows)
    response = send_file(io.BytesIO(buffer.getvalue().encode("utf-8-sig")), mimetype="text/csv",
                         as_attachment=True, download_name=f"activation-codes-{job.id}.csv", max_age=0)
    return _no_store(response)


@bp.cli.command("work")
@click.option("--once", is_flag=True, help="Run the queued jobs, then exit.")
@click.option("--idle", default=2.0, show_default=True, help="Seconds between looks when nothing is queued.")
def work(once: bool, idle: float) -> None:
    """Run queued background jobs (imports) until stopped. Needed with LMS_JOBS_WORKER=external;
    with the default (thread) the web process runs them and this loop only helps."""
    app = current_app._get_current_object()
    ran = services.work(app, once=once, idle_seconds=idle, echo=click.echo)
    click.echo(f"{counted(ran, 'job')} run.")
