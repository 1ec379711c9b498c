from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SearchField, SelectField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import Length, Optional

KIND_LABELS = {"exam": _l("Exam"), "practical": _l("Practical"), "course": _l("Course"),
               "evaluation": _l("Customer evaluation"), "attendance": _l("Attendance")}


def _id_or_none(value):
    """'' (every course) is None; anything else must be a whole number (ValueError otherwise)."""
    if value in (None, ""):
        return None
    return int(value)


class ArchiveFilterForm(FlaskForm):
    """The archive's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    course = SelectField(_l("Course"), coerce=_id_or_none, validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=[Choice("", _l("All kinds"))] + [
        Choice(kind, label) for kind, label in KIND_LABELS.items()], validators=[Optional()])

    def set_courses(self, courses) -> None:
        self.course.choices = [Choice("", _l("All courses"))] + [
            Choice(course.id, course.title) for course in courses]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if (not self.date_from.errors and not self.date_to.errors and self.date_from.data and self.date_to.data
                and self.date_from.data > self.date_to.data):
            self.date_to.errors.append(_l("The end of the period comes before its start."))
            valid = False
        return valid


class StaffSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Search by number, name or team"), validators=[Optional(), Length(max=100)])
