from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.catalog.services import CourseLocked
from lms.lessons import services

bp = Blueprint("lessons", __name__)


def _load(course_slug: str, lesson_slug: str) -> services.LessonView:
    try:
        return services.load_lesson_for(current_user, course_slug, lesson_slug)
    except services.LessonNotFound:
        abort(404)
    except CourseLocked as locked:
        # Explain what keeps the course closed rather than a bare "forbidden".
        abort(make_response(render_template("lessons/locked.html", locked=locked, course_slug=course_slug), 403))


@bp.route("/courses/<course_slug>/lessons/<lesson_slug>")
@login_required
def show(course_slug: str, lesson_slug: str):
    view = _load(course_slug, lesson_slug)
    services.record_opened(current_user, view.lesson)
    return render_template("lessons/show.html", view=view, course=view.lesson.course)


@bp.route("/courses/<course_slug>/lessons/<lesson_slug>/complete", methods=["POST"])
@login_required
def complete(course_slug: str, lesson_slug: str):
    view = _load(course_slug, lesson_slug)  # CSRFProtect has already checked the token
    services.complete_lesson(current_user, view.lesson)
    if view.next is not None:
        flash(_("Lesson complete. Next: %(title)s", title=view.next.title), "success")
        return redirect(url_for("lessons.show", course_slug=course_slug, lesson_slug=view.next.slug))
    flash(_("You have read every lesson of %(title)s.", title=view.lesson.course.title), "success")
    return redirect(url_for("catalog.course", slug=course_slug))
