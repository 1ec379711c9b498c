"""Every Alembic revision applied to an empty database gives exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lms.extensions import db


def test_migrations_match_the_models(app):
    # the session-wide database was built by `upgrade` from empty, not by create_all
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_one_head():
    from alembic.script import ScriptDirectory
    from alembic.config import Config

    from lms import PACKAGE_DIR

    config = Config(str(PACKAGE_DIR / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
