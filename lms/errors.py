"""Error pages. A 500 rolls back the session so a half-done operation is never committed later.

The exam page's script talks to JSON endpoints (save, heartbeat); whatever goes wrong there, even
before the view runs (an id too large for the route, a wrong method, a missing CSRF token, a body
too large, a crash), the answer is JSON `{"saved": false, "error": ...}` that the script can show.
"""
import re

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.extensions import db

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


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(400, _l("The form had expired or came from another site. Reload the page and send it again."))

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
