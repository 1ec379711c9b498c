"""Customer evaluations imported into the record: parsing, row errors, corrections, completions."""
import io
from datetime import datetime, timezone

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from lms.certificates.services import certificate_status
from lms.content.spreadsheets import read_table
from lms.evaluations.services import (COLUMNS, ImportInvalid, import_evaluations, parse_month, parse_percent,
                                      template_csv, template_xlsx)
from lms.extensions import db
from lms.models import AuditEvent, Certificate, Course, RecordEntry
from tests.conftest import write_course

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def csv_table(text: str, encoding: str = "utf-8"):
    return read_table("evaluations.csv", text.encode(encoding))


def entries(kind: str = "evaluation") -> list[RecordEntry]:
    return list(db.session.scalars(select(RecordEntry).where(RecordEntry.kind == kind).order_by(RecordEntry.id)))


def entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RecordEntry))


def errors_of(text: str, actor) -> list[tuple[int, str]]:
    with pytest.raises(ImportInvalid) as caught:
        import_evaluations(csv_table(text), actor=actor, filename="e.csv", now=NOW)
    return [(error.row, error.message) for error in caught.value.errors]


@pytest.fixture
def trainer(make_user):
    return make_user(roles=("trainer",), employee_no="T0001")


@pytest.fixture
def agents(make_user):
    return make_user(employee_no="E1"), make_user(employee_no="E2")


@pytest.mark.parametrize("text, month", [
    ("2026-10", "2026-10"), ("2026/10", "2026-10"), ("2026-3", "2026-03"), ("2026-10-01", "2026-10"),
    ("2026/10/1", "2026-10"), ("2026年10月", "2026-10"), ("2026.10", "2026-10"),
    ("2026-13", None), ("10/2026", None), ("2026", None), ("", None), ("2026-10-01x", None),
])
def test_months_as_people_and_excel_write_them(text, month):
    assert parse_month(text) == month


@pytest.mark.parametrize("text, value", [
    ("92.5", 92.5), ("92.5%", 92.5), ("92.5 ％", 92.5), ("100", 100.0), ("0", 0.0), (".5", 0.5),
    ("abc", None), ("92,5", None), ("nan", None), ("", None),
])
def test_percentages_with_or_without_the_sign(text, value):
    assert parse_percent(text) == value


def test_each_row_becomes_an_evaluation_entry_for_its_month(app, trainer, agents):
    result = import_evaluations(csv_table(
        "employee_no,month,satisfaction,sample_size,comment\n"
        "E1,2026-10,92.5%,120,回访抽样\n"
        "E2,2026/10,85,,\n"), actor=trainer, filename="october.csv", now=NOW)

    assert result.created == [("E1", "2026-10"), ("E2", "2026-10")]
    assert result.corrected == [] and result.unchanged == []
    first, second = entries()
    assert (first.user_id, first.title, first.period) == (agents[0].id, "2026-10", "2026-10")
    assert (first.score, first.max_score, first.percent) == (92.5, 100.0, 92.5)
    assert first.passed is True and first.band == "excellent"
    assert first.details == {"sample_size": 120, "comment": "回访抽样", "source": "october.csv"}
    assert first.recorded_by_id == trainer.id
    assert first.occurred_at.replace(tzinfo=timezone.utc) == NOW
    assert first.corrects_id is None
    assert (second.score, second.passed, second.band) == (85.0, False, "needs_improvement")  # pass line 90
    assert second.details["sample_size"] is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evaluations.imported"))
    assert event.actor_id == trainer.id and event.subject_type == "import"
    assert event.details == {"file": "october.csv", "created": 2, "corrected": 0, "unchanged": 0}


@pytest.fixture
def pass_line_80(app):
    app.config["LMS_EVALUATION_PASS_PERCENT"] = 80.0
    yield
    app.config["LMS_EVALUATION_PASS_PERCENT"] = 90.0


def test_the_pass_line_comes_from_the_configuration(pass_line_80, trainer, agents):
    import_evaluations(csv_table("employee_no,month,satisfaction\nE1,2026-10,85\nE2,2026-10,79.9\n"),
                       actor=trainer, filename="e.csv", now=NOW)
    first, second = entries()
    assert first.passed is True and first.band == "good"
    assert second.passed is False


def test_gbk_csv_and_xlsx_with_a_date_cell_are_read(app, trainer, agents):
    import_evaluations(csv_table("employee_no,month,satisfaction,comment\nE1,2026-09,91,电话回访\n", "gbk"),
                       actor=trainer, filename="gbk.csv", now=NOW)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["employee_no", "month", "satisfaction", "sample_size"])
    sheet.append(["E2", datetime(2026, 10, 1), 95, 30.0])  # Excel: a date cell, numbers as floats
    buffer = io.BytesIO()
    workbook.save(buffer)
    import_evaluations(read_table("e.xlsx", buffer.getvalue()), actor=trainer, filename="e.xlsx", now=NOW)
    first, second = entries()
    assert first.details["comment"] == "电话回访" and first.period == "2026-09"
    assert (second.period, second.score, second.details["sample_size"]) == ("2026-10", 95.0, 30)


def test_every_problem_is_listed_by_row_and_nothing_is_written(app, trainer, agents):
    before = entry_count()
    problems = errors_of(
        "employee_no,month,satisfaction,sample_size\n"
        "E1,2026-10,92,\n"
        "NOBODY,2026-10,92,\n"
        "E2,october,92,\n"
        "E2,2026-12,92,\n"
        "E2,2026-09,100.5,\n"
        "E1,2026/10,80,\n"
        "E2,2026-08,-1,0\n"
        ",,,\n"
        ",2026-07,,\n", trainer)
    rows = dict((row, message) for row, message in problems)
    assert "NOBODY: no such account" in rows[3]
    assert "month october: use YYYY-MM" in rows[4]
    assert "month 2026-12 is in the future" in rows[5]
    assert "satisfaction 100.5: use a percentage from 0 to 100" in rows[6]
    assert "E1 already has month 2026-10 on row 2" in rows[7]
    assert [message for row, message in problems if row == 8] == [
        "satisfaction -1: use a percentage from 0 to 100, for example 92.5.",
        "sample_size 0: use a whole number of at least 1, or leave it blank."]
    assert [message for row, message in problems if row == 10] == [
        "employee_no is required.", "satisfaction is required."]
    assert 2 not in rows
    assert entry_count() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_the_current_month_is_not_future_where_the_center_is(app, trainer, agents):
    # 23:30 on 30 November UTC is already 1 December in Shanghai (the default time zone)
    late = datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc)
    import_evaluations(csv_table("employee_no,month,satisfaction\nE1,2026-12,92\n"), actor=trainer,
                       filename="e.csv", now=late)
    assert entries()[0].period == "2026-12"


def test_missing_columns_and_empty_files_are_refused(app, trainer, agents):
    assert errors_of("employee_no,satisfaction\nE1,92\n", trainer) == [
        (1, "Missing required column: 'month'.")]
    assert errors_of("employee_no,month,satisfaction,score\nE1,2026-10,92,1\n", trainer)[0][1].startswith(
        "Unknown column: 'score'.")
    assert errors_of("employee_no,month,satisfaction\n", trainer) == [(2, "The file has no rows below the header.")]


def test_a_reimport_changes_nothing_when_equal_and_corrects_when_different(app, trainer, agents, writes):
    import_evaluations(csv_table("employee_no,month,satisfaction,sample_size\nE1,2026-10,92.5,120\n"
                                 "E2,2026-10,88,\n"), actor=trainer, filename="first.csv", now=NOW)
    original = entries()[0]
    writes.clear()

    same = import_evaluations(csv_table("employee_no,month,satisfaction,sample_size\nE1,2026-10,92.50%,120\n"),
                              actor=trainer, filename="again.csv", now=NOW)
    assert same.unchanged == [("E1", "2026-10")] and same.created == same.corrected == []
    assert not [statement for statement in writes if "record_entries" in statement]
    assert len(entries()) == 2

    changed = import_evaluations(csv_table("employee_no,month,satisfaction,sample_size,comment\n"
                                           "E1,2026-10,95,120,复核\nE2,2026-10,88,,\nE2,2026-09,70,,\n"),
                                 actor=trainer, filename="fixed.csv", now=NOW)
    assert changed.corrected == [("E1", "2026-10")]
    assert changed.unchanged == [("E2", "2026-10")]
    assert changed.created == [("E2", "2026-09")]
    correction = entries()[-2]
    assert correction.corrects_id == original.id and correction.reason == "re-import"
    assert correction.recorded_by_id == trainer.id and correction.score == 95.0
    assert correction.details == {"sample_size": 120, "comment": "复核", "source": "fixed.csv"}
    assert db.session.get(RecordEntry, original.id).score == 92.5  # the original stays as it was
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [event.details["corrected"] for event in events] == [0, 0, 1]


@pytest.fixture
def evaluated_course(app, course_root, trainer):
    from lms.content.sync import sync_courses
    from lms.lessons.services import complete_lesson

    write_course(course_root, "0-01-s", slug="service", lessons=("only",), extra="customer_evaluation: 85\n")
    sync_courses(db.session, course_root, NOW)
    course = db.session.scalar(select(Course).where(Course.slug == "service"))
    return course, complete_lesson


def test_an_evaluation_completes_a_course_that_asks_for_one_and_a_correction_withdraws_it(
        evaluated_course, trainer, agents, frozen_now):
    frozen_now(NOW)
    course, complete_lesson = evaluated_course
    agent = agents[0]
    complete_lesson(agent, course.lessons[0])
    assert entries("course") == []  # no evaluation yet

    import_evaluations(csv_table("employee_no,month,satisfaction\nE1,2026-10,88\n"), actor=trainer,
                       filename="e.csv", now=NOW)
    [completion] = entries("course")
    assert completion.course_id == course.id and completion.passed
    evaluation = entries()[0]
    assert completion.details["evaluation_entry_id"] == evaluation.id
    certificate = db.session.scalar(select(Certificate).where(Certificate.record_entry_id == completion.id))
    assert certificate_status(certificate, NOW) == "valid"

    import_evaluations(csv_table("employee_no,month,satisfaction\nE1,2026-10,80\n"), actor=trainer,
                       filename="e.csv", now=NOW)
    undone = entries("course")[-1]
    assert undone.corrects_id == completion.id and undone.passed is False and undone.reason == "re-import"
    assert undone.recorded_by_id == trainer.id
    assert certificate_status(certificate, NOW) == "withdrawn"


def test_templates_hold_the_columns_and_explain_them(app):
    assert template_csv().decode("utf-8-sig").strip() == ",".join(COLUMNS)
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    assert [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)] == [tuple(COLUMNS)]
    help_rows = {row[0]: row[1] for row in workbook.worksheets[1].iter_rows(values_only=True) if row[0] in COLUMNS
                 and row[1] and row[1] != "month"}
    assert set(help_rows) == set(COLUMNS)
    assert "90%" in help_rows["satisfaction"]
    assert workbook.worksheets[0].column_dimensions["B"].number_format == "@"  # month typed stays text
