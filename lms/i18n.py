"""Language choice: the user's preference, else the session's choice, else Accept-Language."""
from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from lms.config import LANGUAGES

LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}


@lru_cache(maxsize=None)
def _parsed(code: str) -> Locale:
    return Locale.parse(code)  # parsing costs about a millisecond; Flask-Babel would do it per request


def select_locale() -> Locale:
    return _parsed(_chosen_language())


def _chosen_language() -> str:
    if not has_request_context():
        return "en"  # the command line and services called outside a request speak the source language
    if current_user and current_user.is_authenticated and current_user.preferred_language in LANGUAGES:
        return current_user.preferred_language
    if session.get("language") in LANGUAGES:
        return session["language"]
    # Accept-Language says zh-CN; werkzeug compares it with zh_CN after normalising.
    return request.accept_languages.best_match(LANGUAGES) or current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang() -> str:
    return str(get_locale()).replace("_", "-").replace("zh-Hans-CN", "zh-CN")


def init_app(app: Flask) -> None:
    @app.context_processor
    def language_context():
        return {"LANGUAGE_NAMES": LANGUAGE_NAMES, "html_lang": html_lang}
