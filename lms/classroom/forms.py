"""Forms: scheduling a session, checking in with the room's code, marking attendance; and the glue
between the session form and the service: the form's choices (courses, instructors, teams), its
values as `services.SessionFields` (agents named by employee number checked), an edited session as
the form's data, and the conversions between aware UTC times and the naive local times the
datetime-local inputs show."""
from __future__ import annotations

import re
from datetime import timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.widgets import CheckboxInput, ListWidget

from sqlalchemy import select

from lms.classroom import services
from lms.clock import center_zone
from lms.extensions import db
from lms.models import Course, User, UserRole
from lms.models.classroom import ClassSession
from lms.models.users import STAR_LEVELS

NUMBER_SPLIT = re.compile(r"[\s,，;；、]+")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def http_url(form, field):
    value = (field.data or "").strip()
    if value and not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
        raise ValidationError(_l("Give a web address starting with http:// or https://."))


class SessionForm(FlaskForm):
    title = StringField(_l("Topic (leave blank to use the course's title)"), validators=[Optional(), Length(max=200)])
    course_id = SelectField(_l("Course"), coerce=int, default=0)
    instructor_id = SelectField(_l("Instructor"), coerce=int, default=0)
    location = StringField(_l("Room"), validators=[Optional(), Length(max=200)])
    online_url = StringField(_l("Online link"), validators=[Optional(), Length(max=500), http_url])
    starts_at = DateTimeLocalField(_l("Starts at"), format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired(message=_l("Give the start date and time."))])
    ends_at = DateTimeLocalField(_l("Ends at"), format="%Y-%m-%dT%H:%M",
                                 validators=[InputRequired(message=_l("Give the end date and time."))])
    capacity = IntegerField(_l("Places (leave blank for no limit)"),
                            validators=[Optional(), NumberRange(min=1, max=10000)])
    signup_required = BooleanField(_l("Agents sign up (else every invited agent is expected)"), default=False)
    signup_cutoff_hours = IntegerField(_l("Sign-up and cancelling close this many hours before the start"),
                                       default=24, validators=[InputRequired(), NumberRange(min=0, max=720)])
    audience_agents = TextAreaField(_l("Invited agents: employee numbers"),
                                    validators=[Optional(), Length(max=20000)])
    audience_teams = MultiCheckboxField(_l("Invited teams"), choices=[])
    audience_levels = MultiCheckboxField(_l("Invited star levels"), coerce=int,
                                         choices=[Choice(level, str(level)) for level in STAR_LEVELS])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])

    @property
    def employee_numbers(self) -> list[str]:
        return [number for number in NUMBER_SPLIT.split(self.audience_agents.data or "") if number]

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must come after the start."))

    def validate(self, extra_validators=None) -> bool:
        # Checks across fields (an empty optional field skips its own validators)
        valid = super().validate(extra_validators)
        if not (self.title.data or "").strip() and not self.course_id.data:
            self.title.errors = list(self.title.errors) + [_l("Give a topic or choose a course.")]
            valid = False
        if not (self.employee_numbers or self.audience_teams.data or self.audience_levels.data):
            self.audience_levels.errors = list(self.audience_levels.errors) + [
                _l("Choose who is invited: agents, teams or star levels.")]
            valid = False
        return valid


class CheckinForm(FlaskForm):
    code = StringField(_l("Code shown in the room"), validators=[DataRequired(message=_l("Type the 6-digit code.")),
                                                                 Length(max=20)])

    def validate_code(self, field):
        field.data = re.sub(r"\s+", "", field.data or "")
        if not re.fullmatch(r"[0-9]{6}", field.data):
            raise ValidationError(_l("The code has 6 digits."))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (sign up, cancel, close attendance)."""


class MarkForm(FlaskForm):
    """The CSRF token and the reason of the attendance form; the statuses are read per agent."""

    reason = TextAreaField(_l("Reason for the change (required once attendance is closed)"),
                           validators=[Optional(), Length(max=1000)])


# --- the session form and the service -----------------------------------------------------------

def _local(moment):
    """An aware UTC time as the naive local time a datetime-local input shows."""
    return moment.astimezone(center_zone()).replace(tzinfo=None) if moment else None


def _utc(naive):
    return naive.replace(tzinfo=center_zone()).astimezone(timezone.utc) if naive else None


def set_choices(form: SessionForm, teams_chosen=()) -> None:
    courses = db.session.scalars(select(Course).where(Course.retired_at.is_(None))
                                 .order_by(Course.star_level, Course.position, Course.id))
    form.course_id.choices = [Choice(0, _("— none: a topic of its own —"))] + [Choice(c.id, c.title) for c in courses]
    staff = db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(
        select(UserRole.user_id).where(UserRole.role.in_(services.STAFF_INSTRUCTORS)))).order_by(User.name))
    form.instructor_id.choices = [Choice(0, _("— not set —"))] + [
        Choice(u.id, f"{u.name} ({u.employee_no})") for u in staff]
    teams = db.session.scalars(select(User.team).where(User.team != "").distinct().order_by(User.team))
    form.audience_teams.choices = [Choice(team, team) for team in sorted(set(teams) | set(teams_chosen))]


def session_fields(form: SessionForm) -> services.SessionFields | None:
    """The form's values for the service, or None after putting the errors on the form."""
    numbers = form.employee_numbers
    agents = {}
    if numbers:
        agents = {u.employee_no: u for u in db.session.scalars(select(User).where(User.employee_no.in_(numbers)))}
        unknown = [n for n in numbers if n not in agents or not agents[n].active or not agents[n].has_role("agent")]
        if unknown:
            form.audience_agents.errors = list(form.audience_agents.errors) + [
                _("Not an active agent: %(numbers)s", numbers=", ".join(unknown))]
            return None
    course = db.session.get(Course, form.course_id.data) if form.course_id.data else None
    instructor = db.session.get(User, form.instructor_id.data) if form.instructor_id.data else None
    return services.SessionFields(
        title=form.title.data or "", course=course, instructor=instructor, location=form.location.data or "",
        online_url=form.online_url.data or "", starts_at=_utc(form.starts_at.data), ends_at=_utc(form.ends_at.data),
        capacity=form.capacity.data, signup_required=bool(form.signup_required.data),
        signup_cutoff_hours=form.signup_cutoff_hours.data,
        audience={"agents": [u.id for u in agents.values()], "teams": form.audience_teams.data or [],
                  "levels": form.audience_levels.data or []},
        description=form.description.data or "")


def edit_data(session: ClassSession) -> dict:
    """The session form's data for an existing session (a topic equal to the course's title left blank)."""
    audience = session.audience or {}
    numbers = []
    if audience.get("agents"):
        numbers = list(db.session.scalars(select(User.employee_no).where(User.id.in_(audience["agents"]))
                                          .order_by(User.employee_no)))
    return {
        "title": session.title if session.course is None or session.title != session.course.title else "",
        "course_id": session.course_id or 0, "instructor_id": session.instructor_id or 0,
        "location": session.location, "online_url": session.online_url, "starts_at": _local(session.starts_at),
        "ends_at": _local(session.ends_at), "capacity": session.capacity, "signup_required": session.signup_required,
        "signup_cutoff_hours": session.signup_cutoff_hours, "audience_agents": "\n".join(numbers),
        "audience_teams": audience.get("teams", []), "audience_levels": audience.get("levels", []),
        "description": session.description}
