from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms.auth.permissions import role_required
from lms.clock import center_zone, utcnow
from lms.extensions import db
from lms.formatting import one_decimal
from lms.input_guard import database_id
from lms.models import Course
from lms.practicals import forms, scripts, services

bp = Blueprint("practicals", __name__, url_prefix="/practicals")

AUTHORS = ("trainer", "admin")


def _user():
    return current_user._get_current_object()


MESSAGES = {
    services.SelfSignoff: _l("Nobody may observe or sign off their own practical."),
    services.NotYourMentee: _l("Only the agent's mentor or a trainer may observe and sign off this agent's practicals."),
    services.NotYourPractical: _l("Only the agent who was observed may acknowledge the result."),
    services.ScenarioLocked: _l("This scenario opens at a higher star level."),
    services.NotAllowed: _l("This belongs to someone else."),
    services.NothingScored: _l("Every criterion is marked not applicable: score at least one."),
    services.MarksInvalid: _l("The marks do not fit the rubric. Reload the page and score again."),
    services.WorkOnRequired: _l("The result is a fail: say what the agent should work on before the re-observation."),
    services.ReasonRequired: _l("Say why the result is corrected."),
}


def _message(exc: Exception) -> str:
    """The translated sentence for a domain exception: the most specific class wins."""
    return str(next(MESSAGES[cls] for cls in type(exc).__mro__ if cls in MESSAGES))


def _refused(exc: services.NotAllowed):
    """403 with the rule that refused, so a mentor knows why (not just 'not allowed')."""
    return render_template("errors/error.html", code=403, title=_("Not allowed"), message=_message(exc)), 403


def _scenario(slug: str, *, include_retired: bool = False):
    try:
        return scripts.find_scenario(slug, include_retired=include_retired)
    except services.ScenarioNotFound:
        abort(404)


def _practical(practical_id: int):
    try:
        return services.load_practical_for(_user(), practical_id)
    except services.PracticalNotFound:
        abort(404)


def _rehearsal(rehearsal_id: int, *, to_write: bool = False):
    try:
        return services.load_rehearsal_for(_user(), rehearsal_id, to_write=to_write)
    except services.RehearsalNotFound:
        abort(404)


# --- scenarios ----------------------------------------------------------------------------------

@bp.route("/scenarios")
@login_required
def scenarios():
    user = _user()
    return render_template("practicals/scenarios.html",
                           scenarios=scripts.list_scenarios(include_retired=user.can_author), user=user,
                           action=forms.ActionForm())


def _course_choices(form) -> None:
    form.course.choices = [(course.id, course.title) for course in scripts.live_courses()]


def _source_errors(form, exc: services.ScenarioInvalid) -> list[tuple[int, str]]:
    """(line, message) pairs for the editor, which shows each line number as a button that jumps there.
    A taken id belongs to the id field, not to a line of the text."""
    if isinstance(exc, services.ScenarioSlugTaken):
        form.slug.errors = list(form.slug.errors) + [_("Another scenario already uses this id. Choose another.")]
        return []
    return sorted(((error.line, error.message) for error in exc.errors), key=lambda pair: pair[0])


@bp.route("/scenarios/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_scenario():
    form = forms.ScenarioForm()
    _course_choices(form)
    source_errors = []
    if not form.is_submitted():
        form.text.data = render_template("practicals/scenario_template.md")
    if form.validate_on_submit():
        try:
            scenario = scripts.create_scenario(author=_user(), slug=form.slug.data, text=form.text.data,
                                                course=db.get_or_404(Course, form.course.data), now=utcnow())
        except services.ScenarioInvalid as exc:
            source_errors = _source_errors(form, exc)
        else:
            flash(_("Scenario %(title)s created.", title=scenario.title), "success")
            return redirect(url_for("practicals.scenario", slug=scenario.slug))
    return render_template("practicals/scenario_form.html", form=form, scenario=None, source_errors=source_errors)


@bp.route("/scenarios/<slug>/edit", methods=["GET", "POST"])
@role_required(*AUTHORS)
def edit_scenario(slug: str):
    scenario = _scenario(slug, include_retired=True)
    form = forms.EditScenarioForm(data={"course": scenario.course_id, "text": scenario.source_text})
    _course_choices(form)
    source_errors = []
    if form.validate_on_submit():
        try:
            script_changed, rubric_changed = scripts.update_scenario(
                scenario, author=_user(), text=form.text.data, course=db.get_or_404(Course, form.course.data),
                now=utcnow())
        except services.ScenarioInvalid as exc:
            source_errors = _source_errors(form, exc)
        else:
            if script_changed or rubric_changed:
                flash(_("Saved as a new version. Results signed earlier keep the version they were scored against."),
                      "success")
            else:
                flash(_("Saved. The script and rubric did not change, so no new version was made."), "success")
            return redirect(url_for("practicals.scenario", slug=slug))
    return render_template("practicals/scenario_form.html", form=form, scenario=scenario, source_errors=source_errors)


@bp.route("/scenarios/<slug>")
@login_required
def scenario(slug: str):
    user = _user()
    scenario = _scenario(slug, include_retired=user.can_author)
    return render_template("practicals/scenario.html", scenario=scenario, script=scenario.script,
                           rubric=scenario.rubric, may_rehearse=services.may_rehearse(user, scenario),
                           action=forms.ActionForm(), user=user)


# --- rehearsals ---------------------------------------------------------------------------------

@bp.route("/scenarios/<slug>/rehearse", methods=["POST"])
@login_required
def rehearse(slug: str):
    scenario = _scenario(slug)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    try:
        rehearsal = services.start_rehearsal(_user(), scenario, utcnow())
    except services.ScenarioLocked as exc:
        return _refused(exc)
    return redirect(url_for("practicals.rehearsal_step", rehearsal_id=rehearsal.id, step=1))


@bp.route("/rehearsals/<int:rehearsal_id>/steps/<int:step>", methods=["GET", "POST"])
@login_required
def rehearsal_step(rehearsal_id: int, step: int):
    try:
        rehearsal = _rehearsal(rehearsal_id, to_write=True)
    except services.NotAllowed as exc:
        return _refused(exc)
    steps = rehearsal.script_version.steps
    if not 1 <= step <= len(steps):
        abort(404)
    form = forms.ReplyForm(mood=rehearsal.mood)
    if form.validate_on_submit():
        services.save_reply(rehearsal, step - 1, form.reply.data or "", form.mood.data)
        return redirect(url_for("practicals.rehearsal_step", rehearsal_id=rehearsal.id, step=step) + "#model")
    reply = rehearsal.replies.get(str(step - 1))
    return render_template("practicals/rehearsal_step.html", rehearsal=rehearsal, step=steps[step - 1],
                           number=step, total=len(steps), form=form, reply=reply)


@bp.route("/rehearsals/<int:rehearsal_id>/rate", methods=["GET", "POST"])
@login_required
def rate_rehearsal(rehearsal_id: int):
    try:
        rehearsal = _rehearsal(rehearsal_id, to_write=True)
    except services.NotAllowed as exc:
        return _refused(exc)
    criteria = rehearsal.rubric_version.criteria
    by_key = {criterion.key: criterion for criterion in criteria}
    saved = {forms.criterion_field(by_key[key].id): (forms.NA if points is None else str(points))
             for key, points in rehearsal.self_marks.items() if key in by_key}
    form = forms.self_rating_form(criteria, data={**saved, "comment": rehearsal.self_comment})
    if form.validate_on_submit():
        marks, _comments = forms.marks_from(form, criteria)
        try:
            services.rate_rehearsal(rehearsal, marks, form.comment.data or "", utcnow())
        except services.MarksInvalid as exc:
            flash(_message(exc), "error")
        else:
            flash(_("Rehearsal saved. Your mentor can see it; it does not count as an assessment."), "success")
            return redirect(url_for("practicals.rehearsal", rehearsal_id=rehearsal.id))
    return render_template("practicals/rehearsal_rate.html", rehearsal=rehearsal, form=form, criteria=criteria)


@bp.route("/rehearsals/<int:rehearsal_id>")
@login_required
def rehearsal(rehearsal_id: int):
    try:
        rehearsal = _rehearsal(rehearsal_id)
    except services.NotAllowed as exc:
        return _refused(exc)
    by_key = {criterion.key: criterion for criterion in rehearsal.rubric_version.criteria}
    return render_template("practicals/rehearsal.html", rehearsal=rehearsal, criteria=by_key,
                           mine=rehearsal.user_id == current_user.id)


# --- practicals ---------------------------------------------------------------------------------

@bp.app_template_global("observation_state")
def observation_state(practical) -> str:
    """The practical's state for its badge now: scheduled, in_progress, signed or cancelled."""
    return services.observation_state(practical, utcnow().astimezone(center_zone()).date())


@bp.route("/mine")
@login_required
def mine():
    user = _user()
    return render_template("practicals/mine.html", practicals=services.practicals_of(user),
                           rehearsals=services.rehearsals_of(user))


@bp.route("/new", methods=["GET", "POST"])
@role_required("mentor", "trainer")
def new():
    live = scripts.list_scenarios()
    form = forms.NewPracticalForm(data={"employee_no": request.args.get("agent", ""),
                                        "scenario": request.args.get("scenario", "")})
    form.scenario.choices = [(s.slug, f"{s.course.title if s.course else '—'} · {s.title}") for s in live]
    if form.validate_on_submit():
        scenario = next(s for s in live if s.slug == form.scenario.data)
        try:
            agent = services.find_agent(form.employee_no.data)
            practical = services.open_practical(_user(), agent, scenario, now=utcnow(),
                                                scheduled_for=form.scheduled_for.data if form.schedule.data else None)
        except services.AgentNotFound:
            form.employee_no.errors.append(_("No active account has this employee number."))
        except services.NotAllowed as exc:
            form.employee_no.errors.append(_message(exc))
        else:
            if form.schedule.data:
                flash(_("Practical scheduled for %(name)s.", name=agent.name), "success")
                return redirect(url_for("mentoring.home") if current_user.has_role("mentor")
                                else url_for("practicals.show", practical_id=practical.id))
            return redirect(url_for("practicals.show", practical_id=practical.id))
    return render_template("practicals/new.html", form=form)


def _signoff_form(practical, **kwargs):
    scenario = practical.scenario
    return forms.signoff_form(scenario.rubric.criteria, data={
        "script_version_id": scenario.script.id, "rubric_version_id": scenario.rubric.id}, **kwargs)


def _show(practical, form=None, status=200):
    user = _user()
    may_sign = practical.status == "scheduled" and services.may_observe(user, practical.agent)
    if may_sign and form is None:
        form = _signoff_form(practical)
    entry = practical.current_entry
    return render_template(
        "practicals/show.html", practical=practical, form=form, may_sign=may_sign,
        may_correct=practical.signed and services.may_observe(user, practical.agent),
        entry=entry, marks=services.marks_of_entry(entry, practical.rubric_version) if entry else [],
        ack=practical.acknowledgement_of(entry), ack_form=forms.AcknowledgeForm(),
        reobserve_form=forms.ReobserveForm(), action=forms.ActionForm(), user=user,
    ), status


@bp.route("/<int:practical_id>")
@login_required
def show(practical_id: int):
    try:
        practical = _practical(practical_id)
    except services.NotAllowed as exc:
        return _refused(exc)
    return _show(practical)


@bp.route("/<int:practical_id>/sign", methods=["POST"])
@login_required
def sign(practical_id: int):
    try:
        practical = _practical(practical_id)
        services.check_observer(_user(), practical.agent)
    except services.NotAllowed as exc:
        return _refused(exc)
    if practical.status != "scheduled":
        flash(_("This practical is already signed: a signed result can only be corrected."), "error")
        return redirect(url_for("practicals.show", practical_id=practical_id))
    rubric_id = database_id(request.form.get("rubric_version_id"))
    rubric = next((r for r in practical.scenario.rubric_versions if r.id == rubric_id), practical.scenario.rubric)
    form = forms.signoff_form(rubric.criteria)
    if not form.validate():
        return _show(practical, form)
    marks, comments = forms.marks_from(form, rubric.criteria)
    try:
        entry = services.sign_off(
            _user(), practical, script_version_id=database_id(request.form.get("script_version_id")) or 0,
            rubric_version_id=rubric.id,
            marks=marks, comments=comments, overall_comment=form.overall_comment.data,
            work_on=form.work_on.data, mood=form.mood.data, now=utcnow())
    except services.AlreadySigned:
        flash(_("This practical is already signed: a signed result can only be corrected."), "error")
    except (services.MarksInvalid, services.WorkOnRequired) as exc:
        if isinstance(exc, services.WorkOnRequired):
            form.work_on.errors = [_message(exc)]
        else:
            flash(_message(exc), "error")
        return _show(practical, form)
    else:
        if entry.passed:
            flash(_("Signed: passed with %(percent)s%%.", percent=one_decimal(entry.percent)), "success")
        else:
            # a fail is never announced on a green banner
            flash(_("Signed: not passed (%(percent)s%%). You can schedule a re-observation below.",
                    percent=one_decimal(entry.percent)), "warning")
    return redirect(url_for("practicals.show", practical_id=practical_id))


@bp.route("/<int:practical_id>/correct", methods=["GET", "POST"])
@login_required
def correct(practical_id: int):
    try:
        practical = _practical(practical_id)
        services.check_observer(_user(), practical.agent)
    except services.NotAllowed as exc:
        return _refused(exc)
    if not practical.signed:
        abort(404)
    rubric = practical.rubric_version
    entry = practical.current_entry
    current = {forms.criterion_field(mark.criterion.id): (forms.NA if mark.points is None else str(mark.points))
               for mark in services.marks_of_entry(entry, rubric)}
    current.update({forms.note_field(mark.criterion.id): mark.comment for mark in services.marks_of_entry(entry, rubric)})
    form = forms.correction_form(rubric.criteria, data=current)
    if form.validate_on_submit():
        marks, comments = forms.marks_from(form, rubric.criteria)
        try:
            services.correct_practical(_user(), practical, marks=marks, comments=comments, reason=form.reason.data,
                                       now=utcnow())
        except (services.MarksInvalid, services.ReasonRequired) as exc:
            flash(_message(exc), "error")
        else:
            flash(_("Correction signed. The original result stays in the record, marked as corrected."), "success")
            return redirect(url_for("practicals.show", practical_id=practical_id))
    return render_template("practicals/correct.html", practical=practical, form=form, rubric=rubric, entry=entry)


@bp.route("/<int:practical_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(practical_id: int):
    try:
        practical = _practical(practical_id)
    except services.NotAllowed as exc:
        return _refused(exc)
    form = forms.AcknowledgeForm()
    if not form.validate_on_submit():
        flash(_("The comment is too long."), "error")
        return redirect(url_for("practicals.show", practical_id=practical_id))
    try:
        services.acknowledge(_user(), practical, form.comment.data or "", utcnow())
    except services.NotAllowed as exc:
        return _refused(exc)
    except services.NotSigned:
        abort(404)
    except services.AlreadyAcknowledged:
        flash(_("You have already acknowledged this result."), "info")
    else:
        flash(_("Acknowledged. Thank you."), "success")
    return redirect(url_for("practicals.show", practical_id=practical_id))


@bp.route("/<int:practical_id>/reobserve", methods=["POST"])
@login_required
def reobserve(practical_id: int):
    try:
        practical = _practical(practical_id)
        form = forms.ReobserveForm()
        if not form.validate_on_submit():
            abort(400)
        follow_up = services.schedule_reobservation(_user(), practical, scheduled_for=form.scheduled_for.data,
                                                    now=utcnow())
    except services.NotAllowed as exc:
        return _refused(exc)
    except (services.NotSigned, services.NothingToReobserve):
        flash(_("Only a failed result needs a re-observation."), "error")
    except services.ScenarioRetired:
        flash(_("The scenario is retired: open a practical on another scenario."), "error")
    except services.ReobservationExists:
        flash(_("A re-observation is already scheduled."), "info")
    else:
        flash(_("Re-observation scheduled."), "success")
        return redirect(url_for("practicals.show", practical_id=follow_up.id))
    return redirect(url_for("practicals.show", practical_id=practical_id))


@bp.route("/<int:practical_id>/cancel", methods=["POST"])
@login_required
def cancel(practical_id: int):
    """Cancelling takes two steps: a POST without confirm=yes only shows the confirmation page."""
    try:
        practical = _practical(practical_id)
        services.check_observer(_user(), practical.agent)
        if practical.status == "cancelled":
            flash(_("Practical cancelled."), "info")
            return redirect(url_for("practicals.show", practical_id=practical_id))
        if practical.status != "scheduled":
            raise services.AlreadySigned(practical.id)
        form = forms.ActionForm()
        if not (form.validate_on_submit() and request.form.get("confirm") == "yes"):
            return render_template("practicals/cancel.html", practical=practical, action=form)
        services.cancel_practical(_user(), practical, utcnow())
    except services.NotAllowed as exc:
        return _refused(exc)
    except services.AlreadySigned:
        flash(_("This practical is already signed: a signed result can only be corrected."), "error")
        return redirect(url_for("practicals.show", practical_id=practical_id))
    flash(_("Practical cancelled."), "success")
    if current_user.has_role("mentor") and practical.agent.mentor_id == current_user.id:
        return redirect(url_for("mentoring.home"))
    return redirect(url_for("mentoring.mentee", user_id=practical.agent_id))
