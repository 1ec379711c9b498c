"""Training plan pages for trainers and admins: plans, assignments, cohorts, overdue, reminders,
import. Views parse a form, call one service, then flash and redirect or render."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from lms.auth.permissions import role_required
from lms.clock import utcnow
from lms.content.spreadsheets import ImportInvalid, SpreadsheetError, read_table
from lms.extensions import db
from lms.input_guard import database_id
from lms.models import User
from lms.models.plans import Cohort
from lms.pagination import page_number
from lms.plans import forms, imports, progress, reminders, services

bp = Blueprint("plans", __name__, url_prefix="/plans")

MANAGERS = services.MANAGERS
AGENTS_PER_PAGE = 50
TEMPLATES = {
    "csv": (imports.template_csv, "text/csv"),
    "xlsx": (imports.template_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _me() -> User:
    return current_user._get_current_object()


def _show_invalid(form, exc: services.PlanInvalid) -> None:
    field = form._fields.get(exc.field) if exc.field else None
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        flash(str(exc), "error")


def _level_choices():
    return [(level, _("New hire (0 stars)") if level == 0 else _("%(n)s-star agents", n=level)) for level in range(6)]


def _assignment_form(formdata=None) -> forms.AssignmentForm:
    form = forms.AssignmentForm(formdata=formdata) if formdata is not None else forms.AssignmentForm()
    form.set_choices(services.item_choices(), services.teams(), _level_choices(), services.cohorts())
    return form


# --- plans -----------------------------------------------------------------------------------------

@bp.route("")
@role_required(*MANAGERS)
def index():
    onboarding, plans, archived = progress.plan_summaries(utcnow())
    return render_template("plans/index.html", onboarding=onboarding, plans=plans, archived=archived)


@bp.route("/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_plan():
    form = forms.PlanForm()
    del form.archived
    if form.validate_on_submit():
        try:
            plan = services.create_plan(_me(), name=form.name.data, description=form.description.data,
                                        now=utcnow())
        except services.PlanInvalid as exc:
            _show_invalid(form, exc)
        else:
            flash(_("Plan %(name)s created.", name=plan.name), "success")
            return redirect(url_for("plans.show", plan_id=plan.id))
    return render_template("plans/plan_form.html", form=form, plan=None)


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_plan(plan_id: int):
    plan = services.load_plan_for(_me(), plan_id)
    form = forms.PlanForm(data={"name": plan.name, "description": plan.description,
                                "archived": plan.archived_at is not None})
    if form.validate_on_submit():
        try:
            services.update_plan(_me(), plan, name=form.name.data, description=form.description.data,
                                 archived=form.archived.data, now=utcnow())
        except services.PlanInvalid as exc:
            _show_invalid(form, exc)
        else:
            flash(_("Plan saved."), "success")
            return redirect(url_for("plans.show", plan_id=plan.id))
    return render_template("plans/plan_form.html", form=form, plan=plan)


def _render_plan(plan, *, form=None, status: int = 200):
    report = progress.plan_report(plan, utcnow())
    overdue_only = request.args.get("overdue") == "1"
    agents = [row for row in report.agents if row.tally.overdue] if overdue_only else report.agents
    page = page_number(request.args)
    pages = max(1, -(-len(agents) // AGENTS_PER_PAGE))
    page = min(page, pages)
    shown = agents[(page - 1) * AGENTS_PER_PAGE:page * AGENTS_PER_PAGE]
    if plan is not None and form is None:
        form = _assignment_form()
    return render_template("plans/show.html", plan=plan, report=report, agents=shown, agent_count=len(agents),
                           page=page, pages=pages, overdue_only=overdue_only, form=form,
                           cancel_form=forms.CancelForm(), remind_form=forms.RemindForm()), status


@bp.route("/<int:plan_id>")
@role_required(*MANAGERS)
def show(plan_id: int):
    return _render_plan(services.load_plan_for(_me(), plan_id))


@bp.route("/onboarding")
@role_required(*MANAGERS)
def onboarding():
    return _render_plan(None)


def _target(form) -> services.Target | None:
    """The target the form names, or None with the error on the form."""
    value = form.target.data or ""
    kind, _sep, rest = value.partition(":")
    if kind == "agent":
        user = services.find_agent(form.employee_no.data)
        if user is None:
            form.employee_no.errors = list(form.employee_no.errors) + [
                _("Enter the employee number of an active agent.")]
            return None
        return services.Target("agent", user=user)
    if kind == "team" and rest in services.teams():
        return services.Target("team", team=rest)
    if kind == "level" and rest.isdigit() and int(rest) <= 5:
        return services.Target("level", level=int(rest))
    if kind == "cohort" and (cohort_id := database_id(rest)) is not None:
        cohort = db.session.get(Cohort, cohort_id)
        if cohort is not None:
            return services.Target("cohort", cohort=cohort)
    form.target.errors = list(form.target.errors) + [_("Choose for whom.")]
    return None


def _item(form):
    kind, _sep, rest = (form.item.data or "").partition(":")
    item_id = database_id(rest)
    item = services.find_item(kind, item_id=item_id) if item_id is not None else None
    if item is None:
        form.item.errors = list(form.item.errors) + [_("Choose what to assign.")]
    return kind, item


@bp.route("/<int:plan_id>/assignments", methods=["POST"])
@role_required(*MANAGERS)
def add_assignment(plan_id: int):
    plan = services.load_plan_for(_me(), plan_id)
    form = _assignment_form(request.form)
    if form.validate():
        kind, item = _item(form)
        target = _target(form)
        if item is not None and target is not None:
            try:
                services.add_assignment(_me(), plan, item=item, item_kind=kind, target=target,
                                        starts_on=form.starts_on.data, due_on=form.due_on.data,
                                        month=form.month.data, now=utcnow())
            except services.PlanInvalid as exc:
                _show_invalid(form, exc)
            else:
                flash(_("Assignment added: %(title)s.", title=item.title), "success")
                return redirect(url_for("plans.show", plan_id=plan.id) + "#assignments")
    return _render_plan(plan, form=form)


@bp.route("/<int:plan_id>/assignments/<int:assignment_id>/cancel", methods=["POST"])
@role_required(*MANAGERS)
def cancel_assignment(plan_id: int, assignment_id: int):
    plan = services.load_plan_for(_me(), plan_id)
    assignment = services.load_assignment_for(_me(), plan, assignment_id)
    if not forms.CancelForm().validate_on_submit():
        abort(400)
    if services.cancel_assignment(_me(), assignment, utcnow()):
        flash(_("Assignment cancelled."), "success")
    return redirect(url_for("plans.show", plan_id=plan.id) + "#assignments")


def _remind(plan):
    form = forms.RemindForm()
    if not form.validate_on_submit():
        abort(400)
    count = reminders.send_reminders(_me(), plan, utcnow(), employee_no=(form.employee_no.data or "").strip() or None)
    flash(reminders.reminded_message(count), "success" if count else "info")
    return redirect(url_for("plans.show", plan_id=plan.id) if plan is not None else url_for("plans.onboarding"))


@bp.route("/<int:plan_id>/remind", methods=["POST"])
@role_required(*MANAGERS)
def remind(plan_id: int):
    return _remind(services.load_plan_for(_me(), plan_id))


@bp.route("/onboarding/remind", methods=["POST"])
@role_required(*MANAGERS)
def remind_onboarding():
    return _remind(None)


@bp.route("/overdue")
@role_required(*MANAGERS)
def overdue():
    return render_template("plans/overdue.html", overview=progress.overdue_overview(utcnow()))


# --- import ----------------------------------------------------------------------------------------

@bp.route("/<int:plan_id>/import", methods=["GET", "POST"])
@role_required(*MANAGERS)
def import_assignments(plan_id: int):
    plan = services.load_plan_for(_me(), plan_id)
    form = forms.ImportForm()
    errors: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            table = read_table(upload.filename, upload.read(), max_rows=imports.MAX_ROWS)
            created = imports.import_assignments(_me(), plan, table, utcnow())
        except SpreadsheetError as exc:
            form.file.errors = list(form.file.errors) + [str(exc)]
        except ImportInvalid as exc:
            errors = imports.row_messages(exc.errors)
        except services.PlanInvalid as exc:
            flash(str(exc), "error")
        else:
            flash(ngettext("%(num)s assignment imported.", "%(num)s assignments imported.", len(created)), "success")
            return redirect(url_for("plans.show", plan_id=plan.id) + "#assignments")
    return render_template("plans/import.html", plan=plan, form=form, errors=errors, max_rows=imports.MAX_ROWS)


@bp.route("/import/template.<fmt>")
@role_required(*MANAGERS)
def import_template(fmt: str):
    if fmt not in TEMPLATES:
        abort(404)
    make, mimetype = TEMPLATES[fmt]
    return send_file(BytesIO(make()), mimetype=mimetype, as_attachment=True,
                     download_name=f"assignments-template.{fmt}", max_age=0)


# --- cohorts ---------------------------------------------------------------------------------------

@bp.route("/cohorts", methods=["GET", "POST"])
@role_required(*MANAGERS)
def cohorts():
    form = forms.CohortForm()
    if form.validate_on_submit():
        try:
            cohort = services.create_cohort(_me(), name=form.name.data, description=form.description.data,
                                            now=utcnow())
        except services.PlanInvalid as exc:
            _show_invalid(form, exc)
        else:
            flash(_("Cohort %(name)s created.", name=cohort.name), "success")
            return redirect(url_for("plans.cohort", cohort_id=cohort.id))
    return render_template("plans/cohorts.html", form=form, cohorts=services.cohorts(),
                           sizes=services.cohort_sizes())


def _render_cohort(cohort, form):
    return render_template("plans/cohort.html", cohort=cohort, form=form, members=services.cohort_members(cohort),
                           remove_form=forms.RemoveMemberForm())


@bp.route("/cohorts/<int:cohort_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def cohort(cohort_id: int):
    cohort = services.load_cohort_for(_me(), cohort_id)
    form = forms.MembersForm()
    if form.validate_on_submit():
        try:
            added = services.add_members(_me(), cohort, form.employee_numbers.data, utcnow())
        except services.PlanInvalid as exc:
            _show_invalid(form, exc)
        else:
            flash(ngettext("%(num)s agent added.", "%(num)s agents added.", added), "success")
            return redirect(url_for("plans.cohort", cohort_id=cohort.id))
    return _render_cohort(cohort, form)


@bp.route("/cohorts/<int:cohort_id>/remove", methods=["POST"])
@role_required(*MANAGERS)
def remove_member(cohort_id: int):
    cohort = services.load_cohort_for(_me(), cohort_id)
    form = forms.RemoveMemberForm()
    user_id = database_id(form.user_id.data) if form.validate_on_submit() else None
    if user_id is None:
        abort(400)
    if services.remove_member(_me(), cohort, user_id):
        flash(_("Removed from the cohort."), "success")
    return redirect(url_for("plans.cohort", cohort_id=cohort.id))
