"""Error pages. A 500 rolls back the session so a half-done operation is never committed later.

The exam page's script talks to JSON endpoints (save, heartbeat); whatever goes wrong there, even
before the view runs (an id too large for the route, a wrong method, a missing CSRF token, a body
too large, a crash), the answer is JSON `{"saved": false, "error": ...}` that the script can show.

A logged-out request is answered alike wherever it is caught (Flask-Login's login_required, or the
CSRF check, which runs first and fails when the session is gone): 401 `{"saved": false, "error":
"login"}` on the JSON endpoints, else the login page with `next` = the page the person was on.
"""
import re
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.extensions import db, login_manager

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("Your account may not open this page.")),
    404: (_l("Not found"), _l("There is nothing at this address. It may have been moved or retired.")),
    413: (_l("File too large"), _l("The file is larger than the 8 MB this server accepts.")),
    500: (_l("Something went wrong"), _l("The error has been logged and nothing was saved. Try again in a moment.")),
}
TEXT_TOO_LONG = _l("The text sent is longer than this server accepts. Shorten it and send it again.")
# Matched on the path, not the endpoint: a request the router refused has no endpoint.
JSON_PATHS = re.compile(r"^/exams/attempts/[^/]*/(save|heartbeat)/?$")


def wants_json() -> bool:
    return bool(JSON_PATHS.match(request.path))


def _page(code: int, message=None):
    title, default = MESSAGES[code]
    if code == 413 and message is None and not _file_too_large():
        message = TEXT_TOO_LONG
    if wants_json():
        return jsonify({"saved": False, "error": str(message or default)}), code
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def _file_too_large() -> bool:
    """A body over the size limit (a file); else one form field was over the form-memory limit."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return bool(limit and (request.content_length is None or request.content_length > limit))


# Pages anyone may post to without being logged in: a failed CSRF check there is not a lost login.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.activate", "auth.language"})
CSRF_MESSAGE = _l("The form had expired or came from another site. Reload the page and send it again.")


def _referring_path() -> str | None:
    """The path (and query) of the page that sent this request, if it is a page of this site."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    here = urlsplit(request.host_url)
    if (parts.scheme, parts.netloc) != (here.scheme, here.netloc):
        return None
    from lms.auth.services import safe_next_url

    return safe_next_url(parts.path + (f"?{parts.query}" if parts.query else ""))


def _return_path() -> str:
    """Where to come back to after logging in: the page itself for a GET; for a form, the page
    holding the form (a POST-only address would answer 405 to the browser's GET)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    back = _referring_path()
    if back:
        return back
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return request.full_path.rstrip("?")
    return url_for("catalog.home")


def logged_out():
    """The answer to a request that needs a login it does not have (Flask-Login's unauthorized
    handler, and the CSRF check for a session that is gone)."""
    if wants_json():
        return jsonify({"saved": False, "error": "login"}), 401
    if request.method == "GET":
        flash(_("Please log in to continue."), "info")
    else:
        flash(_("Your session ended. Log in again to continue.") + " "
              + _("What you sent was not saved: send it again once you are back."), "error")
    return redirect(url_for("auth.login", next=_return_path()))


def csrf_failed(error):
    """A form or save without a valid token. Logged out: as login_required. Logged in: a page of
    this site that had expired (the token changed with a new login) goes back to that page with a
    message; anything else (no Referer: another site) is refused with 400."""
    if not current_user.is_authenticated and request.endpoint not in PUBLIC_ENDPOINTS:
        return logged_out()
    if wants_json():
        # `csrf`: the exam page fetches a fresh token (GET /auth/token) and sends the answer again.
        return jsonify({"saved": False, "error": str(CSRF_MESSAGE), "csrf": True}), 400
    back = _referring_path()
    if back:
        flash(_("This page had expired, so what you sent was not saved. Send it again."), "error")
        return redirect(back)
    return _page(400, CSRF_MESSAGE)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_failed)
    login_manager.unauthorized_handler(logged_out)

    for code in (400, 403, 404, 413):
        app.register_error_handler(code, lambda error, code=code: _page(code))

    @app.errorhandler(HTTPException)
    def other_http_error(error):
        """Any other status (405, 429 ...): JSON on the exam endpoints, Werkzeug's page elsewhere."""
        if wants_json() and error.code and error.code >= 400:
            return jsonify({"saved": False, "error": str(error.description or error.name)}), error.code
        return error

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _page(500)
