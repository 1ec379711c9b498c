"""The classroom blueprint `bp`: trainers list, schedule and run sessions (calendar, roster,
attendance marking and closing, the rotating check-in code and its QR); agents sign up, check in and
download .ics files. Each route parses a form, calls one service and words its refusals (`MESSAGES`);
the session form's glue to the service lives in `forms`."""
from __future__ import annotations

import io
from datetime import timedelta

import segno
from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from lms.auth.permissions import role_required
from lms.classroom import agenda, attendance, calendar, forms, services, signups, timing
from lms.clock import center_zone, utcnow
from lms.models import User
from lms.models.classroom import ATTENDANCE_STATUSES

bp = Blueprint("classroom", __name__, url_prefix="/sessions")

SCHEDULERS = ("trainer", "admin")
RUNNERS = ("trainer", "admin", "mentor")  # a mentor runs the sessions they teach

STATUS_LABELS = {"present": _l("Present"), "late": _l("Late"), "excused": _l("Excused"), "absent": _l("Absent")}

MESSAGES = {
    services.SessionNotFound: _l("No such session."),
    services.NotAllowed: _l("This session is not for you."),
    services.SessionCancelled: _l("This session is cancelled."),
    services.SessionStarted: _l("The session has started."),
    services.SignupClosed: _l("Sign-up and cancelling closed before the session."),
    services.SignupNotNeeded: _l("No sign-up is needed: every invited agent is expected."),
    services.NotInvited: _l("You are not invited to this session."),
    services.AlreadySignedUp: _l("You have already signed up."),
    services.NotSignedUp: _l("You have not signed up for this session."),
    services.CheckinNotYetOpen: _l("Check-in opens 15 minutes before the start."),
    services.CheckinOver: _l("The session has ended: check-in is closed. Ask the instructor."),
    services.AttendanceClosed: _l("Attendance is closed for this session."),
    services.AttendanceNotClosable: _l("Attendance can be closed once the session has started."),
    services.NotExpected: _l("You are not on this session's attendance list (not invited, or no place)."),
    services.CodeExpired: _l("That code has expired. Type the code shown now."),
    services.CodeWrong: _l("That is not this session's code. Check the code shown in the room."),
    services.TooManyWrongCodes: _l("Too many wrong codes. Wait a few minutes or ask the instructor to mark you."),
    services.AlreadyCheckedIn: _l("You have already checked in."),
    services.ReasonRequired: _l("Attendance is closed: say why it is changed."),
    services.InvalidSession: _l("The session cannot be saved as it is."),
}


def _user() -> User:
    return current_user._get_current_object()


def _message(exc: Exception) -> str:
    return str(next(MESSAGES[cls] for cls in type(exc).__mro__ if cls in MESSAGES))


def _session(session_id: int, *, manage: bool = False):
    try:
        return services.load_session_for(_user(), session_id, manage=manage)
    except services.SessionNotFound:
        abort(404)
    except services.NotAllowed:
        abort(403)


@bp.app_template_global("attendance_label")
def attendance_label(status: str | None) -> str:
    """Present / Late / Excused / Absent in the reader's language; "—" for no status."""
    return str(STATUS_LABELS.get(status, "—")) if status else "—"


# --- trainers: list, calendar, schedule ---------------------------------------------------------

@bp.route("/")
@role_required(*RUNNERS)
def index():
    now = utcnow()
    user = _user()
    upcoming = agenda.managed_sessions(user, start=now - timedelta(hours=12))
    past = agenda.managed_sessions(user, end=now - timedelta(hours=12), limit=50, newest_first=True)
    return render_template("classroom/index.html", upcoming=upcoming, past=past, now=now,
                           can_schedule=services.can_schedule(user))


@bp.route("/calendar")
@role_required(*RUNNERS)
def calendar_view():
    now = utcnow()
    today = now.astimezone(center_zone()).date()
    view = request.args.get("view") if request.args.get("view") in calendar.VIEWS else "month"
    shown = calendar.grid(view, calendar.parse_day(request.args.get("day"), today))
    start, end = agenda.local_day_bounds(shown.first, shown.last + timedelta(days=1))
    sessions = agenda.managed_sessions(_user(), start=start, end=end)
    return render_template("classroom/calendar.html", grid=calendar.place(sessions, shown), today=today, total=len(sessions),
                           can_schedule=services.can_schedule(_user()))


@bp.route("/new", methods=["GET", "POST"])
@role_required(*SCHEDULERS)
def new():
    form = forms.SessionForm()
    forms.set_choices(form)
    if not form.is_submitted():
        form.instructor_id.data = _user().id
    if form.validate_on_submit():
        fields = forms.session_fields(form)
        if fields is not None:
            try:
                session = services.create_session(_user(), fields, utcnow())
            except services.InvalidSession as exc:
                flash(_message(exc), "error")
            else:
                flash(_("Session %(title)s scheduled.", title=session.title), "success")
                return redirect(url_for("classroom.show", session_id=session.id))
    return render_template("classroom/form.html", form=form, session=None)


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@role_required(*SCHEDULERS)
def edit(session_id: int):
    session = _session(session_id, manage=True)
    if session.cancelled_at is not None:
        flash(_message(services.SessionCancelled()), "error")
        return redirect(url_for("classroom.show", session_id=session.id))
    form = forms.SessionForm(data=forms.edit_data(session))
    forms.set_choices(form, (session.audience or {}).get("teams", []))
    if form.validate_on_submit():
        fields = forms.session_fields(form)
        if fields is not None:
            try:
                services.update_session(session, _user(), fields, utcnow())
            except services.ClassroomError as exc:
                flash(_message(exc), "error")
            else:
                flash(_("Session saved."), "success")
                return redirect(url_for("classroom.show", session_id=session.id))
    return render_template("classroom/form.html", form=form, session=session)


@bp.route("/<int:session_id>/cancel", methods=["POST"])
@role_required(*SCHEDULERS)
def cancel(session_id: int):
    session = _session(session_id, manage=True)
    if forms.ActionForm().validate_on_submit():
        try:
            services.cancel_session(session, _user(), utcnow())
        except services.ClassroomError as exc:
            flash(_message(exc), "error")
        else:
            flash(_("Session cancelled; the agents are told."), "success")
    return redirect(url_for("classroom.show", session_id=session.id))


# --- one session --------------------------------------------------------------------------------

@bp.route("/<int:session_id>")
@login_required
def show(session_id: int):
    session = _session(session_id)
    user, now = _user(), utcnow()
    if services.can_manage(user, session):
        return render_template("classroom/show.html", session=session, roster=attendance.roster(session), now=now,
                               mark_form=forms.MarkForm(), action=forms.ActionForm(), statuses=ATTENDANCE_STATUSES,
                               can_schedule=services.can_schedule(user),
                               checkin_open=timing.checkin_open(session.starts_at, session.ends_at, now))
    mine = agenda.my_session(user, session, now)
    return render_template("classroom/agent_show.html", session=session, mine=mine, now=now,
                           action=forms.ActionForm(),
                           signup_open=timing.signup_open(session.starts_at, session.signup_cutoff_hours, now),
                           signup_closes_at=timing.signup_closes_at(session.starts_at, session.signup_cutoff_hours))


@bp.route("/<int:session_id>/attendance", methods=["POST"])
@role_required(*RUNNERS)
def mark(session_id: int):
    session = _session(session_id, manage=True)
    form = forms.MarkForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("classroom.show", session_id=session.id))
    changes = {}
    for key, chosen in request.form.items():
        if key.startswith("status-") and key[7:].isdigit() and len(key) < 20:
            shown = request.form.get(f"was-{key[7:]}") or None
            changes[int(key[7:])] = (shown, chosen)
    try:
        result = attendance.mark_attendance(session, _user(), changes, form.reason.data, utcnow())
    except services.ClassroomError as exc:
        flash(_message(exc), "error")
    else:
        flash(_changes_message(result.changed), "success" if result.changed else "info")
        if result.stale:
            flash(ngettext("%(num)s agent's status changed while the page was open and was left as it is: "
                           "check it again.", "%(num)s agents' statuses changed while the page was open and were "
                           "left as they are: check them again.", result.stale), "error")
    return redirect(url_for("classroom.show", session_id=session.id) + "#attendance")


def _changes_message(count: int) -> str:
    if not count:
        return _("Nothing changed.")
    return ngettext("%(num)s attendance mark saved.", "%(num)s attendance marks saved.", count)


@bp.route("/<int:session_id>/close", methods=["POST"])
@role_required(*RUNNERS)
def close(session_id: int):
    session = _session(session_id, manage=True)
    if forms.ActionForm().validate_on_submit():
        try:
            counts = attendance.close_attendance(session, _user(), utcnow())
        except services.ClassroomError as exc:
            flash(_message(exc), "error")
        else:
            flash(_("Attendance closed: %(present)s present, %(late)s late, %(excused)s excused, %(absent)s absent. "
                    "It is in the training records.", **counts), "success")
    return redirect(url_for("classroom.show", session_id=session.id))


@bp.route("/<int:session_id>/sheet")
@role_required(*RUNNERS)
def sheet(session_id: int):
    session = _session(session_id, manage=True)
    return render_template("classroom/sheet.html", session=session, roster=attendance.roster(session))


# --- check-in: the instructor's display and the agent's phone -----------------------------------

def _checkin_url(session, code: str) -> str:
    return url_for("classroom.checkin", session_id=session.id, code=code, _external=True)


@bp.route("/<int:session_id>/code")
@role_required(*RUNNERS)
def code(session_id: int):
    session = _session(session_id, manage=True)
    now = utcnow()
    live = (session.cancelled_at is None and session.attendance_closed_at is None
            and timing.checkin_open(session.starts_at, session.ends_at, now))
    current = None
    if live:
        value, window, left = timing.current_code(session.id, now)
        current = {"code": value, "window": window, "seconds_left": left}
    return render_template("classroom/code.html", session=session, current=current, now=now,
                           opens_at=timing.checkin_opens_at(session.starts_at),
                           checked_in=attendance.checked_in_count(session) if live else 0)


@bp.route("/<int:session_id>/code.json")
@role_required(*RUNNERS)
def code_json(session_id: int):
    session = _session(session_id, manage=True)
    now = utcnow()
    if (session.cancelled_at is not None or session.attendance_closed_at is not None
            or not timing.checkin_open(session.starts_at, session.ends_at, now)):
        return jsonify({"open": False})
    value, window, left = timing.current_code(session.id, now)
    response = jsonify({"open": True, "code": value, "window": window, "seconds_left": left,
                        "qr": url_for("classroom.qr", session_id=session.id, w=window),
                        "checked_in": attendance.checked_in_count(session)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:session_id>/qr.svg")
@role_required(*RUNNERS)
def qr(session_id: int):
    session = _session(session_id, manage=True)
    now = utcnow()
    if (session.cancelled_at is not None or session.attendance_closed_at is not None
            or not timing.checkin_open(session.starts_at, session.ends_at, now)):
        abort(404)
    value, _window, _left = timing.current_code(session.id, now)
    out = io.BytesIO()
    segno.make(_checkin_url(session, value), error="m").save(out, kind="svg", scale=8, border=2,
                                                               xmldecl=False, svgns=True)
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:session_id>/checkin", methods=["GET", "POST"])
@login_required
def checkin(session_id: int):
    """The agent's check-in: GET shows the form (a scanned QR code fills the code in); only POST checks in."""
    session = _session(session_id)
    form = forms.CheckinForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args.get("code", "")[:20]
    now = utcnow()
    done = None
    if form.validate_on_submit():
        try:
            done = attendance.check_in(session.id, _user(), form.code.data, now)
        except services.AlreadyCheckedIn as exc:
            flash(_message(exc), "info")
            done = exc.attendance
        except services.ClassroomError as exc:
            form.code.errors = list(form.code.errors) + [_message(exc)]
        else:
            flash(_("Checked in: %(status)s.", status=STATUS_LABELS[done.status]), "success")
            return redirect(url_for("classroom.checkin", session_id=session.id))
    if done is None:
        done = services.attendance_of(session.id, _user().id)
    status = 422 if form.errors else 200
    return render_template("classroom/checkin.html", session=session, form=form, done=done, now=now,
                           open=timing.checkin_open(session.starts_at, session.ends_at, now)), status


# --- agents: sign-up, my sessions, calendar files -----------------------------------------------

@bp.route("/<int:session_id>/signup", methods=["POST"])
@login_required
def signup(session_id: int):
    session = _session(session_id)
    if forms.ActionForm().validate_on_submit():
        try:
            registration = signups.sign_up(session.id, _user(), utcnow())
        except services.ClassroomError as exc:
            flash(_message(exc), "error")
        else:
            if registration.status == "registered":
                flash(_("You have a place."), "success")
            else:
                flash(_("The session is full: you are on the waiting list, number %(n)s.",
                        n=signups.waiting_position(session, _user())), "info")
    return redirect(url_for("classroom.show", session_id=session.id))


@bp.route("/<int:session_id>/withdraw", methods=["POST"])
@login_required
def withdraw(session_id: int):
    session = _session(session_id)
    if forms.ActionForm().validate_on_submit():
        try:
            signups.withdraw(session.id, _user(), utcnow())
        except services.ClassroomError as exc:
            flash(_message(exc), "error")
        else:
            flash(_("Your sign-up is cancelled."), "success")
    return redirect(url_for("classroom.show", session_id=session.id))


@bp.route("/mine")
@login_required
def mine():
    now = utcnow()
    upcoming, past = agenda.my_sessions(_user(), now)
    return render_template("classroom/mine.html", upcoming=upcoming, past=past, now=now)


def _ics_response(sessions, filename: str, name: str) -> Response:
    body = calendar.ics(sessions, base_url=current_app.config.get("LMS_BASE_URL", ""), now=utcnow(), name=name,
                        link_for=lambda s: url_for("classroom.show", session_id=s.id, _external=True))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/mine.ics")
@login_required
def mine_ics():
    upcoming, past = agenda.my_sessions(_user(), utcnow(), past_days=90)
    sessions = [item.session for item in upcoming + past if item.expected or item.registration]
    return _ics_response(sessions, "my-sessions.ics", _("My classroom sessions"))


@bp.route("/<int:session_id>.ics")
@login_required
def session_ics(session_id: int):
    session = _session(session_id)
    return _ics_response([session], f"session-{session.id}.ics", session.title)
