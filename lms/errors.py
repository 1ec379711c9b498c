"""Error pages. A 500 rolls back the session so a half-done operation is never committed later."""
from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from lms.extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("Your account may not open this page.")),
    404: (_l("Not found"), _l("There is nothing at this address. It may have been moved or retired.")),
    413: (_l("File too large"), _l("The file is larger than the 8 MB this server accepts.")),
    500: (_l("Something went wrong"), _l("The error has been logged and nothing was saved. Try again in a moment.")),
}


def _page(code: int, message=None):
    title, default = MESSAGES[code]
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(400, _l("The form had expired or came from another site. Reload the page and send it again."))

    for code in (400, 403, 404, 413):
        app.register_error_handler(code, lambda error, code=code: _page(code))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _page(500)
