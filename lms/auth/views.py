from flask import Blueprint, flash, jsonify, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from lms.auth import activation, services, sessions
from lms.clock import utcnow
from lms.auth.forms import ActivateForm, ChangePasswordForm, LanguageForm, LoginForm
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
        try:
            # request.remote_addr: the proxy's X-Forwarded-For counts only when ProxyFix is configured
            user = services.log_in(form.employee_no.data, form.password.data, request.remote_addr)
        except services.LoginThrottled as exc:
            return _throttled(form, exc.wait_seconds)
        if user is None:
            flash(_("Wrong employee number or password, or the account is inactive."), "error")
        else:
            language = session.get("language")
            session.clear()  # a fresh session at login: nothing set before it survives (fixation)
            if language:
                session["language"] = language
            login_user(user)
            sessions.start(user, utcnow().timestamp())
            return redirect(services.safe_next_url(form.next.data) or url_for("catalog.home"))
    return render_template("auth/login.html", form=form)


def _throttled(form, wait_seconds: int, template: str = "auth/login.html"):
    minutes = max(1, -(-wait_seconds // 60))
    flash(ngettext("Too many failed logins. Try again in %(num)s minute.",
                   "Too many failed logins. Try again in %(num)s minutes.", minutes), "error")
    response = make_response(render_template(template, form=form), 429)
    response.headers["Retry-After"] = str(wait_seconds)
    return response


@bp.route("/activate", methods=["GET", "POST"])
def activate():
    """A bulk-created account's first password, with the one-time code the admin handed out."""
    if current_user.is_authenticated:
        return redirect(url_for("catalog.home"))
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            user = activation.activate(form.employee_no.data, form.code.data, form.password.data,
                                       request.remote_addr, utcnow())
        except activation.ActivationThrottled as exc:
            return _throttled(form, exc.wait_seconds, "auth/activate.html")
        except activation.ActivationFailed:
            flash(_("Wrong employee number or activation code, or the code was used already."), "error")
        except activation.ActivationExpired:
            flash(_("This activation code has expired. Ask your administrator for a new one."), "error")
        else:
            flash(_("Account %(no)s is active. Log in with your new password.", no=user.employee_no), "success")
            return redirect(url_for("auth.login"))
    response = make_response(render_template("auth/activate.html", form=form))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    user = current_user._get_current_object() if current_user.is_authenticated else None
    logout_user()
    session.clear()
    if user is not None:
        services.end_sessions(user)  # a copy of this session's cookie must not outlive it
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/auth/token")
def token():
    """{"csrf": token, "user": id} for the session as it is now; 401 with nulls when logged out.
    The exam page asks after a lost login: once the same user has logged in again (another tab),
    it sends its waiting answers with this token, without a reload. Never cached."""
    if current_user.is_authenticated:
        response = jsonify({"csrf": generate_csrf(), "user": current_user.id})
    else:
        response = jsonify({"csrf": None, "user": None})
        response.status_code = 401
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def health():
    """For the load balancer: 200 when this app server can serve (its database answers and is
    migrated), else 503 (lms/health.py). No login; never cached."""
    from lms import health

    code, body = health.status()
    response = jsonify(body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Everyone's own password. After an admin's reset this is the only page open until it is done."""
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(user, form.current.data, form.password.data, request.remote_addr)
        except services.LoginThrottled as exc:
            return _throttled(form, exc.wait_seconds, "auth/change_password.html")
        except services.WrongPassword:
            form.current.errors.append(_("This is not your current password."))
        except services.SamePassword:
            form.password.errors.append(_("Choose a password different from the current one."))
        else:
            sessions.start(user, utcnow().timestamp())  # this session goes on; every other one has ended
            flash(_("Your password is changed. You stay logged in here; other devices must log in again."),
                  "success")
            return redirect(url_for("catalog.home"))
    response = make_response(render_template("auth/change_password.html", form=form,
                                             forced=user.must_change_password))
    response.headers["Cache-Control"] = "no-store"
    return response


# While an admin's reset is pending, these stay open: the change itself, logging out, the language
# switch, the exam page's token refresh, and static files.
OPEN_WHILE_PASSWORD_CHANGE_DUE = frozenset({"auth.change_password", "auth.logout", "auth.language", "auth.token",
                                            "static"})


@bp.before_app_request
def password_change_first():
    """Someone whose password an admin reset chooses a new one before anything else (read-only check)."""
    if request.endpoint is None or request.endpoint in OPEN_WHILE_PASSWORD_CHANGE_DUE:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit() and form.language.data in LANGUAGES:
        session["language"] = form.language.data
        services.set_language(current_user if current_user.is_authenticated else None, form.language.data)
    return redirect(services.safe_next_url(form.next.data) or url_for("catalog.home"))
