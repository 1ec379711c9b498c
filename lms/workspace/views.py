from flask import Blueprint, render_template
from flask_login import current_user

from lms.auth.permissions import role_required
from lms.classroom.services import can_schedule
from lms.clock import utcnow
from lms.workspace import services

bp = Blueprint("workspace", __name__, url_prefix="/workspace")


@bp.route("")
@role_required("trainer", "admin")
def index():
    """The trainer's landing page (lms/auth/landing.py)."""
    user = current_user._get_current_object()
    now = utcnow()
    return render_template("workspace/index.html", workspace=services.load(user, now), now=now,
                           can_schedule=can_schedule(user))
