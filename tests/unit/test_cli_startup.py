"""What keeps `lms --help` and `lms sync --check` short (issue 14, item 5), checked by what they import
and what they read, not by time (benchmarks/cli_startup.py prints the times).

`lms --help` lists every command without building the app or importing a command's heavy modules,
nor the modules of other packages' Flask commands (entry points). `lms sync --check` parses every
content folder with the settings from the environment: no app, no SQLAlchemy, no models, no
migrations, no Markdown renderer; it falls back to the app (and its database) only when the content
has problems, so a pool naming a bank made in the browser is still accepted.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from lms.cli import LAZY_COMMANDS, main
from lms.config import PROJECT_ROOT
from tests.conftest import write_course

# Never needed to list commands or to check content files.
HEAVY = ("sqlalchemy", "flask_sqlalchemy", "flask_migrate", "alembic", "markdown", "bleach", "openpyxl",
         "lms.extensions", "lms.models", "lms.rendering", "lms.search.index", "lms.practicals.services",
         "lms.practicals.scripts", "lms.banks.services", "lms.banks.staging", "flask_wtf", "wtforms")
HELP_ONLY_HEAVY = ("PIL", "mutagen", "yaml", "frontmatter", "defusedxml", "flask_limiter")


def run_lms(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `lms ARGS` in a fresh interpreter; the result and the modules it ended with."""
    script = textwrap.dedent(f"""
        import sys
        from lms.cli import main
        try:
            main({args!r}, prog_name="lms")
        except SystemExit as exit:
            code = exit.code
        else:
            code = 0
        print("MODULES", ",".join(sorted(sys.modules)))
        sys.exit(code)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=120, env={**os.environ, **(env or {})})
    lines = [line for line in result.stdout.splitlines() if line.startswith("MODULES ")]
    return result, lines[-1].removeprefix("MODULES ").split(",") if lines else []


def heavy(modules: list[str], names) -> list[str]:
    return [name for name in modules if any(name == heavy or name.startswith(heavy + ".") for heavy in names)]


@pytest.mark.parametrize("args", [["--help"], ["sync", "--help"], ["user", "--help"]]
                         + [[name, "--help"] for name in LAZY_COMMANDS])
def test_help_imports_nothing_heavy(args):
    result, modules = run_lms(args)
    assert result.returncode == 0, result.stderr
    assert modules, result.stdout
    assert heavy(modules, HEAVY + HELP_ONLY_HEAVY) == []


def test_help_lists_the_commands_of_installed_packages_without_importing_them(monkeypatch):
    """An entry-point command (Flask-Limiter's `limiter`, say) shows its package's name in the list;
    its module is imported only when it is asked for."""
    from importlib import metadata

    from lms import cli

    class FakeEntryPoint:
        name, module, dist = "fakeplugin", "fake_plugin_package.commands", None

        def load(self):  # pragma: no cover - must not be called by --help
            raise AssertionError("--help imported a plugin")

    real = metadata.entry_points
    monkeypatch.setattr(metadata, "entry_points",
                        lambda **kw: [FakeEntryPoint()] if kw.get("group") == "flask.commands" else real(**kw))
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "fakeplugin  Command of the installed package fake_plugin_package." in result.output


def test_sync_check_of_the_sample_content_builds_no_app_and_touches_no_database(tmp_path):
    database = tmp_path / "never.sqlite3"
    result, modules = run_lms(["sync", "--check"], {
        "LMS_INSTANCE_PATH": str(tmp_path / "instance"), "LMS_DATABASE_URL": f"sqlite:///{database}",
        "LMS_SECRET_KEY": "test"})
    assert result.returncode == 0, result.stdout + result.stderr
    for kind in ("courses", "question banks", "scenarios", "star ladder", "exams"):
        assert f"\n{kind}: " in "\n" + result.stdout
    assert "courses: 24 valid" in result.stdout
    # Valid content shows no message, so Flask-Babel (with Babel's dates and zones) is not imported.
    assert heavy(modules, HEAVY + ("flask_babel", "babel")) == []
    assert "yaml" in modules and "lms.content.errors" in modules  # it did parse (YAML, messages made)
    assert not database.exists() and not (tmp_path / "instance").exists()


@pytest.fixture
def content(tmp_path, monkeypatch):
    """Course and bank folders of one's own, given to `lms` through the environment."""
    courses, banks = tmp_path / "content" / "courses", tmp_path / "content" / "question_banks"
    courses.mkdir(parents=True)
    banks.mkdir(parents=True)
    monkeypatch.setenv("LMS_COURSES_DIR", str(courses))
    monkeypatch.setenv("LMS_BANKS_DIR", str(banks))
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LMS_SECRET_KEY", "test")
    return courses, banks


def test_sync_check_reports_problems_with_their_lines(content, tmp_path, monkeypatch):
    courses, _banks = content
    write_course(courses, "0-01-a", slug="basics-a")
    (courses / "0-01-a" / "01-one.md").write_text("---\ntitle: [unclosed\n---\n正文\n", encoding="utf-8")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = CliRunner().invoke(main, ["sync", "--check"])  # output holds stderr too (click 8.2)
    assert result.exit_code == 1
    output = result.output
    assert "courses/0-01-a/01-one.md:3: front matter is not valid YAML" in output
    assert "1 problem; nothing was imported." in output


@pytest.fixture
def browser_bank(database_url):
    """A bank that only the database holds (made in the browser); no app context stays pushed."""
    from lms import create_app
    from tests.conftest import TEST_CONFIG, _empty_tables
    from tests.exam_support import make_bank

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        make_bank("browser-bank", per_type=2, types=("single",))
    yield
    with app.app_context():
        _empty_tables()


def test_sync_check_accepts_a_pool_naming_a_bank_made_in_the_browser(browser_bank, database_url, content,
                                                                      monkeypatch):
    """The files alone do not know that bank: the check then asks the app's database, as before."""
    courses, _banks = content
    course = write_course(courses, "0-01-a", slug="basics-a")
    (course / "exam.yaml").write_text(
        "slug: basics-a-final\ntitle: 结业考试\ntime_limit_minutes: 10\npass_percent: 60\n"
        "pools:\n  - bank: browser-bank\n    count: 2\n", encoding="utf-8")
    monkeypatch.setenv("LMS_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["sync", "--check"])
    assert result.exit_code == 0, result.output
    assert "exams: 1 valid" in result.output
    (course / "exam.yaml").write_text((course / "exam.yaml").read_text().replace("browser-bank", "no-such-bank"))
    result = CliRunner().invoke(main, ["sync", "--check"])
    assert result.exit_code == 1 and "no-such-bank" in result.output


def test_a_sync_parses_the_banks_once(monkeypatch):
    """The exams importer reuses the banks the run has just parsed (it parsed them twice before)."""
    from lms.clock import utcnow
    from lms.content import banks, sync

    calls = []
    real = banks.load_bank_tree
    monkeypatch.setattr(banks, "load_bank_tree", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    config = {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}
    lines = sync.sync_content(None, config, utcnow(), check_only=True)
    assert "exams: 18 valid" in lines and len(calls) == 1
    assert sync.parsed_in_this_run("question banks") is None  # nothing kept once the run is over
