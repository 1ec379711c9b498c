"""The `lms` command: Flask's group (with `lms db ...` from Flask-Migrate) plus our own commands.

Start-up is kept short (`lms --help` imports neither SQLAlchemy nor the app): the group lists its
commands without building the app, imports a command's module only when that command is asked for,
and every command that works builds the app itself when it runs (`with_appcontext`). So this module
and the `cli` modules of the packages import only click and flask.cli at the top; anything heavier
is imported inside the functions that use it. benchmarks/cli_startup.py measures it.
"""
from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from lms.clock import utcnow
from lms.formatting import counted

if TYPE_CHECKING:
    from flask import Flask

    from lms.content.errors import ContentInvalid

# Our commands kept in other modules: "module:attribute", imported when the command is asked for
# (that module must stay cheap to import: `lms --help` imports it for the command's help line).
LAZY_COMMANDS = {
    "banks": "lms.banks.cli:banks",
    "exams": "lms.exams.cli:exams",
    "records": "lms.records.cli:records",
    "notify": "lms.notifications.cli:notify",
    "reports": "lms.reports.cli:reports",
    "search": "lms.search.cli:search",
}
# Commands that only the built app has (Flask-Migrate's `db`, blueprint groups), with their help
# line: `lms --help` lists them without building the app; asking for one builds it (FlaskGroup).
# tests/unit/test_config_and_cli.py checks this list against the app's.
APP_COMMANDS = {
    "db": "Perform database migrations.",
    "jobs": "Background jobs (imports): `lms jobs work`.",
}


NOT_MIGRATED = "the database is not up to date: run `lms db upgrade` (or `lms demo`) first"


class LmsGroup(FlaskGroup):
    """FlaskGroup that knows our command names: it builds the app only to run a command (or to find
    one it does not know), never to list them. Click's documented "LazyGroup" pattern.

    Every command, ours or a plugin's, that meets a database without its migrations ends with what
    to do and exit status 1, not a "no such table" traceback (`invoke`); `migrated` checks before a
    command starts (serve, say, which would fail later in its workers)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not _schema_missing(ctx, exc):
                raise
            raise click.ClickException(NOT_MIGRATED) from None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:  # run, shell, routes, and the commands of this module
            return self.commands[name]
        if name in LAZY_COMMANDS:
            module, attribute = LAZY_COMMANDS[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, name)
            return command
        return super().get_command(ctx, name)  # entry-point plugins, then the app's own (db, jobs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(LAZY_COMMANDS) | set(APP_COMMANDS) | set(_plugins()))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, except that the app's commands show the help line above (no app built), and
        commands of installed Flask extensions (entry points) name their package without being
        imported (Flask-Limiter's `limiter` alone took 80 ms)."""
        commands = []
        plugins = _plugins()
        for name in self.list_commands(ctx):
            if name in APP_COMMANDS and name not in self.commands:
                command = click.Command(name, help=APP_COMMANDS[name])
            elif name in plugins and name not in self.commands and name not in LAZY_COMMANDS:
                command = click.Command(name, help=f"Command of the installed package {plugins[name]}.")
            else:
                command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                commands.append((name, command))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _command in commands)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in commands])


def _plugins() -> dict[str, str]:
    """Commands that installed packages add to Flask (entry points `flask.commands`): name -> package."""
    from importlib import metadata

    return {entry_point.name: (entry_point.dist.name if entry_point.dist else entry_point.module.split(".")[0])
            for entry_point in metadata.entry_points(group="flask.commands")}


def _schema_missing(ctx: click.Context, exc: Exception) -> bool:
    """Whether `exc` is a database error on a database that lacks migrations (no table, no column)."""
    if not type(exc).__module__.startswith("sqlalchemy"):  # click's Exit (--help), a command's own errors
        return False
    from sqlalchemy.exc import DatabaseError  # only now: `lms --help` stays light

    if not isinstance(exc, DatabaseError):
        return False
    from flask.cli import ScriptInfo

    try:
        app = ctx.ensure_object(ScriptInfo).load_app()
        with app.app_context():
            return bool(pending_migrations())
    except Exception:  # the database cannot even be asked: the original error says more
        return False


def _create_app(*_args) -> Flask:
    from lms import create_app

    return create_app()


@click.group(cls=LmsGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Training and exam platform for customer-service centers."""


def register_commands(app: Flask) -> None:
    """The same commands on app.cli, for `app.test_cli_runner()` and `flask --app lms ...`."""
    for command in (demo, serve, sync, user, users):
        app.cli.add_command(command)
    from lms.exams.cli import exams

    app.cli.add_command(exams)
    from lms.banks.cli import banks

    app.cli.add_command(banks)
    from lms.records.cli import records
    app.cli.add_command(records)
    from lms.reports.cli import reports

    app.cli.add_command(reports)
    from lms.notifications.cli import notify

    app.cli.add_command(notify)
    from lms.search.cli import search

    app.cli.add_command(search)


def _print_errors(exc: ContentInvalid) -> None:
    for error in exc.errors:
        click.echo(str(error), err=True)
    click.echo(f"{counted(len(exc.errors), 'problem')}; nothing was imported.", err=True)


def run_sync(check_only: bool = False) -> None:
    from lms.content.errors import ContentInvalid
    from lms.content.sync import sync_content
    from lms.extensions import db

    try:
        lines = sync_content(db.session, current_app.config, utcnow(), check_only=check_only)
    except ContentInvalid as exc:
        _print_errors(exc)
        raise SystemExit(1)
    for line in lines:
        click.echo(line)


def prepare_database() -> None:
    """Apply every migration; on a new installation this creates the database."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory, revision="heads")


@click.command()
@click.option("--check", is_flag=True, help="Only validate the content folders; write nothing.")
@click.pass_context
def sync(ctx: click.Context, check: bool) -> None:
    """Import the content folders into the database (idempotent, all or nothing)."""
    if check and _checked_without_app(ctx):
        return
    if not current_app:  # as @with_appcontext: build the app (or use the one a test runner gives)
        from flask.cli import ScriptInfo

        ctx.with_resource(ctx.ensure_object(ScriptInfo).load_app().app_context())
    if not check:
        migrated(lambda: None)()  # validating needs no database; importing needs a migrated one
    run_sync(check_only=check)


def _checked_without_app(ctx: click.Context) -> bool:
    """`lms sync --check` on valid content: parse every folder with the settings from the environment,
    without building the app, SQLAlchemy or the models (the parsers need none), and say so.

    False (the caller then checks again inside the app) when content has problems, so that an exam
    pool naming a bank made in the browser (in the database, not in the files) is still accepted and
    the errors printed are the app's; also when a test runner or `flask --app` gives its own app."""
    from flask.cli import ScriptInfo

    if current_app or ctx.ensure_object(ScriptInfo).create_app is not _create_app:
        return False
    from lms import config
    from lms.content.errors import ContentInvalid
    from lms.content.sync import sync_content

    instance = config.instance_path()
    settings = {**config.DEFAULTS, **config.from_environment(instance)}
    try:
        lines = sync_content(None, settings, utcnow(), check_only=True)
    except ContentInvalid:
        return False
    for line in lines:
        click.echo(line)
    return True


def gunicorn_argv(host: str, port: int, workers: int | None, app_spec: str = "lms:create_app()") -> list[str]:
    """How the app is served in production; benchmarks/exam_storm.py serves its baseline the same way."""
    workers = workers or int(os.environ.get("LMS_WORKERS", 0)) or (2 * (os.cpu_count() or 1) + 1)
    return [sys.executable, "-m", "gunicorn", "--config", "python:lms.gunicorn_config",
            "--bind", f"{host}:{port}", "--workers", str(workers),
            "--access-logfile", "-", "--timeout", os.environ.get("LMS_WORKER_TIMEOUT", "120"),
            "--forwarded-allow-ips", os.environ.get("LMS_FORWARDED_ALLOW_IPS", "127.0.0.1"), app_spec]


def _gunicorn(host: str, port: int, workers: int | None) -> None:
    argv = gunicorn_argv(host, port, workers)
    click.echo(f"Serving on http://{host}:{port} with {argv[argv.index('--workers') + 1]} gunicorn workers "
               "(Ctrl+C stops).")
    sys.stdout.flush()
    os.execv(sys.executable, argv)


SERVE_OPTIONS = [
    click.option("--host", default=lambda: os.environ.get("LMS_HOST", "127.0.0.1"), show_default="127.0.0.1"),
    click.option("--port", default=lambda: int(os.environ.get("LMS_PORT", 5000)), show_default="5000", type=int),
    click.option("--workers", type=int, default=None, help="gunicorn workers (default 2 x cores + 1)"),
]


def _serve_options(command):
    for option in reversed(SERVE_OPTIONS):
        command = option(command)
    return command


def migrated(command):
    """Run `command` only on a database with every migration applied; else say what to do and exit 1.
    (Inside an app context: put it below @with_appcontext.)"""

    @functools.wraps(command)
    def checked(*args, **kwargs):
        if pending_migrations():
            raise click.ClickException(NOT_MIGRATED)
        return command(*args, **kwargs)

    return checked


def pending_migrations() -> set[str]:
    """Head revisions the database has not reached yet (all of them on an empty database)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from lms.extensions import db

    config = current_app.extensions["migrate"].migrate.get_config(current_app.extensions["migrate"].directory)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return heads - current


@click.command()
@_serve_options
@with_appcontext
@migrated
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve an existing installation with gunicorn."""
    _refresh_statistics()
    _gunicorn(host, port, workers)


def _refresh_statistics() -> None:
    from lms.extensions import db
    from lms.sqlite import refresh_statistics

    refresh_statistics(db.engine)


@click.command()
@_serve_options
@click.option("--no-serve", is_flag=True, help="Set everything up, then exit instead of serving.")
@with_appcontext
def demo(host: str, port: int, workers: int | None, no_serve: bool) -> None:
    """Create or update the database, import the sample content and demo accounts, then serve."""
    from lms.demo import ensure_demo_accounts

    click.echo(f"Database: {current_app.config['SQLALCHEMY_DATABASE_URI']}")
    prepare_database()
    run_sync()
    accounts = ensure_demo_accounts()
    click.echo("\nDemo accounts (employee number / password):")
    for account in accounts:
        state = "" if account.created else "  (existing; password unchanged if you changed it)"
        click.echo(f"  {account.employee_no:<8} {account.password:<12} {account.description}{state}")
    click.echo("Passwords: change yours under Account > Change password. An admin resets someone's under\n"
               "Staff > (person) > Reset password; that person then chooses a new one at the next login.\n")
    _refresh_statistics()
    if not no_serve:
        _gunicorn(host, port, workers)


@click.group()
def user() -> None:
    """Manage one account."""


@user.command("create")
@click.option("--employee-no", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, default=["agent"], show_default=True,
              type=click.Choice(["agent", "mentor", "trainer", "admin"]))
@click.option("--star-level", type=click.IntRange(0, 5), default=0, show_default=True)
@click.option("--team", default="")
@click.option("--mentor", "mentor_no", default="", help="The mentor's employee number (holds the mentor role and "
                                                        "a higher star level).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
@migrated
def user_create(employee_no: str, name: str, roles: tuple[str, ...], star_level: int, team: str, mentor_no: str,
                password: str) -> None:
    """Create an account (the first admin, say)."""
    from lms.admin.services import AccountInvalid, create_user

    try:
        created = create_user(employee_no=employee_no, name=name, roles=set(roles), star_level=star_level,
                              team=team, mentor_employee_no=mentor_no or None, password=password)
    except AccountInvalid as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Created {created.employee_no} ({', '.join(sorted(created.roles))}).")


@click.group()
def users() -> None:
    """Manage accounts in bulk."""


@users.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@migrated
def users_import(file: Path) -> None:
    """Import staff from a CSV or XLSX file; any bad row imports nothing."""
    from lms.admin.staff_import import MAX_IMPORT_ROWS, import_users
    from lms.content.spreadsheets import ImportInvalid, SpreadsheetError, read_table

    try:
        table = read_table(file.name, file.read_bytes(), max_rows=MAX_IMPORT_ROWS)
        result = import_users(table)
    except SpreadsheetError as exc:
        raise click.ClickException(f"{file}: {exc}")
    except ImportInvalid as exc:
        for error in exc.errors:
            click.echo(f"{file}:{error.row}: {error.message}", err=True)
        click.echo(f"{counted(len(exc.errors), 'problem')}; nothing was imported.", err=True)
        raise SystemExit(1)
    click.echo(f"{len(result.created)} created, {len(result.updated)} updated.")
    for employee_no, name, code in result.codes:  # activate at /activate (lms/auth/activation.py)
        click.echo(f"  {employee_no}\t{name}\tactivation code {code}")


for _command in (demo, serve, sync, user, users):
    main.add_command(_command)
