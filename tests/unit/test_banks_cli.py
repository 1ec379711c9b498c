"""`lms banks import FILE...`: several files checked first, then imported all or nothing in one
commit; and `lms --help` answering without SQLAlchemy or the app."""
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import event, func, select

from lms.banks.services import import_file
from lms.cli import main
from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.models import AuditEvent, Question, QuestionBank

GOOD_A = "::a-1:: 客户来电先做什么？{=道歉 ~转接}\n\n::a-2:: 可以挂断。{F}\n"
GOOD_B = "::b-1:: 回访时限是几小时？{=24}\n"
BAD = "Good?{T}\n\nBad?{=a ~b\n\n::x:: Also bad {=}\n"


def invoke(app, *args):
    """Through the `lms` group itself (its lazy loading of `banks`), on the test's app."""
    return app.test_cli_runner().invoke(main, args=list(args))


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def questions(slug=None) -> int:
    query = select(func.count()).select_from(Question)
    if slug is not None:
        query = query.join(QuestionBank).where(QuestionBank.slug == slug)
    return db.session.scalar(query)


def banks() -> list[str]:
    return list(db.session.scalars(select(QuestionBank.slug).order_by(QuestionBank.slug)))


@pytest.fixture
def commits(app):
    """How many times the session commits while the test runs."""
    seen = []
    listener = lambda session: seen.append(session)  # noqa: E731
    event.listen(db.session, "after_commit", listener)
    yield seen
    event.remove(db.session, "after_commit", listener)


def test_two_files_go_into_two_banks_in_one_commit(app, tmp_path, commits):
    first, second = write(tmp_path, "complaints.gift", GOOD_A), write(tmp_path, "callbacks.gift", GOOD_B)
    result = invoke(app, "banks", "import", first, second)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "complaints (new bank): 2 new, 0 new versions, 0 updated, 0 restored, 0 unchanged.",
        "callbacks (new bank): 1 new, 0 new versions, 0 updated, 0 restored, 0 unchanged.",
        "2 files into 2 banks: 3 new, 0 new versions, 0 updated, 0 restored, 0 unchanged."]
    assert len(commits) == 1
    assert banks() == ["callbacks", "complaints"]
    assert (questions("complaints"), questions("callbacks")) == (2, 1)
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "bank.imported")).all()
    assert sorted(event.details["file"] for event in audited) == ["callbacks.gift", "complaints.gift"]


def test_one_bad_file_among_three_imports_nothing_and_names_every_problem(app, tmp_path):
    import_file(GOOD_B.encode(), "callbacks.gift")
    before = questions()
    good = write(tmp_path, "complaints.gift", GOOD_A)
    bad = write(tmp_path, "drill.gift", BAD)
    unknown = write(tmp_path, "notes.docx", "x")
    result = invoke(app, "banks", "import", good, bad, unknown)
    assert result.exit_code == 1
    assert f"{bad}:3: the '{{' on line 3 is never closed with '}}'" in result.output
    assert f"{unknown}:1: unknown file type" in result.output
    problems = [line for line in result.output.splitlines() if line.startswith(str(tmp_path))]
    assert len(problems) >= 3 and all(line.startswith((f"{bad}:", f"{unknown}:")) for line in problems)
    assert f"{len(problems)} problems in 2 files; nothing was imported." in result.output
    assert questions() == before and banks() == ["callbacks"]


def test_problems_name_each_file_as_it_was_given(app, tmp_path, monkeypatch):
    """Two files of one name in two folders: the message says which one is wrong."""
    write(tmp_path, "one/drill.gift", GOOD_B)
    write(tmp_path, "two/drill.gift", BAD)
    monkeypatch.chdir(tmp_path)
    result = invoke(app, "banks", "import", "one/drill.gift", "./two/drill.gift", "--bank", "drill")
    assert result.exit_code == 1
    assert "./two/drill.gift:3: the '{' on line 3 is never closed" in result.output
    assert "one/drill.gift:" not in result.output
    assert questions() == 0


def test_a_problem_found_while_writing_rolls_back_every_file(app, tmp_path):
    """The second file turns a true/false question into a choice: found only when writing it, after
    the first file was written; neither stays."""
    import_file(b"// [id:q-1]\nTrue?{T}\n", "existing.gift")
    before = questions()
    fresh = write(tmp_path, "fresh.gift", GOOD_A)
    conflict = write(tmp_path, "existing.gift", "// [id:q-1]\nWhich?{=a ~b}\n\nNew?{T}\n")
    result = invoke(app, "banks", "import", fresh, conflict)
    assert result.exit_code == 1
    assert f"{conflict}:2: the question 'q-1' is of the type True/false and cannot become Single choice" in result.output
    assert f"{fresh}:" not in result.output
    assert "1 problem in 1 file; nothing was imported." in result.output
    db.session.expire_all()
    assert banks() == ["existing"] and questions() == before == 1


def test_bank_option_puts_every_file_into_one_bank(app, tmp_path):
    first, second = write(tmp_path, "complaints.gift", GOOD_A), write(tmp_path, "callbacks.gift", GOOD_B)
    result = invoke(app, "banks", "import", first, second, "--bank", "hotline")
    assert result.exit_code == 0, result.output
    assert "hotline (new bank): 2 new" in result.output and "hotline: 1 new" in result.output
    assert "2 files into 1 bank: 3 new" in result.output
    assert banks() == ["hotline"] and questions("hotline") == 3


def test_the_same_question_in_two_files_of_one_bank(app, tmp_path):
    """The later file wins, as two runs would: one new version, read afresh between the files."""
    first = write(tmp_path, "a.gift", "// [id:k-1]\nOld?{T}\n")
    second = write(tmp_path, "b.gift", "// [id:k-1]\nNew?{T}\n")
    third = write(tmp_path, "c.gift", "// [id:k-1]\nOld?{T}\n")
    result = invoke(app, "banks", "import", first, second, third, "--bank", "same")
    assert result.exit_code == 0, result.output
    assert [line.split(":", 1)[1].strip() for line in result.output.splitlines()[:3]] == [
        "1 new, 0 new versions, 0 updated, 0 restored, 0 unchanged.",
        "0 new, 1 new version, 0 updated, 0 restored, 0 unchanged.",
        "0 new, 1 new version, 0 updated, 0 restored, 0 unchanged."]
    question = db.session.scalar(select(Question).where(Question.key == "k-1"))
    assert question.version == 3 and question.current.stem.startswith("Old")


def test_warnings_are_printed_with_the_file_and_line(app, tmp_path):
    warned = write(tmp_path, "hours.gift", "::h-1:: Hours?{=24 =%0%48}\n")
    plain = write(tmp_path, "callbacks.gift", GOOD_B)
    result = invoke(app, "banks", "import", plain, warned)
    assert result.exit_code == 0, result.output
    assert f"{warned}:1: warning: the answer '48' is worth 0%" in result.output
    assert f"{plain}:" not in result.output
    assert questions() == 2


def test_one_file_reports_as_before(app, tmp_path):
    bad = write(tmp_path, "drill.gift", BAD)
    result = invoke(app, "banks", "import", bad)
    assert result.exit_code == 1 and "problems; nothing was imported." in result.output
    assert " in 1 file" not in result.output
    good = write(tmp_path, "complaints.gift", GOOD_A)
    result = invoke(app, "banks", "import", good)
    assert result.output == "complaints (new bank): 2 new, 0 new versions, 0 updated, 0 restored, 0 unchanged.\n"


def test_format_choices_are_the_importers(app, tmp_path, monkeypatch):
    """--format accepts whatever lms/banks/services.py can import, and nothing else."""
    from lms.banks import services

    monkeypatch.setitem(services.IMPORT_FORMATS, "newfmt", services.IMPORT_FORMATS["gift"])
    path = write(tmp_path, "drill.dat", GOOD_B)
    result = invoke(app, "banks", "import", path, "--format", "newfmt")
    assert result.exit_code == 0 and "drill (new bank): 1 new" in result.output
    result = invoke(app, "banks", "import", path, "--format", "docx")
    assert result.exit_code == 2 and "'docx' is not one of" in result.output and "'newfmt'" in result.output


def test_no_file_is_a_usage_error(app):
    result = invoke(app, "banks", "import")
    assert result.exit_code == 2 and "Missing argument" in result.output


HEAVY = ("sqlalchemy", "flask_sqlalchemy", "flask_migrate", "markdown", "bleach", "openpyxl", "lms.extensions",
         "lms.models", "lms.banks.services")


@pytest.mark.parametrize("args", [["--help"], ["banks", "--help"], ["records", "--help"], ["exams", "--help"]])
def test_help_imports_neither_sqlalchemy_nor_the_app(args):
    """What keeps `lms --help` fast (benchmarks/cli_startup.py): checked by what is imported, not by time."""
    script = textwrap.dedent(f"""
        import sys
        from lms.cli import main
        try:
            main({args!r}, prog_name="lms")
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
        loaded = [name for name in sys.modules if name.split(".")[0] in {HEAVY!r} or name in {HEAVY!r}]
        print("LOADED", loaded)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout.splitlines()[-1]
    if args == ["--help"]:
        for name in ("banks", "db", "demo", "exams", "jobs", "records", "run", "shell", "sync", "user", "users"):
            assert f"\n  {name} " in result.stdout
