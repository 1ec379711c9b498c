from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.clock import center_zone, utcnow
from lms.pagination import page_number
from lms.records import access, archive, kpi
from lms.records.completion import live_courses, load_standings
from lms.records.forms import ArchiveFilterForm, StaffSearchForm

bp = Blueprint("records", __name__)


@bp.route("/records")
@login_required
def staff():
    form = StaffSearchForm(request.args)
    form.validate()
    query = (form.q.data or "") if not form.q.errors else ""
    try:
        pagination = archive.search_staff(current_user, query, page_number(request.args),
                                          current_app.config.get("USERS_PER_PAGE", 50))
    except archive.StaffListNotAllowed:
        abort(403)
    standings = load_standings(pagination.items, utcnow())  # refreshers due or expired, for the page's people
    return render_template("records/staff.html", form=form, query=query.strip(), pagination=pagination,
                           due={user_id: standing.due_or_expired() for user_id, standing in standings.items()})


@bp.route("/records/me")
@login_required
def mine():
    return redirect(url_for("records.archive", employee_no=current_user.employee_no))


@bp.route("/records/<employee_no>", endpoint="archive")
@login_required
def archive_page(employee_no: str):
    try:
        agent = access.load_agent_for(current_user, employee_no)
    except access.ArchiveNotFound:
        abort(404)
    except access.NotAllowed:
        abort(403)
    form = ArchiveFilterForm(request.args)
    courses = live_courses()
    form.set_courses(courses)
    message = None
    if request.args and not form.validate():
        message = _("Some filters could not be used: see the messages beside them. The other filters apply.")
    filters = archive.ArchiveFilter(
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
        course_id=form.course.data if not form.course.errors else None,
        kind=(form.kind.data or None) if not form.kind.errors else None,
        tz=center_zone(),
    )
    now = utcnow()
    return render_template("records/archive.html", archive=archive.build_archive(agent, now, filters, courses),
                           form=form, filter_message=message, kpi_months=kpi.agent_kpi(agent, now))

