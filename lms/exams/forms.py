"""Forms: the trainer's exam editor, the marker's sheet, and reading the answer sheet posted
without JavaScript."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, DecimalField, FieldList, Form, FormField, IntegerField,
                     SelectField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from lms.content.fields import SLUG

from wtforms.fields.choices import SelectChoice as Choice

GRADING_LABELS = {"highest": _l("Highest attempt"), "average": _l("Average of the attempts"),
                  "first": _l("First attempt"), "last": _l("Last attempt")}
REVIEW_LABELS = {"after_close": _l("After the exam closes (default)"), "immediately": _l("As soon as submitted"),
                 "never": _l("Never")}
MINUTES = NumberRange(min=0, max=60 * 24 * 365, message=_l("From 0 to 525600 minutes."))


class PoolForm(Form):
    """One pool row; a row with no bank is ignored, so blank rows can be offered for adding."""

    bank_id = SelectField(_l("Question bank"), coerce=int, validate_choice=True)
    tags = StringField(_l("Only questions with all these tags (comma-separated)"),
                       validators=[Optional(), Length(max=300)])
    count = IntegerField(_l("How many"), validators=[Optional(), NumberRange(min=1, max=200)])

    @property
    def tag_list(self) -> list[str]:
        text = (self.tags.data or "").replace("，", ",")
        return [tag.strip() for tag in text.split(",") if tag.strip()]


class ExamForm(FlaskForm):
    slug = StringField(_l("Id (in the page address)"), validators=[
        DataRequired(), Length(max=80),
        Regexp(SLUG, message=_l("Lowercase letters, digits and single hyphens, like final-exam-1."))])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Instructions (Markdown)"), validators=[Optional(), Length(max=5000)])
    course_id = SelectField(_l("Final exam of the course"), coerce=int)
    time_limit_minutes = IntegerField(_l("Time limit (minutes)"), default=20,
                                      validators=[InputRequired(), NumberRange(min=1, max=600)])
    opens_at = DateTimeLocalField(_l("Opens at (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes at (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    pass_percent = DecimalField(_l("Pass mark (percent of the maximum)"), default=60, places=None,
                                validators=[InputRequired(), NumberRange(min=0, max=100)])
    attempts_allowed = IntegerField(_l("Attempts allowed (0 = unlimited)"), default=3,
                                    validators=[InputRequired(), NumberRange(min=0, max=100)])
    retake_delay_minutes = IntegerField(_l("Wait before the 2nd attempt (minutes)"), default=0,
                                        validators=[InputRequired(), MINUTES])
    later_retake_delay_minutes = IntegerField(_l("Wait before each later attempt (minutes)"), default=0,
                                              validators=[InputRequired(), MINUTES])
    shuffle_questions = BooleanField(_l("Shuffle the questions"), default=True)
    shuffle_options = BooleanField(_l("Shuffle the options"), default=True)
    grading_method = SelectField(_l("Grade of the exam"), choices=[Choice(k, v) for k, v in GRADING_LABELS.items()],
                                 default="highest")
    review_policy = SelectField(_l("Show right answers and explanations"),
                                choices=[Choice(k, v) for k, v in REVIEW_LABELS.items()], default="after_close")
    retired = BooleanField(_l("Retired (hidden from agents)"), default=False)
    pools = FieldList(FormField(PoolForm), min_entries=1)

    def validate_closes_at(self, field):
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The close time must come after the open time."))


class MarkForm(FlaskForm):
    """The CSRF token of the marking sheet; the marks themselves are read per slot in the view."""


def answers_from_form(form, slots) -> dict[int, Any]:
    """The answer sheet as posted by the plain HTML form, in the shapes the save endpoint takes."""
    raws: dict[int, Any] = {}
    for slot in slots:
        name = f"q{slot.position}"
        if slot.type == "multi":
            raws[slot.position] = form.getlist(name)
        elif slot.type == "matching":
            raws[slot.position] = {str(i): form.get(f"{name}-{i}", "") for i in range(len(slot.public["items"]))}
        else:
            raws[slot.position] = form.get(name)
    return raws


class GrantForm(FlaskForm):
    """A make-up (补考) for one agent at one exam: extra attempts and/or the retake wait waived."""

    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=32)])
    extra_attempts = IntegerField(_l("Extra attempts"), default=1,
                                  validators=[InputRequired(), NumberRange(min=0, max=10, message=_l("From 0 to 10."))])
    waive_delay = BooleanField(_l("The next attempt may start now (waive the retake wait)"), default=False)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])

    def validate_waive_delay(self, field):
        if not field.data and self.extra_attempts.data == 0:
            raise ValidationError(_l("Grant at least one attempt, or waive the retake wait."))
