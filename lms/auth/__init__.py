"""Login, logout, language choice, and the role checks every other capability uses."""
from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager

from lms.auth.views import bp


def init_login(app: Flask, login_manager: LoginManager) -> None:
    from lms.auth import sessions, throttle

    throttle.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(sessions.load_user)  # refuses ended sessions (lms/auth/sessions.py)


__all__ = ["bp", "init_login"]
