"""Configuration from the environment and the `lms` commands."""
import os
import stat

import pytest
from sqlalchemy import func, select, text

from lms.config import PROJECT_ROOT
from lms import config, create_app
from lms.extensions import db
from lms.models import Course, User


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    first = config.load_secret_key(tmp_path)
    second = config.load_secret_key(tmp_path)
    assert first == second and len(first) == 64
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    other = tmp_path / "elsewhere"
    assert config.load_secret_key(other) != first  # never a built-in default


def test_secret_key_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", "from-env")
    assert config.load_secret_key(tmp_path) == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_database_defaults_to_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'lms.sqlite3'}"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh_CN"


@pytest.mark.parametrize("megabytes, expected", [(None, 1024 << 20), ("0", 0), ("64", 64 << 20)])
def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_memory_mapped_reads(tmp_path, monkeypatch, megabytes, expected):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    if megabytes is None:
        monkeypatch.delenv("LMS_SQLITE_MMAP_MB", raising=False)
    else:
        monkeypatch.setenv("LMS_SQLITE_MMAP_MB", megabytes)
    app = create_app({"SECRET_KEY": "x"})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA mmap_size")).scalar() == expected
        db.engine.dispose()


def test_a_memory_map_size_that_is_not_a_number_is_refused(monkeypatch):
    from lms.sqlite import mmap_bytes

    monkeypatch.setenv("LMS_SQLITE_MMAP_MB", "1GB")
    with pytest.raises(RuntimeError, match="LMS_SQLITE_MMAP_MB"):
        mmap_bytes()


def test_instants_come_back_aware_utc_on_every_database(app):
    """UTCDateTime's SQLite fast path (text parsed and marked UTC in one step) against the stored value."""
    from datetime import datetime, timedelta, timezone

    from lms.models import RecordEntry

    moment = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))  # given in UTC+8
    user = User(employee_no="T900", name="时刻", team="", hire_date=moment.date(), password_hash="x")
    db.session.add(user)
    db.session.flush()
    db.session.add(RecordEntry(user_id=user.id, kind="evaluation", title="月度评估", occurred_at=moment, valid_until=None))
    db.session.commit()
    row = db.session.execute(select(RecordEntry.occurred_at, RecordEntry.valid_until)
                             .where(RecordEntry.user_id == user.id)).one()
    assert row.occurred_at == moment and row.occurred_at.tzinfo == timezone.utc
    assert row.occurred_at.isoformat() == "2026-03-28T17:30:15.123456+00:00"
    assert row.valid_until is None


def test_unknown_default_language_is_refused(monkeypatch):
    monkeypatch.setenv("LMS_DEFAULT_LANGUAGE", "fr")
    with pytest.raises(RuntimeError, match="LMS_DEFAULT_LANGUAGE"):
        create_app({"SECRET_KEY": "x"})


def test_sync_check_reports_problems_and_exits_non_zero(app, course_root):
    from tests.conftest import write_course

    write_course(course_root, "0-01-a", slug="a", prerequisites=["ghost"])
    result = app.test_cli_runner().invoke(args=["sync", "--check"])
    assert result.exit_code == 1
    assert "courses/0-01-a/course.md:8: unknown prerequisite 'ghost'" in result.output
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_sync_imports_and_second_run_changes_nothing(app, course_root):
    from tests.conftest import write_course

    write_course(course_root, "0-01-a", slug="a")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["sync"])
    assert first.exit_code == 0 and "courses: 1 created" in first.output
    second = runner.invoke(args=["sync"])
    assert "courses: 0 created, 0 updated, 1 unchanged" in second.output


def test_user_create(app):
    result = app.test_cli_runner().invoke(args=[
        "user", "create", "--employee-no", "A9001", "--name", "新管理员", "--role", "admin", "--role", "trainer",
        "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.employee_no == "A9001"))
    assert user.roles == {"admin", "trainer"} and user.check_password("long-enough-pw")
    again = app.test_cli_runner().invoke(args=[
        "user", "create", "--employee-no", "A9001", "--name", "x", "--password", "long-enough-pw"])
    assert again.exit_code == 1 and "taken" in again.output


def test_demo_setup_twice_reuses_what_exists(app, course_root, monkeypatch):
    from tests.conftest import write_course

    write_course(course_root, "0-01-a", slug="a")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "E1001" in first.output and "demo1234" in first.output
    count = db.session.scalar(select(func.count()).select_from(User))
    second = runner.invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0 and "(existing" in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == count >= 7
    agent = db.session.scalar(select(User).where(User.employee_no == "E1001"))
    assert agent.mentor.employee_no == "M0001" and agent.star_level == 0
    # agents above 0 stars have completed the levels below theirs; the new hire has only begun
    from lms.catalog.services import load_progress

    one_star = db.session.scalar(select(User).where(User.employee_no == "E1002"))
    assert load_progress(one_star).is_complete(db.session.scalar(select(Course).where(Course.slug == "a")))
    new_hire = load_progress(agent)
    assert not any(new_hire.is_complete(course) for course in new_hire.courses)


@pytest.mark.parametrize("args", [["serve"], ["sync"], ["exams", "close-expired"], ["records", "export", "--format", "csv"],
                                  ["users", "import", "README.md"], ["banks", "import", "README.md"],
                                  ["user", "create", "--employee-no", "A1", "--name", "甲", "--password", "password123"]])
def test_commands_refuse_a_database_that_is_not_migrated(tmp_path, monkeypatch, args):
    """Not a "no such table" traceback: what to do, and a non-zero exit."""
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    monkeypatch.chdir(PROJECT_ROOT)
    app = create_app({"SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1 and "lms db upgrade" in result.output
    assert "Traceback" not in result.output and "no such table" not in result.output


def test_sync_check_needs_no_database(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("LMS_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["sync", "--check"])
    assert result.exit_code == 0 and "courses: %d valid" % len([p for p in (PROJECT_ROOT / "courses").iterdir() if p.is_dir()]) in result.output


def test_sqlite_commits_are_durable_before_they_are_acknowledged(app):
    """synchronous=FULL (2): an acknowledged answer survives a power cut, not only a crash."""
    from lms.extensions import db as database

    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def test_a_bad_sqlite_durability_setting_is_refused(monkeypatch):
    from lms.sqlite import synchronous_mode

    monkeypatch.setenv("LMS_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(RuntimeError, match="LMS_SQLITE_SYNCHRONOUS"):
        synchronous_mode()


@pytest.mark.parametrize("name, value", [("LMS_JOBS_WORKER", "cron"), ("LMS_IMPORT_INLINE_ROWS", "-1"),
                                         ("LMS_IMPORT_INLINE_ROWS", "many")])
def test_job_settings_are_checked_at_start_up(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        create_app({"SECRET_KEY": "x"})


def test_job_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LMS_JOBS_WORKER", "external")
    monkeypatch.setenv("LMS_IMPORT_INLINE_ROWS", "50")
    app = create_app({"SECRET_KEY": "x"})
    assert (app.config["LMS_JOBS_WORKER"], app.config["LMS_IMPORT_INLINE_ROWS"]) == ("external", 50)


def test_lms_lists_the_apps_commands_without_building_it(app):
    """`lms --help` names the app's own commands (db, jobs) from lms/cli.py's list: it must keep up."""
    import click

    from lms.cli import APP_COMMANDS, LAZY_COMMANDS, main

    context = click.Context(main)
    in_the_app = set(app.cli.list_commands(context))
    assert in_the_app <= set(main.list_commands(context))
    assert set(APP_COMMANDS) == in_the_app - set(main.commands) - set(LAZY_COMMANDS)
    assert APP_COMMANDS["db"] == app.cli.commands["db"].get_short_help_str(200)
    for name, command in app.cli.commands.items():  # ours are the very commands the app has
        if name not in APP_COMMANDS:
            assert main.get_command(context, name) is command


@pytest.mark.parametrize("args", [["jobs", "work", "--once"], ["notify", "send-due"], ["banks", "export", "x",
                                                                                       "--format", "gift"]])
def test_every_lms_command_on_an_empty_database_says_to_migrate(tmp_path, monkeypatch, args):
    """`lms` itself (the console script's group), so commands without their own check are covered too:
    `lms jobs work` is the app's command and has none."""
    from click.testing import CliRunner

    from lms.cli import main

    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "lms db upgrade" in result.output and "Traceback" not in result.output
    assert "no such table" not in result.output


def test_a_database_error_on_a_migrated_database_is_not_hidden(app, monkeypatch):
    """Only a missing or old schema becomes "run lms db upgrade"; any other database error stays itself."""
    import click
    from flask.cli import ScriptInfo
    from sqlalchemy.exc import OperationalError

    from lms.cli import _schema_missing

    with click.Context(click.Command("x"), obj=ScriptInfo(create_app=lambda: app)) as context:
        assert not _schema_missing(context, OperationalError("SELECT 1", {}, Exception("disk I/O error")))
        assert not _schema_missing(context, ValueError("not a database error"))
        monkeypatch.setattr("lms.cli.pending_migrations", lambda: {"0016"})  # the same database, behind
        assert _schema_missing(context, OperationalError("SELECT 1", {}, Exception("no such column")))


def test_served_workers_freeze_what_they_loaded_and_collect_less_often():
    """`lms serve` runs gunicorn with lms/gunicorn_config.py: once a worker has loaded the app, what
    it loaded is frozen out of the garbage collector's passes, and collections come less often."""
    import gc

    from lms import gunicorn_config
    from lms.cli import gunicorn_argv

    argv = gunicorn_argv("127.0.0.1", 5000, 3)
    assert argv[argv.index("--config") + 1] == "python:lms.gunicorn_config"
    threshold = gc.get_threshold()
    try:
        gunicorn_config.post_worker_init(worker=None)
        assert gc.get_threshold() == gunicorn_config.GC_THRESHOLD and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_serving_starts_with_the_planners_statistics(app, make_user, course_root):
    """SQLite gathers no statistics by itself; `lms serve` and `lms demo` run a sampled ANALYZE first
    (PostgreSQL's autovacuum does it there, so nothing is run)."""
    from lms.sqlite import refresh_statistics

    for n in range(3):
        make_user(employee_no=f"S{n:04d}")
    db.session.commit()
    if db.engine.dialect.name != "sqlite":
        assert refresh_statistics(db.engine) is False
        return
    assert refresh_statistics(db.engine) is True
    stats = db.session.execute(text("SELECT tbl, idx FROM sqlite_stat1")).all()
    assert ("users", "ix_users_mentor_id") in {tuple(row) for row in stats}, stats
    # and the demo setup, which serves next, ends with them
    db.session.execute(text("DELETE FROM sqlite_stat1"))
    db.session.commit()
    from tests.conftest import write_course

    write_course(course_root, "0-01-a", slug="a")
    demo = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert demo.exit_code == 0, demo.output
    assert db.session.scalar(text("SELECT count(*) FROM sqlite_stat1")) > 0
