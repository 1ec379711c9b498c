"""The inbox: a person's notifications, newest first; opening one marks it read and follows it."""
from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.clock import utcnow
from lms.notifications import services
from lms.notifications.messages import category, render
from lms.pagination import page_number

bp = Blueprint("notifications", __name__, url_prefix="/inbox")


@bp.app_context_processor
def notification_helpers():
    """`unread_notifications()` for the menu badge (base.html calls it for logged-in users only):
    one COUNT per request, however often it is called."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        if "unread_notifications" not in g:
            g.unread_notifications = services.unread_count(current_user.id)
        return g.unread_notifications

    return {"unread_notifications": unread_notifications}


def _user():
    return current_user._get_current_object()


@bp.route("")
@login_required
def index():
    pagination = services.inbox_page(_user(), page_number(request.args))
    items = [(notification, category(notification.kind), render(notification.kind, notification.params))
             for notification in pagination.items]
    return render_template("notifications/index.html", pagination=pagination, items=items, form=FlaskForm())


@bp.route("/unread.json")
@login_required
def unread():
    response = jsonify({"count": services.unread_count(current_user.id)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_(notification_id: int):
    services.load_notification_for(_user(), notification_id)  # 404 first: another's id tells nothing
    if not FlaskForm().validate_on_submit():
        abort(400)
    target = services.open_notification(_user(), notification_id, utcnow())
    return redirect(target or url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    if not FlaskForm().validate_on_submit():
        abort(400)
    count = services.mark_all_read(_user(), utcnow())
    if count:
        flash(ngettext("%(num)s notification marked read.", "%(num)s notifications marked read.", count), "success")
    return redirect(url_for("notifications.index"))
