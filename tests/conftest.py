"""Fixtures shared by every test: a migrated database (SQLite, or PostgreSQL when
LMS_TEST_DATABASE_URL is set), the app, users, logins, a small course tree, a frozen clock."""
from __future__ import annotations

import itertools
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g

from lms import clock, create_app
from lms.extensions import db
from lms.models import User

def _share_url_builders() -> None:
    """Werkzeug compiles each URL rule's builder (ast + compile) for every new app: about 50 of the
    55 ms a create_app takes, and the suite makes an app per test (some 4,000 per database, minutes
    of CI). A builder depends only on the rule's text, parsed parts and defaults (it takes the rule
    as its first argument), so the tests' apps share one per rule. Production makes one app per process."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders: dict = {}

    def shared(self, append_unknown: bool = True):
        key = (self.rule, tuple(self._trace), repr(sorted((self.defaults or {}).items())), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared


def _share_compiled_templates() -> None:
    """Each app has its own Jinja environment and compiles every template it renders again: some
    15 % of a web test's time. Jinja's bytecode cache (keyed by template name and a checksum of its
    source, so an edited template is compiled afresh) is shared in memory by the tests' apps."""
    from flask import Flask
    from jinja2 import BytecodeCache

    class InMemory(BytecodeCache):
        def __init__(self):
            self.codes: dict[str, bytes] = {}

        def load_bytecode(self, bucket):
            if bucket.key in self.codes:
                bucket.bytecode_from_string(self.codes[bucket.key])

        def dump_bytecode(self, bucket):
            self.codes[bucket.key] = bucket.bytecode_to_string()

    shared = InMemory()
    create_environment = Flask.create_jinja_environment

    def with_shared_cache(self):
        environment = create_environment(self)
        environment.bytecode_cache = shared
        return environment

    Flask.create_jinja_environment = with_shared_cache


_share_url_builders()
_share_compiled_templates()

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """Migrated once per run with every Alembic revision; tests empty the tables after themselves."""
    url = os.environ.get("LMS_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    engine = sa.create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        db.engine.dispose()
    return url


def _empty_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    app = create_app({
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "LMS_COURSES_DIR": str(tmp_path / "courses"),
        "LMS_BANKS_DIR": str(tmp_path / "question_banks"),
        "LMS_MEDIA_CACHE_DIR": str(tmp_path / "media-cache"),
        **app_config,
    })


    # Requests in tests share the test's app context (and so `g` and the scoped session).
    # Make each request end as it would in production: uncommitted work is discarded, and the
    # next request loads the logged-in user and chooses the language afresh.
    @app.teardown_request
    def _end_request_like_production(exc):
        db.session.rollback()
        for name in list(g):
            g.pop(name)

    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
    clock.freeze(None)


@pytest.fixture(scope="session")
def _demo_copy(tmp_path_factory) -> dict:
    """Where the first demo build of the run was kept (SQLite), and its accounts."""
    return {"folder": tmp_path_factory.mktemp("demo")}


@pytest.fixture
def demo_database(app, _demo_copy) -> list:
    """The sample content synced and the demo accounts with their history, as `lms demo` writes them
    (the module's `app_config` points LMS_COURSES_DIR and LMS_BANKS_DIR at the samples); returns
    ensure_demo_accounts()'s accounts.

    A build takes seconds. On SQLite the first test's result is kept as a file and copied into the
    database of the next ones with SQLite's backup API (the same bytes, indexes and all); on
    PostgreSQL every test builds it."""
    from lms.content.sync import sync_content
    from lms.demo import ensure_demo_accounts

    database = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    kept = _demo_copy.get("path")
    if database and kept:
        db.session.remove()
        db.engine.dispose()
        _copy_sqlite(kept, database)
        return _demo_copy["accounts"]
    sync_content(db.session, app.config, clock.utcnow())
    accounts = ensure_demo_accounts()
    if database:
        db.session.commit()
        _demo_copy["path"] = str(_demo_copy["folder"] / "demo.sqlite3")
        _demo_copy["accounts"] = accounts
        _copy_sqlite(database, _demo_copy["path"])
    return accounts


def _copy_sqlite(source: str, target: str) -> None:
    import sqlite3

    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        origin.backup(copy)
    finally:
        origin.close()
        copy.close()


@pytest.fixture
def client(app):
    return app.test_client()


_numbers = itertools.count(1)


@pytest.fixture
def make_user(app):
    def make(roles=("agent",), star_level: int = 0, password: str = "password123", mentor: User | None = None,
             name: str | None = None, team: str = "热线一组", active: bool = True, **fields) -> User:
        number = next(_numbers)
        user = User(employee_no=fields.pop("employee_no", f"U{number:05d}"), name=name or f"测试员工{number}",
                    team=team, star_level=star_level, mentor=mentor, active=active, **fields)
        user.roles = set(roles)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(client):
    def login(user: User, password: str = "password123"):
        response = client.post("/login", data={"employee_no": user.employee_no, "password": password})
        assert response.status_code == 302, "login failed"
        return client

    return login


@pytest.fixture
def frozen_now():
    """Freeze lms.clock.utcnow(); call the returned function again to move the clock."""
    def freeze(moment: datetime = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)) -> datetime:
        clock.freeze(moment)
        return moment

    yield freeze
    clock.freeze(None)


def write_course(root: Path, folder: str, *, slug: str, level: int = 0, kind: str = "required",
                 track: str = "onboarding", prerequisites=(), lessons=("one", "two", "three"),
                 extra: str = "") -> Path:
    course = root / folder
    course.mkdir(parents=True, exist_ok=True)
    prereq = "[" + ", ".join(prerequisites) + "]"
    (course / "course.md").write_text(
        f"---\nslug: {slug}\ntitle: 课程 {slug}\nstar_level: {level}\nkind: {kind}\ntrack: {track}\n"
        f"summary: 关于 {slug} 的简介\nprerequisites: {prereq}\n{extra}---\n课程 {slug} 的介绍。\n",
        encoding="utf-8")
    for position, lesson in enumerate(lessons, start=1):
        (course / f"{position:02d}-{lesson}.md").write_text(
            f"---\ntitle: {slug} 第{position}课\nminutes: 3\n---\n## 要点\n\n{slug} 的第 {position} 课正文。\n",
            encoding="utf-8")
    return course


@pytest.fixture
def course_root(app) -> Path:
    root = Path(app.config["LMS_COURSES_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def catalog(app, course_root):
    """A small catalog: level 0 (two required, b needs a; one elective), level 1, level 2."""
    from lms.content.sync import sync_courses

    write_course(course_root, "0-01-a", slug="basics-a")
    write_course(course_root, "0-02-b", slug="basics-b", prerequisites=["basics-a"])
    write_course(course_root, "0-03-e", slug="elective-e", kind="elective", lessons=("only",))
    write_course(course_root, "1-01-c", slug="level-one", level=1, track="in-service")
    write_course(course_root, "2-01-r", slug="refresh", level=2, track="refresher", extra="valid_months: 12\n")
    sync_courses(db.session, course_root, clock.utcnow())
    return course_root


@pytest.fixture
def writes(app):
    """Every INSERT, UPDATE and DELETE the database receives while the test runs."""
    statements = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", record)


def sql_statements(action) -> list[str]:
    """The SQL statements `action()` sends to the database, whitespace folded to single spaces."""
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return statements


def count_queries(action) -> int:
    """How many SQL statements `action()` sends to the database."""
    return len(sql_statements(action))


def assert_access(response, role: str, allowed: set[str]) -> None:
    """The permission matrices' rule: anonymous goes to the login page, allowed roles get the
    page (or a redirect elsewhere than login), everyone else a 403."""
    if role == "anonymous":
        assert response.status_code == 302 and response.location.startswith("/login?next=")
    elif role in allowed:
        assert response.status_code in (200, 302), response.get_data(as_text=True)[:500]
        if response.status_code == 302:
            assert not response.location.startswith("/login")
    else:
        assert response.status_code == 403
