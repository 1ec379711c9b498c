"""Every Alembic revision applied to an empty database gives exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lms.extensions import db
from lms.models.search import include_object


def test_migrations_match_the_models(app):
    # the session-wide database was built by `upgrade` from empty, not by create_all
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_object": include_object})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_one_head():
    from alembic.script import ScriptDirectory
    from alembic.config import Config

    from lms import PACKAGE_DIR

    config = Config(str(PACKAGE_DIR / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_an_installation_with_data_upgrades_and_downgrades(tmp_path):
    """Upgrading a database that holds accounts and results (foreign keys to `users` on, as the app
    runs SQLite) must not rebuild a referenced table: the round trip 0009 -> head -> 0009 -> head
    keeps every row."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from lms import create_app
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}"})
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="0009_question_titles")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO users (id, employee_no, name, team, star_level, active, password_hash, session_version,"
                " created_at) VALUES (1, 'E1', '张三', '一组', 1, 1, 'x', 1, '2026-01-01 00:00:00')"))
            connection.execute(sa.text(
                "INSERT INTO record_entries (user_id, kind, title, occurred_at, reason, details, created_at)"
                " VALUES (1, 'exam', '考试', '2026-01-02 00:00:00', '', '{}', '2026-01-02 00:00:00')"))
        for step in ("heads", "0009_question_titles", "heads"):
            (upgrade if step == "heads" else downgrade)(directory=directory, revision=step)
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM record_entries WHERE user_id = 1")).scalar() == 1
            assert connection.execute(sa.text("SELECT name FROM users")).scalars().all() == ["张三"]
        db.engine.dispose()
