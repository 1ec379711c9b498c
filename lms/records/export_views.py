"""Downloads of the training archive: one agent's (whoever may read it; audited unless it is the
agent's own) or a team's / everyone's (trainers and admins, audited). Formats and columns:
lms.records.exports."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.auth.permissions import role_required
from lms.clock import utcnow
from lms.extensions import db
from lms.models import User
from lms.records import exports
from lms.records.access import ArchiveNotFound, NotAllowed, load_agent_for
from lms.records.services import audit

bp = Blueprint("exports", __name__)

FORMATS = "any(" + ", ".join(exports.FORMATS) + ")"


def _base_url() -> str:
    return current_app.config.get("LMS_BASE_URL", exports.DEFAULT_BASE_URL)


def _download(export: exports.Export) -> Response:
    response = Response(export.data, content_type=export.media_type)
    response.headers["Content-Disposition"] = exports.content_disposition(export.filename)
    response.headers["Cache-Control"] = "no-store"  # personal data: not for shared caches
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route(f"/records/<employee_no>/export.<{FORMATS}:fmt>")
@login_required
def agent(employee_no: str, fmt: str):
    try:
        person = load_agent_for(current_user, employee_no)
    except ArchiveNotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    export = exports.export_archive(fmt, agent=person, base_url=_base_url(), now=utcnow())
    if person.id != current_user.id:  # someone else's personal data left the system: keep a trace
        audit(current_user, "records.exported", "user", person.id, format=fmt, rows=export.rows)
        db.session.commit()
    return _download(export)


@bp.route(f"/records/export.<{FORMATS}:fmt>")
@role_required("trainer", "admin")
def bulk(fmt: str):
    team = request.args.get("team", "").strip()
    export = exports.export_archive(fmt, team=team or None, base_url=_base_url(), now=utcnow())
    audit(current_user, "records.exported", "export", 0, team=team or None, format=fmt, rows=export.rows)
    db.session.commit()
    return _download(export)


@bp.route("/records/export")
@role_required("trainer", "admin")
def index():
    """Choose a team (or everyone) and a format; the choice goes to `bulk`."""
    fmt = request.args.get("format", "")
    if fmt in exports.FORMATS:
        team = request.args.get("team", "").strip()
        return redirect(url_for("exports.bulk", fmt=fmt, team=team or None))
    teams = list(db.session.scalars(select(User.team).where(User.team != "").distinct().order_by(User.team)))
    return render_template("records/export.html", teams=teams, formats=list(exports.FORMATS))
