from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.auth.landing import AGENT_HOME, landing_endpoint
from lms.catalog import services
from lms.catalog.home import load_home
from lms.catalog.types import COURSE_TYPE_LABELS, known_type
from lms.clock import utcnow
from lms.exams.services import course_exam, exam_status

bp = Blueprint("catalog", __name__)


@bp.app_context_processor
def _course_type_labels():
    """Course cards anywhere show their type's label (lms.catalog.types)."""
    return {"course_type_labels": COURSE_TYPE_LABELS}


@bp.route("/")
@login_required
def home():
    """The front door: an agent's home for agents, the landing page of their main role for everyone else."""
    endpoint = landing_endpoint(current_user)
    if endpoint != AGENT_HOME:
        return redirect(url_for(endpoint))
    return learning()


@bp.route("/learn")
@login_required
def learning():
    """My learning: the agent home (for staff without the agent role, the catalog they may open)."""
    home = load_home(current_user._get_current_object(), utcnow())
    # ?type=skills shows the courses of one type; an unknown value shows them all.
    return render_template("catalog/home.html", home=home, course_type=known_type(request.args.get("type")),
                           course_types=services.course_types_of(home.progress.courses))


@bp.route("/courses/<slug>")
@login_required
def course(slug: str):
    progress = services.load_progress(current_user)
    course = services.find_course(progress, slug)
    if course is None:
        abort(404)
    card = progress.card(course)
    exam = course_exam(course.id)
    return render_template(
        "catalog/course.html",
        exam_status=exam_status(current_user._get_current_object(), exam, utcnow(), locked=not card.access.is_open)
        if exam is not None else None,
        course=course,
        card=card,
        progress=progress,
        minutes_left=services.minutes_left(course, progress),
        first_unread=progress.first_unread(course),
    )
