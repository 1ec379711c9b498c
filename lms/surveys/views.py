"""Survey pages: the agent's waiting surveys and answer form, the trainers' template editor, and the
aggregate results (trainers and admins see all; an instructor their own sessions and their courses).
Views parse a form, call one service, then flash and redirect or render."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.auth.permissions import role_required
from lms.auth.services import safe_next_url
from lms.clock import utcnow
from lms.surveys import authoring, forms, services
from lms.surveys import results as survey_results

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


def _me():
    return current_user._get_current_object()


def _back() -> str:
    """Where "Later" goes: the page the agent came from (a path on this site), else home."""
    return safe_next_url(request.args.get("next")) or url_for("catalog.home")


# --- the agent ---------------------------------------------------------------------------------------

@bp.route("/")
@login_required
def mine():
    return render_template("surveys/mine.html", surveys=services.waiting_surveys(_me(), utcnow()))


@bp.route("/<any(course, session):subject_type>/<int:subject_id>", methods=["GET", "POST"])
@login_required
def answer(subject_type: str, subject_id: int):
    now = utcnow()
    try:
        subject, template = services.load_subject_for(_me(), subject_type, subject_id, now)
    except services.AlreadyAnswered:
        flash(_("You have already answered this survey. Thank you!"), "success")
        return redirect(url_for("catalog.home"))
    form = forms.answer_form(subject, template)()
    if form.validate_on_submit():
        answers = {q["id"]: form[forms.question_field(q["id"])].data for q in template.questions or []}
        try:
            services.submit_answer(
                _me(), subject, template, course_rating=form.course_rating.data,
                instructor_rating=form.instructor_rating.data if "instructor_rating" in form else None,
                answers=answers, comment=form.comment.data, now=now)
        except services.AlreadyAnswered:
            flash(_("You have already answered this survey. Thank you!"), "success")
            return redirect(url_for("catalog.home"))
        except services.InvalidAnswers as exc:
            for name, message in exc.errors.items():
                target = name if name in ("course_rating", "instructor_rating", "comment") \
                    else forms.question_field(name)
                if target in form:
                    form[target].errors = list(form[target].errors) + [str(message)]
        else:
            flash(_("Thank you! Your answers were recorded anonymously."), "success")
            return redirect(url_for("catalog.home"))
    elif form.is_submitted():
        flash(_("Some answers are missing or not valid: see the messages below."), "error")
    questions = [(q, form[forms.question_field(q["id"])]) for q in template.questions or []]
    return render_template("surveys/answer.html", subject=subject, form=form, questions=questions,
                           back=_back())


# --- templates (trainers, admins) ----------------------------------------------------------------------

@bp.route("/templates")
@role_required("trainer", "admin")
def templates():
    return render_template("surveys/templates.html", templates=authoring.list_templates(),
                           counts=authoring.answer_counts(), action=forms.ActionForm())


def _template_form(template=None):
    """The editor for a new template (template None) or an existing one."""
    form = forms.TemplateForm()
    locked = template is not None and authoring.has_answers(template)
    if not form.is_submitted():
        if template is not None:
            forms.fill_template_form(form, template)
        elif request.args.get("applies_to") in ("course", "session"):
            form.applies_to.data = request.args["applies_to"]
    if form.validate_on_submit():
        rows = form.rows()
        applies_to = form.applies_to.data
        if locked:  # only the name and the default can change: the questions stay as answered
            rows, applies_to = template.questions, template.applies_to
        try:
            saved = authoring.save_template(_me(), template, name=form.name.data, applies_to=applies_to, rows=rows,
                                           make_default=form.make_default.data, now=utcnow())
        except authoring.TemplateHasAnswers:
            flash(_("This survey has answers: its questions cannot change. Make a copy and edit the copy."), "error")
        except authoring.InvalidTemplate as exc:
            for index, message in exc.errors.items():
                if index is None or index >= len(form.questions):
                    form.questions.errors = list(form.questions.errors or []) + [str(message)]
                else:
                    form.questions[index].form.prompt.errors = list(form.questions[index].form.prompt.errors) + [
                        str(message)]
        else:
            flash(_("Survey saved."), "success")
            return redirect(url_for("surveys.edit_template", template_id=saved.id))
    if not locked:
        form.pad()
    return render_template("surveys/template_form.html", form=form, template=template, locked=locked,
                           action=forms.ActionForm(), max_questions=authoring.MAX_QUESTIONS)


@bp.route("/templates/new", methods=["GET", "POST"])
@role_required("trainer", "admin")
def new_template():
    return _template_form()


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@role_required("trainer", "admin")
def edit_template(template_id: int):
    return _template_form(authoring.load_template(template_id))


@bp.route("/templates/<int:template_id>/duplicate", methods=["POST"])
@role_required("trainer", "admin")
def duplicate_template(template_id: int):
    template = authoring.load_template(template_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    copy = authoring.duplicate_template(_me(), template, _("Copy of %(name)s", name=template.name), utcnow())
    flash(_("Copy made: edit its questions here."), "success")
    return redirect(url_for("surveys.edit_template", template_id=copy.id))


@bp.route("/templates/<int:template_id>/default", methods=["POST"])
@role_required("trainer", "admin")
def make_default(template_id: int):
    template = authoring.load_template(template_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    authoring.set_default(_me(), template, utcnow())
    flash(_("“%(name)s” is now the survey asked by default.", name=template.name), "success")
    return redirect(url_for("surveys.templates"))


# --- results (aggregates only) --------------------------------------------------------------------------

def _results_viewer():
    me = _me()
    if not survey_results.may_see_results(me):
        abort(403)
    return me


@bp.route("/results")
@login_required
def results():
    me = _results_viewer()
    return render_template("surveys/results.html", overview=survey_results.results_overview(me),
                           everything=survey_results.sees_everything(me), min_answers=survey_results.MIN_ANSWERS)


@bp.route("/results/course/<int:course_id>")
@login_required
def course_results(course_id: int):
    course, result = survey_results.load_course_results_for(_results_viewer(), course_id)
    return render_template("surveys/result.html", kind="course", title=course.title, result=result,
                           min_answers=survey_results.MIN_ANSWERS)


@bp.route("/results/session/<int:session_id>")
@login_required
def session_results(session_id: int):
    session, result = survey_results.load_session_results_for(_results_viewer(), session_id)
    return render_template("surveys/result.html", kind="session", title=session.title, session=session,
                           result=result, min_answers=survey_results.MIN_ANSWERS)


@bp.route("/results/instructor/<int:user_id>")
@login_required
def instructor_results(user_id: int):
    instructor, result, rows = survey_results.load_instructor_results_for(_results_viewer(), user_id)
    return render_template("surveys/result.html", kind="instructor", title=instructor.name, result=result,
                           rows=rows, min_answers=survey_results.MIN_ANSWERS)
