"""The training and exam platform: create_app() builds the Flask application.

Importing `lms` (which every `lms.*` module does) stays cheap: Flask, SQLAlchemy and the extensions
are imported by create_app(), so `lms --help` does not pay for them (lms/cli.py)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lms import config, sqlite

if TYPE_CHECKING:
    from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent
# The modules holding each blueprint (`bp`). Packages do not import their views themselves, so
# services of one capability can use another's without pulling in its web layer.
BLUEPRINTS = ("auth.views", "catalog.views", "lessons.views", "admin.views", "practicals.views", "mentoring.views",
              "exams.views", "banks.views", "records.views", "records.export_views", "promotions.views",
              "evaluations.views", "certificates.views", "jobs.views", "plans.views", "classroom.views",
              "surveys.views", "notifications.views", "records.kpi_views", "reports.views",
              "reports.item_views", "reports.people_views", "reports.audit_views", "workspace.views",
              "media.views", "authoring.views", "search.views")
_EXTENSIONS = ("babel", "csrf", "db", "login_manager", "migrate")


def __getattr__(name: str):
    """`lms.db` and the other extension objects, as when they were imported here at the top."""
    if name in _EXTENSIONS:
        from lms import extensions

        return getattr(extensions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def create_app(overrides: dict | None = None) -> Flask:
    from flask import Flask

    from lms.extensions import babel, csrf, db, login_manager, migrate

    install_sqlite_pragmas()
    instance = config.instance_path()
    app = Flask(
        __name__,
        instance_path=str(instance),
        template_folder=str(config.PROJECT_ROOT / "templates"),
        static_folder=str(config.PROJECT_ROOT / "static"),
    )
    app.config.update(config.DEFAULTS)
    app.config.update(config.from_environment(instance))
    app.config.update(overrides or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.load_secret_key(instance)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        instance.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlite.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)

    from lms import i18n
    from lms.auth import init_login

    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )
    i18n.init_app(app)
    init_login(app, login_manager)

    from importlib import import_module

    from lms import errors, input_guard, rendering, security

    input_guard.install_converters(app)  # before the blueprints: their rules bind converters when added
    for module in BLUEPRINTS:
        app.register_blueprint(import_module(f"lms.{module}").bp)
    errors.init_app(app)
    input_guard.init_app(app)  # NUL refused, strict JSON
    security.init_app(app)  # headers on every response; ProxyFix when LMS_PROXY_FIX is set
    from lms import navigation

    navigation.init_app(app)  # the More page; the templates' navigation() and icon()
    app.add_template_filter(rendering.stored_html)
    from lms.formatting import one_decimal

    app.add_template_filter(one_decimal)

    from lms.cli import register_commands

    register_commands(app)
    return app


def _sqlite_pragmas(dbapi_connection, connection_record):
    """Every SQLite connection, the app's and the migrations', gets the same settings."""
    if isinstance(dbapi_connection, sqlite.sqlite3.Connection):
        sqlite.apply_pragmas(dbapi_connection)


def install_sqlite_pragmas() -> None:
    """Listen for every new connection of any engine (once; create_app calls this before its engine exists)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


def _install_when_sqlalchemy_is_loaded() -> None:
    """A process that imports SQLAlchemy before `lms` (benchmarks/baseline_app.py builds its own engine
    and app) gets the pragmas at once, as when this module imported SQLAlchemy itself."""
    import sys

    if "sqlalchemy.engine" in sys.modules:
        install_sqlite_pragmas()


_install_when_sqlalchemy_is_loaded()
