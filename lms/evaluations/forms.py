from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class ImportForm(FlaskForm):
    file = FileField(_l("Evaluations file (CSV or XLSX)"), validators=[
        FileRequired(message=_l("Choose a file.")),
        FileAllowed(["csv", "xlsx"], message=_l("Use a .csv or .xlsx file.")),
    ])
