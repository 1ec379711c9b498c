from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from lms.auth.permissions import role_required
from lms.clock import center_zone, utcnow
from lms.mentoring import services
from lms.practicals.forms import ActionForm
from lms.practicals.services import practicals_of, rehearsals_of

bp = Blueprint("mentoring", __name__, url_prefix="/mentoring")


@bp.route("")
@role_required("mentor")
def home():
    now = utcnow()
    return render_template("mentoring/home.html", overview=services.mentor_overview(current_user, now),
                           today=now.astimezone(center_zone()).date())


@bp.route("/mentees/<int:user_id>")
@login_required
def mentee(user_id: int):
    try:
        mentee = services.load_mentee_for(current_user, user_id)
    except services.MenteeNotFound:
        abort(404)
    except services.NotYourMentee:
        abort(403)
    return render_template("mentoring/mentee.html", mentee=mentee, practicals=practicals_of(mentee),
                           rehearsals=rehearsals_of(mentee), action=ActionForm())
