from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from lms.auth.permissions import role_required
from lms.clock import utcnow
from lms.extensions import db
from lms.models import User
from lms.promotions import services
from lms.promotions.forms import ConfirmForm, DeclineForm

bp = Blueprint("promotions", __name__, url_prefix="/promotions")

MANAGERS = ("trainer", "admin")


@bp.route("")
@role_required(*MANAGERS)
def ready():
    return render_template("promotions/ready.html", ready=services.ready_for_promotion(utcnow()),
                           rules=services.ladder(), confirm_form=ConfirmForm(), decline_form=DeclineForm())


def _agent(employee_no: str) -> User:
    agent = db.session.scalar(db.select(User).where(User.employee_no == employee_no))
    if agent is None:
        abort(404)
    return agent


@bp.route("/<employee_no>/confirm", methods=["POST"])
@role_required(*MANAGERS)
def confirm(employee_no: str):
    agent = _agent(employee_no)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The note is too long (at most 500 characters)."), "error")
        return redirect(url_for("promotions.ready"))
    try:
        change = services.confirm_promotion(current_user._get_current_object(), agent, utcnow(),
                                            reason=form.reason.data or "")
    except services.TopLevel:
        flash(_("%(name)s already has five stars.", name=agent.name), "error")
    except services.NotEligible:
        flash(_("%(name)s no longer meets every condition of the next star: nothing was changed.", name=agent.name),
              "error")
    else:
        flash(ngettext("%(name)s is promoted to %(num)s star.", "%(name)s is promoted to %(num)s stars.",
                       change.to_level, name=agent.name), "success")
    return redirect(url_for("promotions.ready"))


@bp.route("/<employee_no>/decline", methods=["POST"])
@role_required(*MANAGERS)
def decline(employee_no: str):
    agent = _agent(employee_no)
    form = DeclineForm()
    if not form.validate_on_submit():
        flash(_("Say why the promotion is declined."), "error")
        return redirect(url_for("promotions.ready"))
    try:
        services.decline_promotion(current_user._get_current_object(), agent, form.reason.data, utcnow())
    except services.TopLevel:
        flash(_("%(name)s already has five stars.", name=agent.name), "error")
    except services.ReasonRequired:
        flash(_("Say why the promotion is declined."), "error")
    else:
        flash(_("The promotion of %(name)s is declined; the reason is kept in their star history.", name=agent.name),
              "success")
    return redirect(url_for("promotions.ready"))
