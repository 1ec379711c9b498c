from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from lms.auth.permissions import role_required
from lms.banks import services, staging
from lms.banks.forms import ActionForm, BankForm, ConfirmForm, QuestionForm, QuestionSearchForm, UploadForm
from lms.clock import utcnow
from lms.content.bank_sheets import template_csv, template_xlsx
from lms.content.errors import ContentInvalid
from lms.jobs import services as jobs
from lms.pagination import page_number
from lms.questions.types import QUESTION_TYPES

bp = Blueprint("banks", __name__, url_prefix="/banks")

AUTHORS = ("trainer", "admin")
TEMPLATES = {
    "csv": (template_csv, "text/csv"),
    "xlsx": (template_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
EXPORTS = {"gift": "gift", "xml": "moodlexml", "yaml": "native"}


def _bank(slug: str):
    bank = services.load_bank(slug)
    if bank is None:
        abort(404)
    return bank


def _question(bank, key: str):
    question = services.load_question(bank, key)
    if question is None:
        abort(404)
    return question


def _changes_message(changes: services.BankChanges) -> str:
    counts = changes.counts()
    parts = (ngettext("%(num)s new question", "%(num)s new questions", counts[services.NEW]),
             ngettext("%(num)s new version", "%(num)s new versions", counts[services.NEW_VERSION]),
             _("%(num)s updated", num=counts[services.UPDATED]), _("%(num)s restored", num=counts[services.RESTORED]),
             _("%(num)s unchanged", num=counts[services.UNCHANGED]))
    return _(", ").join(str(part) for part in parts) + _(".")


@bp.route("/")
@role_required(*AUTHORS)
def index():
    return render_template("banks/index.html", banks=services.list_banks())


@bp.route("/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_bank():
    form = BankForm()
    if form.validate_on_submit():
        try:
            bank = services.create_bank(form.slug.data, form.title.data, form.description.data or "", utcnow())
        except services.BankInvalid as exc:
            getattr(form, exc.field or "slug").errors.append(str(exc))
        else:
            flash(_("Bank %(title)s created.", title=bank.title), "success")
            return redirect(url_for("banks.show", slug=bank.slug))
    return render_template("banks/bank_form.html", form=form)


@bp.route("/<slug>")
@role_required(*AUTHORS)
def show(slug: str):
    bank = _bank(slug)
    form = QuestionSearchForm(request.args)
    form.validate()
    pagination = services.search_questions(
        bank, text=(form.q.data or "").strip() if not form.q.errors else "",
        tag=(form.tag.data or "").strip() if not form.tag.errors else "",
        kind=form.type.data if form.type.data in QUESTION_TYPES else "",
        status=form.status.data if form.status.data in ("live", "retired", "all") else "live",
        page=page_number(request.args), per_page=current_app.config.get("QUESTIONS_PER_PAGE", 25))
    filters = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template("banks/show.html", bank=bank, form=form, pagination=pagination, filters=filters,
                           tags=services.bank_tags(bank), types=QUESTION_TYPES)


def _problems(form: QuestionForm, problems) -> dict[str, list[str]]:
    """Put each problem beside its field; the rest (and list fields) go in the returned dict."""
    extra: dict[str, list[str]] = {}
    for problem in problems:
        name = "key" if problem.field == "id" else problem.field
        field = form._fields.get(name) if name else None
        if field is not None and name not in ("options", "pairs"):
            field.errors = list(field.errors) + [problem.message]
        else:
            extra.setdefault(name or "", []).append(problem.message)
    return extra


def _question_page(bank, question, kind: str):
    form = QuestionForm()
    extra: dict[str, list[str]] = {}
    preview = None
    if request.method == "GET":
        if question is not None:
            form.fill_from(question)
        else:
            form.key.data = services.next_key(bank)
    elif "more" in request.form:
        form.add_rows(kind)
    elif form.validate_on_submit():
        mapping = form.to_mapping(kind)
        if "preview" in request.form:
            preview = services.preview_question(mapping, kind)
            extra = _problems(form, preview.problems)
        else:
            base = form.base_version.data
            try:
                saved, action = services.save_question(
                    bank, question, kind=kind, mapping=mapping, key=form.key.data or "",
                    actor=current_user._get_current_object(), now=utcnow(),
                    base_version=int(base) if base and base.isdigit() else None)
            except services.QuestionInvalid as exc:
                extra = _problems(form, exc.problems)
            except services.QuestionConflict as exc:
                form.base_version.data = str(exc.version)
                flash(_("Someone else saved this question meanwhile (now version %(n)s). Your changes are still "
                        "in the form: save again to replace theirs, or reload the page to see them.", n=exc.version),
                      "error")
            else:
                if action == services.UNCHANGED:
                    flash(_("Nothing changed in question %(key)s.", key=saved.key), "success")
                else:
                    flash(_("Question %(key)s saved (version %(n)s).", key=saved.key, n=saved.version), "success")
                return redirect(url_for("banks.show", slug=bank.slug, q=saved.key))
    return render_template("banks/question_form.html", bank=bank, question=question, kind=kind, form=form,
                           type_label=QUESTION_TYPES[kind].label, extra=extra, preview=preview)


@bp.route("/<slug>/questions/new", methods=["GET", "POST"])
@role_required(*AUTHORS)
def new_question(slug: str):
    bank = _bank(slug)
    kind = request.args.get("type", "")
    if kind not in QUESTION_TYPES:
        return render_template("banks/choose_type.html", bank=bank, types=QUESTION_TYPES)
    return _question_page(bank, None, kind)


@bp.route("/<slug>/questions/<key>/edit", methods=["GET", "POST"])
@role_required(*AUTHORS)
def edit_question(slug: str, key: str):
    bank = _bank(slug)
    question = _question(bank, key)
    return _question_page(bank, question, question.type)


@bp.route("/<slug>/questions/<key>/<any(retire, restore):action>", methods=["POST"])
@role_required(*AUTHORS)
def set_retired(slug: str, key: str, action: str):
    bank = _bank(slug)
    question = _question(bank, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.set_retired(question, action == "retire", utcnow())
    if action == "retire":
        flash(_("Question %(key)s is retired: exams no longer draw it; past attempts keep it.", key=key), "success")
    else:
        flash(_("Question %(key)s is back in use.", key=key), "success")
    return redirect(url_for("banks.show", slug=bank.slug, **{name: value for name, value in request.args.items()
                                                             if name in ("q", "tag", "type", "status", "page")}))


@bp.route("/<slug>/export.<fmt>")
@role_required(*AUTHORS)
def export(slug: str, fmt: str):
    if fmt not in EXPORTS:
        abort(404)
    text, filename, mimetype = services.export_bank(_bank(slug), EXPORTS[fmt])
    return send_file(BytesIO(text.encode("utf-8")), mimetype=mimetype, as_attachment=True, download_name=filename,
                     max_age=0)


@bp.route("/import", methods=["GET", "POST"])
@role_required(*AUTHORS)
def upload():
    form = UploadForm(bank=request.args.get("bank", ""))
    if form.validate_on_submit():
        plan = staging.prepare_upload(current_user._get_current_object(), form.file.data.read(),
                                       form.file.data.filename or "", form.format.data or None, form.bank.data or None)
        return render_template("banks/preview.html", plan=plan, confirm=ConfirmForm(token=plan.token),
                               types=QUESTION_TYPES)
    return render_template("banks/import.html", form=form, errors=[])


@bp.route("/import/confirm", methods=["POST"])
@role_required(*AUTHORS)
def confirm_upload():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    try:  # a large file imports in the background, and the browser follows its job
        if staging.staged_questions(user, form.token.data) > jobs.inline_rows():
            job = jobs.start(staging.queue_upload(user, form.token.data, str(get_locale())))
            return redirect(url_for("jobs.show", job_id=job.id))
    except staging.UploadExpired:
        pass  # said just below
    try:
        changes = staging.confirm_upload(current_user._get_current_object(), form.token.data, utcnow())
    except staging.UploadExpired:
        flash(_("That upload is no longer waiting (it was imported already, or is more than a day old). "
                "Upload the file again."), "error")
        return redirect(url_for("banks.upload"))
    except ContentInvalid as exc:
        return render_template("banks/import.html", form=UploadForm(), errors=exc.errors)
    flash(_("Imported into %(slug)s: %(summary)s", slug=changes.slug, summary=_changes_message(changes)), "success")
    return redirect(url_for("banks.show", slug=changes.slug))


@bp.route("/import/template.<fmt>")
@role_required(*AUTHORS)
def template(fmt: str):
    if fmt not in TEMPLATES:
        abort(404)
    make, mimetype = TEMPLATES[fmt]
    return send_file(BytesIO(make()), mimetype=mimetype, as_attachment=True,
                     download_name=f"question-bank-template.{fmt}", max_age=0)
