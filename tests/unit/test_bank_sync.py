"""Question banks into the database: `lms sync` (idempotent, versions on change, retire on removal,
all or nothing), `import_file` and the `lms banks` commands."""
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from lms.banks.services import apply_banks, import_file
from lms.config import PROJECT_ROOT
from lms.content.banks import load_bank_tree
from lms.content.errors import ContentInvalid
from lms.content.sync import IMPORTERS, sync_content
from lms.extensions import db
from lms.models import Question, QuestionBank, QuestionVersion

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

BANK = """\
slug: complaints
title: 投诉处理题库
description: 结业考试题库
questions:
  - id: ch-001
    type: single
    tags: [流程]
    stem: 客户第三次来电，坐席首先应该**做什么**？
    options:
      - {text: 道歉并复述问题, correct: true}
      - {text: 直接转接}
    explanation: 首问负责。
  - id: ch-002
    type: truefalse
    stem: 可以挂断。
    answer: false
  - id: ch-003
    type: essay
    points: 5
    stem: 论述。
    guidance: 要点
"""


@pytest.fixture
def app_config(tmp_path):
    return {"LMS_BANKS_DIR": str(tmp_path / "question_banks")}


@pytest.fixture
def bank_root(app, course_root) -> Path:
    root = Path(app.config["LMS_BANKS_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root



def sync(app, now=NOW) -> list[str]:
    return sync_content(db.session, app.config, now)


def question(key: str) -> Question:
    return db.session.scalar(select(Question).where(Question.key == key))


def versions(key: str) -> list[int]:
    return list(db.session.scalars(select(QuestionVersion.number).join(Question).where(Question.key == key)
                                   .order_by(QuestionVersion.number)))


def test_banks_are_imported_right_after_courses():
    names = [importer.name for importer in IMPORTERS]
    assert names.index("question banks") == names.index("courses") + 1


def test_first_sync_creates_and_second_writes_nothing(app, bank_root, writes):
    (bank_root / "complaints.yaml").write_text(BANK, encoding="utf-8")
    lines = sync(app)
    assert "question banks: 1 created, 0 updated, 0 unchanged, 0 retired (questions: 3 new" in "\n".join(lines)
    bank = db.session.scalar(select(QuestionBank))
    assert (bank.slug, bank.title, bank.description, bank.source_path) == (
        "complaints", "投诉处理题库", "结业考试题库", "question_banks/complaints.yaml")
    first = question("ch-001")
    assert (first.type, first.tags, first.version) == ("single", ["流程"], 1)
    assert first.current.stem_html == "<p>客户第三次来电，坐席首先应该<strong>做什么</strong>？</p>"
    assert first.current.explanation_html == "<p>首问负责。</p>"
    assert first.current.data["options"][0]["weight"] == 1.0
    assert question("ch-003").current.points == 5.0
    writes.clear()
    db.session.expire_all()
    again = sync(app, NOW + timedelta(hours=1))
    assert "question banks: 0 created, 0 updated, 1 unchanged" in "\n".join(again)
    assert writes == []


def test_changed_question_gets_a_new_version_and_unchanged_ones_nothing(app, bank_root):
    path = bank_root / "complaints.yaml"
    path.write_text(BANK, encoding="utf-8")
    sync(app)
    path.write_text(BANK.replace("可以挂断。", "可以先挂断再回拨。").replace("tags: [流程]", "tags: [流程, 首问]"),
                    encoding="utf-8")
    lines = sync(app, NOW + timedelta(days=1))
    assert "1 updated" in lines[1] and "0 new, 1 new version," in lines[1]
    db.session.expire_all()
    changed = question("ch-002")
    assert changed.version == 2 and versions("ch-002") == [1, 2]
    assert changed.current.stem == "可以先挂断再回拨。"
    assert changed.versions[0].stem == "可以挂断。"  # the old version stays for attempts that showed it
    assert versions("ch-001") == [1] and question("ch-001").tags == ["流程", "首问"]  # tags make no version
    assert versions("ch-003") == [1]


def test_removed_question_is_retired_and_comes_back(app, bank_root):
    path = bank_root / "complaints.yaml"
    path.write_text(BANK, encoding="utf-8")
    sync(app)
    without = BANK[:BANK.index("  - id: ch-002")] + BANK[BANK.index("  - id: ch-003"):]
    path.write_text(without, encoding="utf-8")
    lines = sync(app, NOW + timedelta(days=1))
    assert "1 retired)" in lines[1]
    db.session.expire_all()
    retired = question("ch-002")
    assert retired.retired_at == NOW + timedelta(days=1) and versions("ch-002") == [1]
    path.write_text(BANK, encoding="utf-8")
    sync(app, NOW + timedelta(days=2))
    db.session.expire_all()
    assert question("ch-002").retired_at is None and versions("ch-002") == [1]


def test_removed_bank_file_retires_the_bank(app, bank_root):
    (bank_root / "complaints.yaml").write_text(BANK, encoding="utf-8")
    sync(app)
    (bank_root / "complaints.yaml").unlink()
    lines = sync(app, NOW + timedelta(days=1))
    assert "1 retired (questions" in lines[1]
    bank = db.session.scalar(select(QuestionBank))
    assert bank.retired_at is not None
    assert db.session.scalar(select(func.count()).select_from(Question)) == 3


def test_one_bad_file_imports_nothing(app, bank_root):
    (bank_root / "a.yaml").write_text(BANK, encoding="utf-8")
    (bank_root / "b.yaml").write_text("slug: other\ntitle: t\nquestions:\n  - id: x\n    type: truefalse\n"
                                      "    stem: s\n    answer: maybe\n", encoding="utf-8")
    with pytest.raises(ContentInvalid) as caught:
        sync(app)
    assert [str(error) for error in caught.value.errors] == [
        "question_banks/b.yaml:7: the answer ('answer') must be true or false"]
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 0


def test_a_question_cannot_change_its_type(app, bank_root):
    path = bank_root / "complaints.yaml"
    path.write_text(BANK, encoding="utf-8")
    sync(app)
    path.write_text(BANK.replace("type: truefalse\n    stem: 可以挂断。\n    answer: false",
                                 "type: fill\n    stem: 可以挂断。\n    answers: [否]"), encoding="utf-8")
    with pytest.raises(ContentInvalid) as caught:
        sync(app)
    assert [str(error) for error in caught.value.errors] == [
        "question_banks/complaints.yaml:13: the question 'ch-002' is of the type True/false and cannot become Fill in the blank; "
        "give the new question another id"]
    db.session.expire_all()
    assert question("ch-002").type == "truefalse" and versions("ch-002") == [1]


def test_the_sample_banks_import_cleanly_and_idempotently(app, writes):
    root = PROJECT_ROOT / "question_banks"
    if not any(root.glob("*.yaml")):
        pytest.skip("no sample banks yet")
    specs, errors = load_bank_tree(root)
    assert [str(error) for error in errors] == []
    apply_banks(db.session, specs, NOW)
    db.session.commit()
    total = sum(len(spec.questions) for spec in specs)
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion)) == total
    writes.clear()
    apply_banks(db.session, specs, NOW)
    db.session.commit()
    assert writes == []


# --- import_file (the CLI and the browser's upload) -------------------------------------------------

GIFT = """\
$CATEGORY: $course$/top/投诉处理

// [id:ch-001]
::首问负责::客户第三次来电，坐席首先应该做什么？{=道歉并复述问题 ~直接转接}

::ch-009:: 投诉须在 ____ 小时内回访。{=24 =%50%48 =%0%一周}
"""


def test_import_adds_and_updates_and_never_retires(app, bank_root):
    (bank_root / "complaints.yaml").write_text(BANK, encoding="utf-8")
    sync(app)
    changes = import_file(GIFT.encode(), "投诉.gift", bank_slug="complaints", now=NOW)
    assert changes.counts()["new"] == 1 and changes.counts()["new version"] == 1
    assert [(w.line, "一周" in w.message) for w in changes.warnings] == [(6, True)]
    db.session.expire_all()
    added = db.session.scalar(select(Question).where(Question.key == changes.questions["new"][0]))
    assert added.title == "ch-009" and added.key.startswith("q-")  # a name is a label, not an id
    assert added.current.data == {"answers": ["24", "48"], "weights": [1.0, 0.5]}
    assert added.current.text_format == "moodle"
    assert versions("ch-001") == [1, 2]  # the id given explicitly: the GIFT stem makes a new version
    assert question("ch-001").tags == ["投诉处理"] and question("ch-001").title == "首问负责"
    assert question("ch-002").retired_at is None  # not in the file, but an import never retires
    bank = db.session.scalar(select(QuestionBank))
    assert bank.title == "投诉处理题库"  # a GIFT file does not rename the bank
    again = import_file(GIFT.encode(), "投诉.gift", bank_slug="complaints", now=NOW)
    assert not again.changed


def test_a_second_export_reusing_names_never_replaces_a_question(app):
    first = "::Q1::客户来电先做什么？{=问候 ~挂断}\n\n::服务用语 1::标准问候语？{=您好 ~喂}\n"
    second = "::Q1::投诉几小时内回访？{=24 ~72}\n\n::投诉处理 1::投诉先做什么？{=道歉 ~解释}\n"
    import_file(first.encode(), "a.gift", bank_slug="drill", now=NOW)
    changes = import_file(second.encode(), "b.gift", bank_slug="drill", now=NOW)
    assert changes.counts()["new"] == 2 and changes.counts()["new version"] == 0
    rows = db.session.execute(select(Question.title, Question.version)).all()
    assert sorted(rows) == [("Q1", 1), ("Q1", 1), ("投诉处理 1", 1), ("服务用语 1", 1)]


def test_import_into_a_new_bank_named_after_the_file(app):
    changes = import_file(GIFT.encode(), "/some/where/complaint-drill.gift", now=NOW)
    assert changes.bank_created and changes.slug == "complaint-drill"
    assert db.session.scalar(select(QuestionBank.title)) == "complaint-drill"


def test_bad_file_imports_nothing(app):
    with pytest.raises(ContentInvalid) as caught:
        import_file(b"Good?{T}\n\nBad?{=a ~b\n", "drill.gift", now=NOW)
    assert [str(error) for error in caught.value.errors] == [
        "drill.gift:3: the '{' on line 3 is never closed with '}'"]
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 0


@pytest.mark.parametrize("filename, data, fragment", [
    ("notes.docx", b"x", "unknown file type"),
    ("投诉.gift", b"A?{T}", "does not make a bank id"),
    ("new.gift", b"A?{T}", "is reserved"),
    ("empty.gift", b"// only a comment\n", "holds no questions"),
])
def test_import_needs_a_known_format_a_bank_and_questions(app, filename, data, fragment):
    with pytest.raises(ContentInvalid) as caught:
        import_file(data, filename, now=NOW)
    assert fragment in caught.value.errors[0].message


# --- lms banks import / export -------------------------------------------------------------------------

def test_cli_import_export_round_trip(app, tmp_path):
    runner = app.test_cli_runner()
    source = tmp_path / "complaints.yaml"
    source.write_text(BANK, encoding="utf-8")
    result = runner.invoke(args=["banks", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "complaints (new bank): 3 new" in result.output

    gift = tmp_path / "out.gift"
    result = runner.invoke(args=["banks", "export", "complaints", "--format", "gift", "-o", str(gift)])
    assert result.exit_code == 0, result.output
    assert "::ch-001::[markdown]" in gift.read_text(encoding="utf-8")
    result = runner.invoke(args=["banks", "import", str(gift), "--bank", "complaints"])
    assert result.exit_code == 0 and "0 new, 0 new versions, 0 updated, 0 restored, 3 unchanged" in result.output

    result = runner.invoke(args=["banks", "export", "complaints", "--format", "native"])
    assert result.exit_code == 0 and result.output.startswith("slug: complaints\ntitle: 投诉处理题库\n")
    copy = tmp_path / "copy.yaml"
    copy.write_text(result.output.replace("slug: complaints", "slug: complaints-copy"), encoding="utf-8")
    assert runner.invoke(args=["banks", "import", str(copy)]).exit_code == 0
    original = {q.key: q.current.content_hash for q in db.session.scalars(
        select(Question).join(QuestionBank).where(QuestionBank.slug == "complaints"))}
    copied = {q.key: q.current.content_hash for q in db.session.scalars(
        select(Question).join(QuestionBank).where(QuestionBank.slug == "complaints-copy"))}
    assert copied == original and len(copied) == 3


def test_cli_import_reports_every_problem_and_imports_nothing(app, tmp_path):
    bad = tmp_path / "drill.txt"
    bad.write_text("Question?\nA. one\nB. two\nANSWER: C\n\nNext?\nA. x\nANSWER: A\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["banks", "import", str(bad), "--bank", "drill"])
    assert result.exit_code == 1
    assert f"{bad}:4: ANSWER must be the letter of one of the options (A, B), not 'C'" in result.output
    assert f"{bad}:8: the question on line 6 needs at least two options" in result.output
    assert "2 problems; nothing was imported." in result.output
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 0


def test_cli_imports_a_spreadsheet_with_row_numbers_in_errors(app, tmp_path):
    workbook = Workbook()
    workbook.active.append(["id", "type", "stem", "correct"])
    workbook.active.append(["tf-1", "truefalse", "对吗？", "true"])
    workbook.active.append(["tf-2", "truefalse", "错吗？", "perhaps"])
    path = tmp_path / "drill.xlsx"
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["banks", "import", str(path), "--format", "xlsx"])
    assert result.exit_code == 1 and f"{path}:3: the right-answer mark ('correct') must be true or false" in result.output
    workbook.active["D3"] = "false"
    workbook.save(path)
    result = runner.invoke(args=["banks", "import", str(path)])
    assert result.exit_code == 0 and "drill (new bank): 2 new" in result.output


def test_cli_export_of_an_unknown_bank(app):
    result = app.test_cli_runner().invoke(args=["banks", "export", "nothing", "--format", "gift"])
    assert result.exit_code == 1 and "no bank 'nothing'" in result.output



def test_sync_check_validates_bank_files_and_writes_nothing(app, bank_root):
    (bank_root / "complaints.yaml").write_text(BANK, encoding="utf-8")
    (bank_root / "broken.yaml").write_text("slug: broken\ntitle: t\nquestions:\n  - id: a\n    type: essay\n",
                                           encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["sync", "--check"])
    assert result.exit_code == 1
    assert "question_banks/broken.yaml:4: the question text ('stem') must be given" in result.output
    (bank_root / "broken.yaml").unlink()
    result = app.test_cli_runner().invoke(args=["sync", "--check"])
    assert result.exit_code == 0 and "question banks: 1 valid" in result.output
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 0


@pytest.mark.parametrize("fmt, extension", [("moodlexml", "xml"), ("gift", "gift"), ("native", "yaml")])
def test_every_export_imports_back_unchanged(app, bank_root, fmt, extension):
    from lms.banks.services import export_bank

    (bank_root / "complaints.yaml").write_text(BANK, encoding="utf-8")
    sync(app)
    bank = db.session.scalar(select(QuestionBank))
    text, filename, _mimetype = export_bank(bank, fmt)
    assert filename == f"complaints.{extension}"
    again = import_file(text.encode("utf-8"), filename, bank_slug="complaints", now=NOW)
    assert again.counts()["unchanged"] == 3 and not again.changed
