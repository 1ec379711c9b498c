from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from lms.auth import services
from lms.auth.forms import LanguageForm, LoginForm
from lms.config import LANGUAGES

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = services.authenticate(form.employee_no.data, form.password.data)
        if user is None:
            flash(_("Wrong employee number or password, or the account is inactive."), "error")
        else:
            language = session.get("language")
            session.clear()  # a fresh session at login: nothing set before it survives (fixation)
            if language:
                session["language"] = language
            login_user(user)
            return redirect(services.safe_next_url(form.next.data) or url_for("catalog.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit() and form.language.data in LANGUAGES:
        session["language"] = form.language.data
        services.set_language(current_user if current_user.is_authenticated else None, form.language.data)
    return redirect(services.safe_next_url(form.next.data) or url_for("catalog.home"))
