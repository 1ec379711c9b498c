from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (BooleanField, DateField, HiddenField, PasswordField, SearchField, SelectField,
                     SelectMultipleField, StringField)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from lms.admin.services import EMAIL, EMPLOYEE_NO, MAX_EMAIL, MAX_TEXT, MIN_PASSWORD
from lms.models import ROLES

from wtforms.fields.choices import SelectChoice as Choice

ROLE_LABELS = {"agent": _l("Agent"), "mentor": _l("Mentor"), "trainer": _l("Trainer"), "admin": _l("Admin")}
STAR_CHOICES = [Choice(0, _l("0 (new hire)"))] + [Choice(level, str(level)) for level in range(1, 6)]
LANGUAGE_CHOICES = [Choice("", _l("Browser language")), Choice("zh_CN", "简体中文"), Choice("en", "English")]


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


PASSWORD_LENGTH = Length(min=MIN_PASSWORD, max=200, message=_l("Use %(min)d to %(max)d characters."))


class UserForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[
        DataRequired(), Regexp(EMPLOYEE_NO, message=_l("Use 1-32 letters, digits, '-' or '_'."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    team = StringField(_l("Team"), validators=[Optional(), Length(max=MAX_TEXT)])
    hire_date = DateField(_l("Hire date"), validators=[Optional()])
    star_level = SelectField(_l("Star level"), choices=STAR_CHOICES, coerce=int, default=0)
    roles = MultiCheckboxField(_l("Roles"), choices=[Choice(role, ROLE_LABELS[role]) for role in ROLES],
                               default=["agent"],
                               validators=[DataRequired(message=_l("Choose at least one role."))])
    mentor_employee_no = StringField(_l("Mentor's employee number"), validators=[Optional(), Length(max=32)])
    preferred_language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="")
    email = StringField(_l("Email"), filters=[lambda value: value.strip() if isinstance(value, str) else value],
                        validators=[
        Optional(), Length(max=MAX_EMAIL), Regexp(EMAIL, message=_l("Enter an email address, or leave it blank."))])
    active = BooleanField(_l("Active (may log in)"), default=True)
    password = PasswordField(_l("New password"), validators=[Optional(), PASSWORD_LENGTH])


class NewUserForm(UserForm):
    active = None  # a new account is active
    password = PasswordField(_l("Password"), validators=[InputRequired(), PASSWORD_LENGTH])


class EditUserForm(UserForm):
    employee_no = None  # the number identifies the person in records and imports; it is not edited
    star_reason = StringField(_l("Reason for a change of star level"), validators=[Optional(), Length(max=500)])


class ResetPasswordForm(FlaskForm):
    """The confirmation of a password reset: only its CSRF token."""


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(["0", "1"])])
    next = HiddenField()
    # Deactivating ends the person's sessions: the first press asks, the second (confirm=yes) does it.
    confirm = HiddenField()


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: bookmarkable, changes nothing

    q = SearchField(_l("Search by employee number, name or team"), validators=[Optional(), Length(max=100)])


class ImportForm(FlaskForm):
    file = FileField(_l("Staff file (CSV or XLSX)"), validators=[
        FileRequired(message=_l("Choose a file.")),
        FileAllowed(["csv", "xlsx"], message=_l("Use a .csv or .xlsx file.")),
    ])
