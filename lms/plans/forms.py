from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from lms.plans.services import MAX_COHORT_NAME, MAX_NAME

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
KIND_LABELS = {"course": _l("Courses"), "exam": _l("Exams"), "scenario": _l("Scenarios (practicals)")}


class PlanForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_NAME)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    archived = BooleanField(_l("Archived (hidden from agents, no reminders)"))


class AssignmentForm(FlaskForm):
    item = SelectField(_l("What"), validators=[InputRequired(message=_l("Choose what to assign."))],
                       validate_choice=False)
    target = SelectField(_l("For whom"), validators=[InputRequired(message=_l("Choose for whom."))],
                         validate_choice=False)
    employee_no = StringField(_l("Agent's employee number"), validators=[Optional(), Length(max=32)])
    starts_on = DateField(_l("Start date"), validators=[InputRequired(message=_l("Enter a date."))])
    due_on = DateField(_l("Due date"), validators=[InputRequired(message=_l("Enter a date."))])
    month = StringField(_l("Month (YYYY-MM)"), validators=[
        Optional(), Regexp(MONTH_PATTERN, message=_l("Use YYYY-MM, for example 2027-03."))])

    def set_choices(self, items: dict, teams: list[str], levels, cohorts) -> None:
        self.item.choices = {str(KIND_LABELS[kind]): choices for kind, choices in items.items() if choices}
        self.target.choices = {
            str(_l("One agent")): [("agent", str(_l("The agent whose employee number is entered below")))],
            str(_l("Teams")): [(f"team:{team}", team) for team in teams],
            str(_l("Star levels")): [(f"level:{level}", label) for level, label in levels],
            str(_l("Cohorts")): [(f"cohort:{cohort.id}", cohort.name) for cohort in cohorts],
        }


class CancelForm(FlaskForm):
    pass


class RemindForm(FlaskForm):
    employee_no = HiddenField()


class CohortForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_COHORT_NAME)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class MembersForm(FlaskForm):
    employee_numbers = TextAreaField(_l("Employee numbers"), validators=[
        DataRequired(message=_l("Enter at least one employee number.")), Length(max=20000)])


class RemoveMemberForm(FlaskForm):
    user_id = HiddenField(validators=[DataRequired()])


class ImportForm(FlaskForm):
    file = FileField(_l("Assignments file (CSV or XLSX)"), validators=[
        FileRequired(message=_l("Choose a file.")),
        FileAllowed(["csv", "xlsx"], message=_l("Use a .csv or .xlsx file.")),
    ])
