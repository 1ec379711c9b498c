from io import BytesIO

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from lms.admin import services, staff_import
from lms.admin import overview as admin_overview
from lms.admin.forms import ActiveForm, EditUserForm, ImportForm, NewUserForm, ResetPasswordForm, UserSearchForm
from lms.auth.permissions import role_required
from lms.auth.services import safe_next_url
from lms.clock import utcnow
from lms.extensions import db
from lms.jobs import services as jobs
from lms.models import User
from lms.pagination import page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")

TEMPLATES = {
    "csv": (staff_import.template_csv, "text/csv"),
    "xlsx": (staff_import.template_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _account_fields(form) -> dict:
    return dict(name=form.name.data, team=form.team.data or "", hire_date=form.hire_date.data,
                star_level=form.star_level.data, roles=set(form.roles.data),
                mentor_employee_no=form.mentor_employee_no.data, preferred_language=form.preferred_language.data,
                email=form.email.data)


def _show_invalid(form, exc: services.AccountInvalid) -> None:
    """Put the service's complaint beside the field it is about, or at the top of the page."""
    field = form._fields.get(exc.field) if exc.field else None
    if field is not None:
        field.errors.append(str(exc))
    else:
        flash(str(exc), "error")


@bp.route("")
@role_required("admin")
def overview():
    """The admin's landing page: staff in numbers, what waits for a decision, the latest audit events."""
    return render_template("admin/overview.html",
                           overview=admin_overview.load(current_user._get_current_object(), utcnow()))


@bp.route("/decisions")
@role_required("admin")
def decisions():
    """The overview's slow figures (promotions, overdue training): with ?fragment=1 the parts of /admin
    they fill (static/js/fill.js), else a page of their own (without script, the overview links here)."""
    template = "admin/decisions.html" if request.args.get("fragment") else "admin/decisions_page.html"
    return render_template(template, decisions=admin_overview.decisions(utcnow()))


@bp.route("/users")
@role_required("admin")
def users():
    form = UserSearchForm(request.args)
    form.validate()
    query = form.q.data if not form.q.errors else ""
    pagination = services.search_users(query, page_number(request.args),
                                       current_app.config["USERS_PER_PAGE"])
    return render_template("admin/users.html", form=form, query=query or "", pagination=pagination)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(employee_no=form.employee_no.data.strip(), password=form.password.data,
                                        actor=current_user._get_current_object(), **_account_fields(form))
        except services.AccountInvalid as exc:
            _show_invalid(form, exc)
        else:
            flash(_("Account %(no)s created.", no=user.employee_no), "success")
            return redirect(url_for("admin.users", q=user.employee_no))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EditUserForm(data={
        "name": user.name, "team": user.team, "hire_date": user.hire_date, "star_level": user.star_level,
        "roles": sorted(user.roles), "mentor_employee_no": user.mentor.employee_no if user.mentor else "",
        "preferred_language": user.preferred_language or "", "active": user.active, "email": user.email or "",
    })
    if form.validate_on_submit():
        try:
            services.update_user(user, active=form.active.data, new_password=form.password.data,
                                 actor=current_user._get_current_object(), star_reason=form.star_reason.data or "",
                                 **_account_fields(form))
        except services.AccountInvalid as exc:
            _show_invalid(form, exc)
        else:
            flash(_("Account %(no)s saved.", no=user.employee_no), "success")
            return redirect(url_for("admin.users", q=user.employee_no))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@role_required("admin")
def reset_password(user_id: int):
    """Ask, then give the person a temporary password, shown here once; they choose their own at
    their next login."""
    user = db.get_or_404(User, user_id)
    form = ResetPasswordForm()
    password = None
    if form.validate_on_submit():
        try:
            password = services.reset_password(user, current_user._get_current_object())
        except services.AccountInvalid as exc:
            flash(str(exc), "error")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    response = make_response(render_template("admin/reset_password.html", form=form, user=user, password=password))
    response.headers["Cache-Control"] = "no-store"  # the temporary password is never cached
    return response


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required("admin")
def set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    if not active and form.confirm.data != "yes":
        back = safe_next_url(form.next.data) or url_for("admin.users")
        return render_template("admin/confirm_deactivate.html", user=user, form=form, back=back)
    try:
        services.set_active(user, active, current_user._get_current_object())
    except services.AccountInvalid as exc:
        flash(str(exc), "error")
    else:
        if active:
            flash(_("%(no)s can log in again.", no=user.employee_no), "success")
        else:
            flash(_("%(no)s is deactivated and can no longer log in.", no=user.employee_no), "success")
    return redirect(safe_next_url(form.next.data) or url_for("admin.users"))


@bp.route("/users/import", methods=["GET", "POST"])
@role_required("admin")
def import_users():
    """A small file imports at once and its result shows here; a large one becomes a background
    job and the browser goes to its progress page (lms/jobs/services.py)."""
    form = ImportForm()
    job = None
    if form.validate_on_submit():
        job, problem = jobs.accept_upload("staff", current_user._get_current_object(), form.file.data,
                                          max_rows=staff_import.MAX_IMPORT_ROWS, locale=str(get_locale()))
        if problem:
            form.file.errors.append(problem)
        elif not job.finished:
            return redirect(url_for("jobs.show", job_id=job.id))
    response = make_response(render_template("admin/import.html", form=form, job=job,
                                             max_rows=staff_import.MAX_IMPORT_ROWS))
    response.headers["Cache-Control"] = "no-store"  # the activation codes are never cached
    return response


@bp.route("/users/import/template.<fmt>")
@role_required("admin")
def import_template(fmt: str):
    if fmt not in TEMPLATES:
        abort(404)
    make, mimetype = TEMPLATES[fmt]
    return send_file(BytesIO(make()), mimetype=mimetype, as_attachment=True,
                     download_name=f"staff-template.{fmt}", max_age=0)
