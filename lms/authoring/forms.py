"""The authoring forms. They only collect values: every content rule is the parser's (lms.content.courses),
so a course or lesson typed here is refused for exactly the reasons `lms sync` would refuse its file."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.catalog.types import COURSE_TYPE_LABELS
from lms.models.courses import KINDS, TRACKS

MAX_MARKDOWN = 200_000

KIND_LABELS = {"required": _l("Required"), "elective": _l("Elective")}
TRACK_LABELS = {"onboarding": _l("Onboarding"), "in-service": _l("In-service"), "refresher": _l("Refresher")}


def _level_choices():
    return [Choice(str(level), _l("New hire (0 stars)") if level == 0 else _l("%(n)s-star agent", n=level))
            for level in range(6)]


class CheckboxList(SelectMultipleField):
    """Several choices as checkboxes. Values are not limited to the choices: the parser says what is wrong
    with an unknown one, in its words."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass


class CourseForm(FlaskForm):
    slug = StringField(_l("Id"), validators=[Length(max=80)], filters=[lambda value: (value or "").strip()])
    title = StringField(_l("Title"), validators=[Length(max=200)], filters=[lambda value: (value or "").strip()])
    star_level = SelectField(_l("Star level"), choices=_level_choices)
    kind = SelectField(_l("Kind"), choices=[Choice(kind, KIND_LABELS[kind]) for kind in KINDS])
    track = SelectField(_l("Track"), choices=[Choice(track, TRACK_LABELS[track]) for track in TRACKS])
    course_type = SelectField(_l("Course type"), choices=[Choice("", _l("Not classified"))]
                              + [Choice(key, label) for key, label in COURSE_TYPE_LABELS.items()])
    summary = TextAreaField(_l("Short description"), validators=[Length(max=500)],
                            filters=[lambda value: " ".join((value or "").split())])
    valid_months = IntegerField(_l("Valid for (months)"), validators=[Optional()])
    prerequisites = CheckboxList(_l("Prerequisites"))
    intro_md = TextAreaField(_l("Introduction (Markdown)"), validators=[Length(max=MAX_MARKDOWN)])


class EditCourseForm(CourseForm):
    slug = None  # the id names the course in addresses, files and records


class LessonForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=200)],
                        filters=[lambda value: " ".join((value or "").split())])
    minutes = IntegerField(_l("Minutes"), validators=[Optional(), NumberRange(min=0, max=100_000)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Length(max=MAX_MARKDOWN)])


class NewLessonForm(LessonForm):
    slug = StringField(_l("Id"), validators=[Length(max=80)], filters=[lambda value: (value or "").strip()])


class MediaForm(FlaskForm):
    file = FileField(_l("File"))
    back = HiddenField()  # the lesson to return to, when uploaded from its editor


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (move, publish, restore)."""
