"""Exam pages: the agent's landing, sitting, result and review pages, the JSON save endpoint, the
trainer's marking queue and exam editor. Views parse input, call one service, then redirect or
render; services' exceptions become messages here."""
from __future__ import annotations

import re
from datetime import timezone

from flask import (Blueprint, abort, flash, jsonify, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from lms.auth.permissions import role_required
from lms.clock import center_zone, utcnow
from lms.exams import authoring, cache, feedback, forms, makeup, saving, services, timing
from lms.exams.forms import Choice
from lms.exams.marking import Mark, mark_essays, marking_queue
from lms.extensions import db
from lms.models import Course, Exam, QuestionBank
from lms.pagination import page_number
from lms.questions.types import InvalidResponse

bp = Blueprint("exams", __name__, url_prefix="/exams")


def _me():
    return current_user._get_current_object()


def _message(exc: services.ExamError) -> str:
    if isinstance(exc, services.ExamLocked):
        return _("This exam opens when you may open its course.")
    if isinstance(exc, services.ExamNotOpenYet):
        return _("This exam opens at %(time)s.", time=format_datetime(exc.opens_at, "short"))
    if isinstance(exc, services.ExamClosed):
        return _("This exam is closed.")
    if isinstance(exc, services.AttemptLimitReached):
        return _("You have used every attempt this exam allows.")
    if isinstance(exc, services.RetakeNotYet):
        return _("You may try again from %(time)s.", time=format_datetime(exc.allowed_at, "short"))
    if isinstance(exc, services.ExamEmpty):
        return _("This exam has no questions yet. Tell your trainer.")
    if isinstance(exc, services.AttemptFinished):
        if exc.overdue:
            return _("Time is up: the answers saved in time were graded.")
        return _("This attempt is already submitted; answers can no longer change.")
    if isinstance(exc, services.UnknownSlot):
        return _("There is no such question in this attempt.")
    if isinstance(exc, services.MarkingNotAllowed):
        return _("This attempt cannot be marked by you now (already graded, or your own).")
    return _("That did not work. Reload the page and try again.")


# --- the agent -----------------------------------------------------------------------------------

@bp.route("/<slug>")
@login_required
def show(slug: str):
    exam = services.load_exam(slug)
    status = services.exam_status(_me(), exam, utcnow())
    return render_template("exams/show.html", exam=exam, status=status)


@bp.route("/<slug>/start", methods=["POST"])
@login_required
def start(slug: str):
    exam = services.load_exam(slug)
    now = utcnow()
    try:
        attempt, slots = services.begin_sitting(_me(), exam, now)
    except services.ExamError as exc:
        flash(_message(exc), "error")
        return redirect(url_for("exams.show", slug=slug))
    # The answer to Start is the sheet itself, not a redirect to it: a wave of agents pressing Start
    # together costs one request each, not two. Content-Location names the sheet's own address, and
    # the page puts that address in the browser's history (exam.js), so a reload asks for it there.
    # A second click, a reload without the script or another device gets the same open attempt.
    response = make_response(_sheet_page(attempt, slots, now))
    response.headers["Content-Location"] = url_for("exams.take", attempt_id=attempt.id)
    return response


@bp.route("/attempts/<int:attempt_id>")
@login_required
def take(attempt_id: int):
    now = utcnow()
    attempt = services.load_attempt_for(_me(), attempt_id, now)
    if not attempt.is_open:
        return redirect(url_for("exams.result", attempt_id=attempt.id))
    return _sheet_page(attempt, services.load_sheet(attempt), now)


def _sheet_page(attempt, slots, now) -> str:
    return cache.sheet_page(attempt, cache.Sheet(slots), now=now, grace=services.grace_seconds(),
                            max_seq=max((slot.seq for slot in slots), default=0), csrf=generate_csrf(), user=_me())


SAVE_BODY_LIMIT = 256 * 1024


def _json_error(message: str, status: int, **extra):
    return jsonify({"saved": False, "error": message, **extra}), status


@bp.route("/attempts/<int:attempt_id>/save", methods=["POST"])
@login_required  # logged out: 401 {"saved": false, "error": "login"} (lms/errors.py)
def save(attempt_id: int):
    """JSON {slot, response, seq} -> {saved, slot, seq, server_now}. CSRF comes in X-CSRFToken."""
    # An answer is at most an essay (20,000 characters, ~120 KB as escaped JSON); refuse bigger bodies
    # before parsing them. A body without a declared length is read within MAX_CONTENT_LENGTH, then checked.
    if (request.content_length or 0) > SAVE_BODY_LIMIT or len(request.get_data()) > SAVE_BODY_LIMIT:
        return _json_error(_("The answer is too long to be saved."), 413)
    payload = request.get_json(silent=True)  # unreadable, NaN, too deep, or holding NUL: None
    if not (isinstance(payload, dict) and _whole(payload.get("slot")) and _whole(payload.get("seq"))
            and "response" in payload):
        return _json_error(_("The answer could not be read."), 400)
    now = utcnow()
    try:
        saved = saving.save_answer(_me(), attempt_id, payload["slot"], payload["response"], payload["seq"], now)
    except services.SeqOutOfRange as exc:
        # server_now lets the page's script set its clock right and send the answer again.
        return _json_error(_("The answer could not be read."), 400, seq_refused=True, server_now=exc.server_ms)
    except NotFound:
        return _json_error(_("There is no such attempt."), 404)
    except Forbidden:
        return _json_error(_("This attempt is not yours."), 403)
    except services.AttemptFinished as exc:
        return _json_error(_message(exc), 409, finished=True,
                           result_url=url_for("exams.result", attempt_id=attempt_id))
    except services.UnknownSlot as exc:
        return _json_error(_message(exc), 400)
    except InvalidResponse:
        return _json_error(_("This answer does not fit the question."), 400)
    return jsonify({"saved": True, "slot": saved.slot, "seq": saved.seq, "server_now": timing.epoch_ms(now)})


@bp.route("/attempts/<int:attempt_id>/heartbeat", methods=["POST"])
@login_required  # logged out: 401 {"saved": false, "error": "login"} (lms/errors.py)
def heartbeat(attempt_id: int):
    """JSON {open, server_now}: the exam page calls it every few minutes while nothing else is sent,
    so the login session sees activity during an open attempt (lms/auth/sessions.py)."""
    now = utcnow()
    try:
        still_open = services.attempt_still_open(_me(), attempt_id, now)
    except NotFound:
        return _json_error(_("There is no such attempt."), 404)
    except Forbidden:
        return _json_error(_("This attempt is not yours."), 403)
    if not still_open:
        return jsonify({"open": False, "result_url": url_for("exams.result", attempt_id=attempt_id)}), 409
    return jsonify({"open": True, "server_now": timing.epoch_ms(now)})


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@bp.route("/attempts/<int:attempt_id>/finish", methods=["POST"])
@login_required
def finish(attempt_id: int):
    """The answer sheet posted as a form: saved (unless the script has saved every answer already),
    then on to the confirmation, or back to the sheet with "Save answers"."""
    now = utcnow()
    attempt = services.load_attempt_for(_me(), attempt_id, now)
    if not attempt.is_open:
        flash(_message(services.AttemptFinished(attempt.id, overdue=attempt.auto_submitted)), "error")
        return redirect(url_for("exams.result", attempt_id=attempt.id))
    try:
        if request.form.get("saved_by_script") != "1":
            raws = forms.answers_from_form(request.form, services.load_sheet(attempt))
            if saving.save_answers(_me(), attempt.id, raws, now):
                flash(_("Some answers could not be read and kept their earlier value."), "error")
    except services.AttemptFinished as exc:
        flash(_message(exc), "error")
        return redirect(url_for("exams.result", attempt_id=attempt.id))
    if request.form.get("action") == "save":
        flash(_("Your answers are saved."), "success")
        return redirect(url_for("exams.take", attempt_id=attempt.id))
    return redirect(url_for("exams.confirm", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/confirm")
@login_required
def confirm(attempt_id: int):
    now = utcnow()
    attempt = services.load_attempt_for(_me(), attempt_id, now)
    if not attempt.is_open:
        return redirect(url_for("exams.result", attempt_id=attempt.id))
    sheet = services.load_sheet(attempt)
    return render_template("exams/confirm.html", attempt=attempt, exam=attempt.exam, sheet=sheet,
                           unanswered=[slot for slot in sheet if not slot.answered],
                           seconds_left=timing.seconds_left(attempt.deadline, now))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int):
    attempt = services.submit_attempt(_me(), attempt_id, utcnow(), time_up=request.form.get("time_up") == "1")
    return redirect(url_for("exams.result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    now = utcnow()
    me = _me()
    attempt = services.load_attempt_for(me, attempt_id, now, staff=True)
    if attempt.is_open and attempt.user_id == me.id:
        return redirect(url_for("exams.take", attempt_id=attempt.id))
    status = services.exam_status(attempt.user, attempt.exam, now)
    may_review = _may_review(me, status, attempt)
    return render_template("exams/result.html", attempt=attempt, exam=attempt.exam, status=status,
                           own=attempt.user_id == me.id, review_open=may_review,
                           feedback=feedback.result_feedback(attempt, show_comments=may_review))


def _may_review(me, status: services.ExamStatus, attempt) -> bool:
    """Right answers, explanations and the marker's comments (which may quote the key): for trainers
    and admins, else once the exam's review policy opens them (lms/exams/timing.review_open)."""
    return attempt.state != "open" and (me.can_author or status.review_open(attempt))


@bp.route("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    now = utcnow()
    me = _me()
    attempt = services.load_attempt_for(me, attempt_id, now, staff=True)
    if attempt.is_open:
        abort(403)
    status = services.exam_status(attempt.user, attempt.exam, now)
    if not _may_review(me, status, attempt):
        flash(_("The right answers are not shown yet."), "error")
        return redirect(url_for("exams.result", attempt_id=attempt.id))
    return render_template("exams/review.html", attempt=attempt, exam=attempt.exam, own=attempt.user_id == me.id,
                           sheet=services.load_sheet(attempt, review=True))


# --- marking -------------------------------------------------------------------------------------

@bp.route("/marking")
@role_required("trainer", "admin")
def marking():
    return render_template("exams/marking.html", queue=marking_queue(),
                           out_of_attempts=makeup.out_of_attempts(utcnow()))


@bp.route("/marking/<int:attempt_id>", methods=["GET", "POST"])
@role_required("trainer", "admin")
def mark(attempt_id: int):
    now = utcnow()
    attempt = services.load_attempt_for(_me(), attempt_id, now, staff=True)
    form = forms.MarkForm()
    sheet = services.load_sheet(attempt, review=True)
    waiting = [slot for slot in sheet if slot.type == "essay" and slot.answered and slot.awarded is None]
    errors: dict[int, str] = {}
    if form.validate_on_submit():
        marks = {}
        for slot in waiting:
            raw = request.form.get(f"points-{slot.position}", "").strip()
            if not raw:
                continue
            points = _points(raw)
            if points is None:
                errors[slot.position] = _("Give a number of points.")
                continue
            marks[slot.position] = Mark(points, request.form.get(f"comment-{slot.position}", "")[:2000])
        if not errors and not marks:
            flash(_("Give points to at least one answer."), "error")
        elif not errors:
            try:
                mark_essays(_me(), attempt.id, marks, now)
            except services.MarkInvalid as exc:
                errors[exc.slot] = _("Points run from 0 to the question's maximum, once per answer.")
            except services.MarkingNotAllowed as exc:
                flash(_message(exc), "error")
                return redirect(url_for("exams.marking"))
            else:
                if attempt.state == "graded":
                    flash(_("Marked. %(name)s's attempt is graded and in the training record.",
                            name=attempt.user.name), "success")
                    return redirect(url_for("exams.marking"))
                flash(_("Marks saved."), "success")
                return redirect(url_for("exams.mark", attempt_id=attempt.id))
    return render_template("exams/mark.html", attempt=attempt, exam=attempt.exam, sheet=sheet, waiting=waiting,
                           form=form, errors=errors, own=attempt.user_id == current_user.id)


_POINTS = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,4})?")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")  # a Chinese keyboard's digits


def _points(raw: str) -> float | None:
    """Points as a marker types them: 0.5, 2 or 0,5 (full-width digits too); None for anything else
    (NaN, inf, -0, exponents, thousands of digits), which the sheet shows as an error."""
    text = raw.translate(_FULL_WIDTH).strip().replace(",", ".")
    return float(text) if _POINTS.fullmatch(text) else None


# --- authoring -----------------------------------------------------------------------------------

@bp.route("/manage")
@role_required("trainer", "admin")
def manage():
    return render_template("exams/manage.html", rows=authoring.exams_overview())


def _local(moment):
    """An aware UTC time as the naive local time a datetime-local input shows."""
    return moment.astimezone(center_zone()).replace(tzinfo=None) if moment else None


def _utc(naive):
    return naive.replace(tzinfo=center_zone()).astimezone(timezone.utc) if naive else None


def _exam_form(exam: Exam | None) -> forms.ExamForm:
    data = None
    if exam is not None and request.method == "GET":
        data = {name: getattr(exam, name) for name in (
            "slug", "title", "description", "time_limit_minutes", "pass_percent", "attempts_allowed",
            "retake_delay_minutes", "later_retake_delay_minutes", "shuffle_questions", "shuffle_options",
            "grading_method", "review_policy")}
        data.update(course_id=exam.course_id or 0, opens_at=_local(exam.opens_at), closes_at=_local(exam.closes_at),
                    retired=exam.retired_at is not None,
                    pools=[{"bank_id": p.bank_id, "tags": ", ".join(p.tags), "count": p.count} for p in exam.pools])
    form = forms.ExamForm(data=data)
    if request.method == "GET":
        while len(form.pools.entries) < (len(exam.pools) if exam else 0) + 2:
            form.pools.append_entry()
    taken = set(db.session.scalars(select(Exam.course_id).where(Exam.course_id.is_not(None),
                                                                Exam.id != (exam.id if exam else -1))))
    courses = db.session.scalars(select(Course).where(Course.retired_at.is_(None))
                                 .order_by(Course.star_level, Course.position))
    form.course_id.choices = [Choice(0, _("None: a standalone exam"))] + [
        Choice(c.id, c.title) for c in courses if c.id not in taken]
    banks = list(db.session.scalars(select(QuestionBank).where(QuestionBank.retired_at.is_(None))
                                    .order_by(QuestionBank.title)))
    for entry in form.pools.entries:
        entry.form.bank_id.choices = [Choice(0, _("(none)"))] + [Choice(b.id, b.title) for b in banks]
    return form


def _settings(form: forms.ExamForm) -> authoring.ExamSettings:
    pools = [authoring.PoolSettings(entry.form.bank_id.data, entry.form.tag_list, entry.form.count.data or 0)
             for entry in form.pools.entries if entry.form.bank_id.data]
    return authoring.ExamSettings(
        slug=form.slug.data.strip(), title=form.title.data.strip(), description=form.description.data or "",
        course_id=form.course_id.data or None, time_limit_minutes=form.time_limit_minutes.data,
        opens_at=_utc(form.opens_at.data), closes_at=_utc(form.closes_at.data),
        pass_percent=float(form.pass_percent.data), attempts_allowed=form.attempts_allowed.data,
        retake_delay_minutes=form.retake_delay_minutes.data,
        later_retake_delay_minutes=form.later_retake_delay_minutes.data,
        shuffle_questions=form.shuffle_questions.data, shuffle_options=form.shuffle_options.data,
        grading_method=form.grading_method.data, review_policy=form.review_policy.data,
        retired=form.retired.data, pools=pools)


def _show_problems(form: forms.ExamForm, problems) -> None:
    for name, message in problems:
        if name.startswith("pools-"):
            _prefix, index, field = name.split("-", 2)
            kept = [entry for entry in form.pools.entries if entry.form.bank_id.data]
            if int(index) < len(kept):
                getattr(kept[int(index)].form, field).errors.append(message)
                continue
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors") and isinstance(target.errors, list):
            target.errors.append(message)
        else:
            flash(message, "error")


def _edit(exam: Exam | None):
    form = _exam_form(exam)
    if form.validate_on_submit():
        missing = [entry for entry in form.pools.entries if entry.form.bank_id.data and not entry.form.count.data]
        for entry in missing:
            entry.form.count.errors.append(_("How many questions to draw from this bank?"))
        if not missing:
            try:
                saved = authoring.save_exam(_me(), exam, _settings(form), utcnow())
            except authoring.ExamInvalid as exc:
                _show_problems(form, exc.problems)
            else:
                flash(_("Exam %(title)s saved.", title=saved.title), "success")
                return redirect(url_for("exams.manage"))
    return render_template("exams/form.html", form=form, exam=exam)


@bp.route("/manage/new", methods=["GET", "POST"])
@role_required("trainer", "admin")
def new_exam():
    return _edit(None)


@bp.route("/manage/<int:exam_id>/edit", methods=["GET", "POST"])
@role_required("trainer", "admin")
def edit_exam(exam_id: int):
    return _edit(db.get_or_404(Exam, exam_id))


@bp.route("/manage/<int:exam_id>/attempts")
@role_required("trainer", "admin")
def exam_attempts(exam_id: int):
    exam = db.get_or_404(Exam, exam_id)
    grant_form = forms.GrantForm(data={"employee_no": request.args.get("agent", "")[:32]})
    return _attempts_page(exam, grant_form)


def _attempts_page(exam: Exam, grant_form: forms.GrantForm):
    now = utcnow()
    pagination = authoring.attempts_of_exam(exam, now, page_number(request.args))
    return render_template("exams/attempts.html", exam=exam, pagination=pagination, grant_form=grant_form,
                           grants=makeup.grants_at(exam), stuck=makeup.out_of_attempts(now, exam_ids=[exam.id]))


def _grant_message(exc: makeup.GrantError) -> tuple[str, str]:
    """(form field, message) for a refused make-up."""
    field = getattr(exc, "field", "employee_no")
    if isinstance(exc, makeup.GrantNotAllowed):
        return "employee_no", _("You cannot grant make-up attempts to yourself.")
    if field == "agent":
        return "employee_no", _("No active account has this employee number.")
    if field == "unlimited":
        return "extra_attempts", _("This exam allows unlimited attempts: only the retake wait can be waived.")
    if field == "reason":
        return "reason", _("Give the reason for the make-up.")
    if field == "nothing":
        return "waive_delay", _("Grant at least one attempt, or waive the retake wait.")
    return "extra_attempts", _("From 0 to 10.")


@bp.route("/manage/<int:exam_id>/grants", methods=["POST"])
@role_required("trainer", "admin")
def grant(exam_id: int):
    """A make-up (补考) for one agent: extra attempts and/or the retake wait waived, with a reason."""
    exam = db.get_or_404(Exam, exam_id)
    form = forms.GrantForm()
    if form.validate_on_submit():
        try:
            agent = makeup.find_agent(form.employee_no.data)
            makeup.grant_attempts(_me(), agent, exam, form.extra_attempts.data, form.waive_delay.data,
                                  form.reason.data, utcnow())
        except makeup.GrantError as exc:
            name, message = _grant_message(exc)
            getattr(form, name).errors = list(getattr(form, name).errors) + [message]
        else:
            flash(_("Make-up granted to %(name)s: %(exam)s.", name=agent.name, exam=exam.title), "success")
            return redirect(url_for("exams.exam_attempts", exam_id=exam.id))
    flash(_("The make-up was not granted: see the messages in the form."), "error")
    return _attempts_page(exam, form)


bp.add_app_template_filter(timing.minutes_seconds, "minutes_seconds")
