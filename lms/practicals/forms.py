from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from lms.content.scenarios import SLUG
from lms.practicals.services import MAX_COMMENT, MAX_REPLY

MOOD_CHOICES = [Choice("calm", _l("Calm")), Choice("angry", _l("Angry")), Choice("confused", _l("Confused"))]
NA = "na"


class ScenarioForm(FlaskForm):
    slug = StringField(_l("Id"), validators=[
        DataRequired(), Length(max=80),
        Regexp(SLUG, message=_l("Use lowercase letters, digits and single hyphens, like angry-billing-call."))])
    course = SelectField(_l("Course"), coerce=int, validators=[InputRequired()])
    text = TextAreaField(_l("Script and rubric"), validators=[DataRequired(), Length(max=100_000)])


class EditScenarioForm(ScenarioForm):
    slug = None  # the slug names the scenario in URLs, files and past results


class NewPracticalForm(FlaskForm):
    employee_no = StringField(_l("Agent's employee number"), validators=[DataRequired(), Length(max=32)])
    scenario = SelectField(_l("Scenario"), validators=[InputRequired()])
    scheduled_for = DateField(_l("Date (leave blank to observe now)"), validators=[Optional()])
    start = SubmitField(_l("Observe now"))
    schedule = SubmitField(_l("Schedule"))


class ReplyForm(FlaskForm):
    mood = RadioField(_l("Customer's mood"), choices=MOOD_CHOICES, default="calm", validators=[Optional()])
    reply = TextAreaField(_l("Your reply"), validators=[Optional(), Length(max=MAX_REPLY)])


class AcknowledgeForm(FlaskForm):
    comment = TextAreaField(_l("Your comment (optional)"), validators=[Optional(), Length(max=MAX_COMMENT)])


class ReobserveForm(FlaskForm):
    scheduled_for = DateField(_l("Re-observation date"), validators=[Optional()])


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (cancel, start a rehearsal)."""


def criterion_field(name: str) -> str:
    return f"c{name}"


def note_field(name: str) -> str:
    return f"note{name}"


def _marking_form(base: type, criteria, *, comments: bool) -> type:
    """A form class with one level choice (and comment) per criterion of a rubric version."""
    fields = {}
    for criterion in criteria:
        choices = [Choice(str(points), f"{points} · {descriptor}") for points, descriptor in enumerate(criterion.levels)]
        if criterion.allow_na:
            choices.append(Choice(NA, _l("Not applicable")))
        fields[criterion_field(criterion.id)] = RadioField(
            criterion.title, choices=choices, validators=[InputRequired(message=_l("Choose a level."))])
        if comments:
            fields[note_field(criterion.id)] = TextAreaField(_l("Comment"), validators=[Optional(),
                                                                                        Length(max=MAX_COMMENT)])
    return type(f"{base.__name__}ForRubric", (base,), fields)


class SignoffForm(FlaskForm):
    script_version_id = HiddenField(validators=[DataRequired()])
    rubric_version_id = HiddenField(validators=[DataRequired()])
    mood = RadioField(_l("Customer's mood"), choices=MOOD_CHOICES, default="calm", validators=[Optional()])
    overall_comment = TextAreaField(_l("Overall comment"), validators=[Optional(), Length(max=MAX_COMMENT)])
    work_on = TextAreaField(_l("What to work on (required for a fail)"),
                            validators=[Optional(), Length(max=MAX_COMMENT)])
    confirm = BooleanField(_l("I observed this practical myself and sign the result"),
                           validators=[DataRequired(message=_l("Tick the box to sign."))])


class CorrectionForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=MAX_COMMENT)])
    confirm = BooleanField(_l("I sign this correction; the original result stays in the record"),
                           validators=[DataRequired(message=_l("Tick the box to sign."))])


class SelfRatingForm(FlaskForm):
    comment = TextAreaField(_l("Notes to yourself (optional)"), validators=[Optional(), Length(max=MAX_COMMENT)])


def signoff_form(criteria, **kwargs) -> SignoffForm:
    return _marking_form(SignoffForm, criteria, comments=True)(**kwargs)


def correction_form(criteria, **kwargs) -> CorrectionForm:
    return _marking_form(CorrectionForm, criteria, comments=True)(**kwargs)


def self_rating_form(criteria, **kwargs) -> SelfRatingForm:
    return _marking_form(SelfRatingForm, criteria, comments=False)(**kwargs)


def marks_from(form, criteria) -> tuple[dict[int, int | None], dict[int, str]]:
    """Criterion id -> points (None for not applicable), and criterion id -> comment."""
    marks, comments = {}, {}
    for criterion in criteria:
        value = form[criterion_field(criterion.id)].data
        marks[criterion.id] = None if value == NA else int(value)
        if note_field(criterion.id) in form:
            comments[criterion.id] = form[note_field(criterion.id)].data or ""
    return marks, comments
