"""Authoring pages: trainers and admins build and edit courses and lessons in the browser.

Views parse the form, call one service of lms.authoring.services and flash/redirect or re-render with
the parser's problems; agents and mentors get 403 (role_required), every service checks again."""
from __future__ import annotations

import io

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user

from lms.auth.permissions import role_required
from lms.authoring import forms, services
from lms.authoring.export import export_zip
from lms.catalog.types import COURSE_TYPE_LABELS
from lms.clock import utcnow
from lms.extensions import db

bp = Blueprint("authoring", __name__, url_prefix="/author")

AUTHORS = ("trainer", "admin")
UPLOAD_OVERHEAD = 1024 * 1024  # the form's other fields and the multipart framing around the file


def _me():
    return current_user._get_current_object()


def _course(slug: str):
    try:
        return services.course_for_author(db.session, _me(), slug)
    except services.CourseNotFound:
        abort(404)
    except services.NotAuthor:
        abort(403)


def _lesson(course, lesson_slug: str):
    try:
        return services.lesson_of(course, lesson_slug)
    except services.CourseNotFound:
        abort(404)


def _show_problems(form, problems, *, text_field: str | None = None) -> list:
    """Put each problem on its form field; return (line, message) pairs for the Markdown editor and the
    problems that belong to no field, as (None, message)."""
    lines = []
    for problem in problems:
        target = getattr(form, problem.where, None) if problem.where else None
        if problem.where == text_field and problem.line:
            lines.append((problem.line, problem.message))
        elif target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + [problem.message]
        else:
            lines.append((problem.line, problem.message))
    return lines


def _course_values(form, slug: str = "") -> services.CourseFields:
    level = form.star_level.data
    return services.CourseFields(
        slug=form.slug.data if form.slug is not None else slug, title=form.title.data or "",
        star_level=int(level) if level not in (None, "") and str(level).isdigit() else None,
        kind=form.kind.data, track=form.track.data, course_type=form.course_type.data or None,
        summary=form.summary.data or "", valid_months=form.valid_months.data,
        prerequisites=[value for value in (form.prerequisites.data or []) if value],
        intro_md=(form.intro_md.data or "").replace("\r\n", "\n"))


def _prerequisite_choices(form, course=None) -> None:
    form.prerequisites.choices = [forms.Choice(other.slug, f"{other.title} ({other.slug}, ★{other.star_level})")
                                  for other in services.course_choices(db.session, exclude=course)]


# --- courses ------------------------------------------------------------------------------------------

@bp.route("/courses")
@role_required(*AUTHORS)
def courses():
    return render_template("authoring/courses.html", rows=services.list_courses(db.session),
                           type_labels=COURSE_TYPE_LABELS)


@bp.route("/courses/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_course():
    form = forms.CourseForm()
    _prerequisite_choices(form)
    problems = []
    if form.validate_on_submit():
        try:
            course = services.create_course(db.session, _me(), _course_values(form), utcnow())
        except services.AuthoringInvalid as invalid:
            problems = _show_problems(form, invalid.problems, text_field="intro_md")
        else:
            flash(_("Course %(title)s created. Add its first lesson; learners see it once you publish it.",
                    title=course.title), "success")
            return redirect(url_for("authoring.course", slug=course.slug))
    return render_template("authoring/course_form.html", form=form, course=None, problems=problems), \
        (422 if request.method == "POST" else 200)


@bp.route("/courses/<slug>", methods=["GET", "POST"])
@role_required(*AUTHORS)
def course(slug: str):
    course = _course(slug)
    values = services.fields_of(course)
    form = forms.EditCourseForm(data={**values.__dict__, "star_level": str(values.star_level),
                                      "course_type": values.course_type or ""})
    _prerequisite_choices(form, course)
    problems = []
    status = 200
    if form.validate_on_submit():
        try:
            services.update_course(db.session, _me(), course, _course_values(form, course.slug), utcnow())
        except services.AuthoringInvalid as invalid:
            problems = _show_problems(form, invalid.problems, text_field="intro_md")
            db.session.rollback()
            status = 422
        else:
            flash(_("Course settings saved."), "success")
            return redirect(url_for("authoring.course", slug=slug))
    elif request.method == "POST":
        status = 422
    return render_template("authoring/course.html", course=course, form=form, problems=problems,
                           rule=services.origin_rule(course), media_form=forms.MediaForm(),
                           action=forms.ActionForm(), type_labels=COURSE_TYPE_LABELS), status


@bp.route("/courses/<slug>/publish", methods=["POST"])
@role_required(*AUTHORS)
def publish(slug: str):
    course = _course(slug)
    if forms.ActionForm().validate_on_submit():
        visible = request.form.get("visible") == "1"
        try:
            services.publish_course(db.session, _me(), course, utcnow(), visible=visible)
        except services.NotPublishable:
            flash(_("Add a lesson before publishing: learners would find an empty course."), "error")
        else:
            flash(_("Learners now see %(title)s in the catalog.", title=course.title) if visible
                  else _("%(title)s is hidden from learners.", title=course.title), "success")
    return redirect(url_for("authoring.course", slug=slug))


@bp.route("/courses/<slug>/export.zip")
@role_required(*AUTHORS)
def export(slug: str):
    course = _course(slug)
    folder, data = export_zip(course, services.level_number(db.session, course))
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=f"{folder}.zip", max_age=0)


# --- media --------------------------------------------------------------------------------------------

def _upload_limit() -> int:
    """The biggest upload accepted: the largest media limit (lms.config LMS_MEDIA_MAX_*_MB) and the form."""
    config = current_app.config
    megabytes = max(float(config.get(key) or 0) for key in
                    ("LMS_MEDIA_MAX_IMAGE_MB", "LMS_MEDIA_MAX_AUDIO_MB", "LMS_MEDIA_MAX_VIDEO_MB"))
    return int(max(megabytes, 8) * 1024 * 1024) + UPLOAD_OVERHEAD


@bp.url_value_preprocessor
def _raise_upload_limit(endpoint, values) -> None:
    """Uploads may be bigger than the app's MAX_CONTENT_LENGTH: this one view gets the media limits. Set
    here because URL value preprocessors run before every before_request hook, and those (the NUL guard,
    the CSRF check) read the form (Flask 3.1: request.max_content_length is per request)."""
    if endpoint == "authoring.upload" and request.method == "POST":
        request.max_content_length = _upload_limit()


@bp.route("/courses/<slug>/media", methods=["POST"])
@role_required(*AUTHORS)
def upload(slug: str):
    course = _course(slug)
    form = forms.MediaForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    back = form.back.data or ""
    file = request.files.get("file")
    data = file.read() if file else b""
    if not file or not file.filename or not data:
        return _upload_refused(course, back, _("Choose a file to upload."), wants_json)
    try:
        name = services.upload_media(db.session, _me(), course, data, file.filename, utcnow())
    except services.MediaRefused as refused:
        return _upload_refused(course, back, str(refused.message), wants_json)
    markdown = f"![{_('description')}]({name})"
    if wants_json:
        return jsonify({"name": name, "markdown": markdown})
    flash(_("Uploaded as %(name)s. Show it in a lesson with %(markdown)s", name=name, markdown=markdown), "success")
    return redirect(_back_to(course, back))


def _back_to(course, back: str) -> str:
    if back and any(lesson.slug == back for lesson in course.lessons):
        return url_for("authoring.lesson", slug=course.slug, lesson_slug=back)
    return url_for("authoring.course", slug=course.slug) + "#media"


def _upload_refused(course, back: str, message: str, wants_json: bool):
    if wants_json:
        return jsonify({"error": message}), 400
    flash(_("Nothing was uploaded: %(reason)s", reason=message), "error")
    return redirect(_back_to(course, back))


# --- lessons ------------------------------------------------------------------------------------------

def _editor_page(course, lesson, form, problems, status=200):
    versions = list(reversed(lesson.versions)) if lesson else []
    return render_template("authoring/lesson.html", course=course, lesson=lesson, form=form, problems=problems,
                           error_lines=sorted({line for line, _message in problems if line}),
                           versions=versions, authors=services.author_names(db.session, lesson) if lesson else {},
                           media_form=forms.MediaForm(back=lesson.slug if lesson else ""),
                           action=forms.ActionForm(), rule=services.origin_rule(course)), status


@bp.route("/courses/<slug>/lessons/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_lesson(slug: str):
    course = _course(slug)
    form = forms.NewLessonForm(data={"minutes": 5})
    problems = []
    if form.validate_on_submit():
        try:
            lesson = services.add_lesson(db.session, _me(), course, slug=form.slug.data, title=form.title.data,
                                         minutes=form.minutes.data, body=form.body.data or "", now=utcnow())
        except services.AuthoringInvalid as invalid:
            problems = _show_problems(form, invalid.problems, text_field="body")
            db.session.rollback()
        else:
            flash(_("Lesson %(title)s added.", title=lesson.title), "success")
            return redirect(url_for("authoring.lesson", slug=slug, lesson_slug=lesson.slug))
    return _editor_page(course, None, form, problems, 422 if request.method == "POST" else 200)


@bp.route("/courses/<slug>/lessons/<lesson_slug>", methods=["GET", "POST"])
@role_required(*AUTHORS)
def lesson(slug: str, lesson_slug: str):
    course = _course(slug)
    lesson = _lesson(course, lesson_slug)
    form = forms.LessonForm(data={"title": lesson.title, "minutes": lesson.minutes, "body": lesson.body_md})
    problems = []
    if form.validate_on_submit():
        try:
            changed = services.save_lesson_text(db.session, _me(), lesson, title=form.title.data,
                                                minutes=form.minutes.data, body=form.body.data or "", now=utcnow())
        except services.AuthoringInvalid as invalid:
            problems = _show_problems(form, invalid.problems, text_field="body")
            db.session.rollback()
            course = _course(slug)
            lesson = _lesson(course, lesson_slug)
        else:
            flash(_("Saved as version %(n)s.", n=lesson.version) if changed else _("Nothing had changed."), "success")
            return redirect(url_for("authoring.lesson", slug=slug, lesson_slug=lesson_slug))
    return _editor_page(course, lesson, form, problems, 422 if request.method == "POST" else 200)


@bp.route("/courses/<slug>/lessons/<lesson_slug>/move", methods=["POST"])
@role_required(*AUTHORS)
def move(slug: str, lesson_slug: str):
    course = _course(slug)
    lesson = _lesson(course, lesson_slug)
    if forms.ActionForm().validate_on_submit():
        offset = -1 if request.form.get("direction") == "up" else 1
        if services.move_lesson(db.session, _me(), course, lesson, offset, utcnow()):
            flash(_("%(title)s is now lesson %(n)s.", title=lesson.title, n=lesson.position + 1), "success")
    return redirect(url_for("authoring.course", slug=slug) + f"#lesson-{lesson_slug}")


@bp.route("/courses/<slug>/lessons/<lesson_slug>/versions/<int:number>")
@role_required(*AUTHORS)
def version(slug: str, lesson_slug: str, number: int):
    course = _course(slug)
    lesson = _lesson(course, lesson_slug)
    try:
        version = services.version_of(lesson, number)
    except services.CourseNotFound:
        abort(404)
    return render_template("authoring/version.html", course=course, lesson=lesson, version=version,
                           author=services.author_names(db.session, lesson).get(version.author_id),
                           action=forms.ActionForm())


@bp.route("/courses/<slug>/lessons/<lesson_slug>/versions/<int:number>/restore", methods=["POST"])
@role_required(*AUTHORS)
def restore(slug: str, lesson_slug: str, number: int):
    course = _course(slug)
    lesson = _lesson(course, lesson_slug)
    if not forms.ActionForm().validate_on_submit():
        return redirect(url_for("authoring.lesson", slug=slug, lesson_slug=lesson_slug))
    try:
        changed = services.restore_version(db.session, _me(), lesson, number, utcnow())
    except services.CourseNotFound:
        abort(404)
    except services.AuthoringInvalid as invalid:
        db.session.rollback()
        flash(_("Version %(n)s cannot be restored as it is: %(problem)s", n=number,
                problem=str(invalid.problems[0].message)), "error")
        return redirect(url_for("authoring.version", slug=slug, lesson_slug=lesson_slug, number=number))
    flash(_("Version %(old)s restored as version %(n)s.", old=number, n=lesson.version) if changed
          else _("That version is what the lesson already says."), "success")
    return redirect(url_for("authoring.lesson", slug=slug, lesson_slug=lesson_slug))


# --- the live preview -----------------------------------------------------------------------------------

PREVIEW_LIMIT = forms.MAX_MARKDOWN * 4 + 1024  # characters as escaped JSON


@bp.route("/preview", methods=["POST"])
@role_required(*AUTHORS)
def preview():
    """JSON {course, markdown} -> {html, errors: [{line, message}]}, rendered as learners will see it.
    CSRF comes in the X-CSRFToken header."""
    if (request.content_length or 0) > PREVIEW_LIMIT:
        return jsonify({"error": _("The text is too long to preview.")}), 413
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("markdown"), str) \
            or not isinstance(payload.get("course"), str):
        return jsonify({"error": _("The text could not be read.")}), 400
    course = _course(payload["course"])
    html, problems = services.preview(course, payload["markdown"][:forms.MAX_MARKDOWN])
    return jsonify({"html": html, "errors": [{"line": problem.line, "message": str(problem.message)}
                                             for problem in problems]})
