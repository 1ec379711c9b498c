"""Forms: scheduling a session, checking in with the room's code, marking attendance."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.widgets import CheckboxInput, ListWidget

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
