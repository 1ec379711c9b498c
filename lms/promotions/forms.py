from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ConfirmForm(FlaskForm):
    reason = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why not now"), validators=[DataRequired(message=_l("Say why the promotion is declined.")),
                                                          Length(max=500)])
