"""Forms: the agent's answer form (built from the template's questions) and the template editor."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField, \
    TextAreaField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from lms.models.surveys import SurveyTemplate
from lms.surveys.authoring import MAX_PROMPT, MAX_QUESTIONS
from lms.surveys.services import MAX_TEXT, Subject

RATING_CHOICES = [Choice(n, str(n)) for n in range(1, 6)]
KIND_CHOICES = [Choice("rating", _l("Rating 1-5")), Choice("choice", _l("Single choice")), Choice("text", _l("Text"))]
APPLIES_CHOICES = [Choice("course", _l("After a course")), Choice("session", _l("After a classroom session"))]
EDITOR_ROWS = 3  # empty rows offered below the questions, up to MAX_QUESTIONS in all
MAX_ROWS = 50  # rows read from a posted form at most (more are ignored; more than 10 questions is refused)

RATING_MESSAGE = _l("Choose a rating from 1 to 5.")
REQUIRED_MESSAGE = _l("Answer this question.")


def question_field(qid: str) -> str:
    return f"answer_{qid}"


class AnswerForm(FlaskForm):
    comment = TextAreaField(_l("Anything else you want to tell us? (optional)"),
                            validators=[Optional(), Length(max=MAX_TEXT)])


def _rating(label, required: bool = True) -> RadioField:
    return RadioField(label, choices=RATING_CHOICES, coerce=int,
                      validators=[InputRequired(message=RATING_MESSAGE)] if required else [Optional()],
                      invalid_choice_message=RATING_MESSAGE, invalid_value_message=RATING_MESSAGE)


def answer_form(subject: Subject, template: SurveyTemplate) -> type[AnswerForm]:
    """The form for this template: the fixed ratings, then its questions in order."""
    fields = {"course_rating": _rating(_l("How do you rate this course?") if subject.subject_type == "course"
                                       else _l("How do you rate this session?"))}
    if subject.instructor_id is not None:
        fields["instructor_rating"] = _rating(_l("How do you rate the instructor, %(name)s?",
                                                 name=subject.instructor_name))
    for question in template.questions or []:
        required = bool(question.get("required"))
        if question["kind"] == "rating":
            fields[question_field(question["id"])] = _rating(question["prompt"], required)
        elif question["kind"] == "choice":
            fields[question_field(question["id"])] = RadioField(
                question["prompt"], coerce=int,
                choices=[Choice(index, option) for index, option in enumerate(question.get("options") or [])],
                validators=[InputRequired(message=REQUIRED_MESSAGE)] if required else [Optional()],
                invalid_choice_message=_l("Choose one of the options offered."),
                invalid_value_message=_l("Choose one of the options offered."))
        else:
            fields[question_field(question["id"])] = TextAreaField(
                question["prompt"], validators=[DataRequired(message=REQUIRED_MESSAGE) if required else Optional(),
                                                Length(max=MAX_TEXT)])
    return type("TemplateAnswerForm", (AnswerForm,), fields)


class QuestionForm(Form):
    qid = HiddenField()
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="rating",
                       invalid_choice_message=_l("Choose the kind of question."))
    prompt = StringField(_l("Question"), validators=[Optional(), Length(max=MAX_PROMPT)])
    options = TextAreaField(_l("Options, one per line (single choice)"), validators=[Optional(), Length(max=3000)])
    required = BooleanField(_l("Must be answered"))


class TemplateForm(FlaskForm):
    name = StringField(_l("Survey name"),
                       validators=[DataRequired(message=_l("Give the survey a name.")), Length(max=200)])
    applies_to = SelectField(_l("Asked"), choices=APPLIES_CHOICES, default="course")
    make_default = BooleanField(_l("Ask this survey by default"))
    questions = FieldList(FormField(QuestionForm), min_entries=0, max_entries=MAX_ROWS)

    def rows(self) -> list[dict]:
        return [{"id": entry.form.qid.data, "kind": entry.form.kind.data, "prompt": entry.form.prompt.data,
                 "options": entry.form.options.data or "", "required": entry.form.required.data}
                for entry in self.questions]

    def pad(self) -> None:
        """Empty rows below the questions to add more, up to MAX_QUESTIONS rows in all."""
        filled = sum(1 for entry in self.questions if (entry.form.prompt.data or "").strip())
        while len(self.questions) < min(MAX_QUESTIONS, filled + EDITOR_ROWS):
            self.questions.append_entry()


def fill_template_form(form: TemplateForm, template: SurveyTemplate) -> None:
    form.name.data = template.name
    form.applies_to.data = template.applies_to
    form.make_default.data = template.is_default
    for question in template.questions or []:
        form.questions.append_entry({"qid": question["id"], "kind": question["kind"], "prompt": question["prompt"],
                                     "options": "\n".join(question.get("options") or []),
                                     "required": bool(question.get("required"))})


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (duplicate, make default)."""
