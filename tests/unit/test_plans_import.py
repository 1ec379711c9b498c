"""Assignments from CSV/XLSX: all or nothing, every error names its row and column."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from lms.content.spreadsheets import ImportInvalid, read_table
from lms.extensions import db
from lms.models.notifications import Notification
from lms.models.plans import Assignment
from lms.plans import imports, services

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
HEADER = "target_kind,target,item_kind,item,starts_on,due_on,month\n"


@pytest.fixture
def setup(catalog, make_user):
    trainer = make_user(roles=("trainer",))
    agent = make_user(team="热线一组", employee_no="E1001")
    make_user(team="热线二组", employee_no="E1003", star_level=2)
    plan = services.create_plan(trainer, name="2027 年度培训计划", description="", now=NOW)
    cohort = services.create_cohort(trainer, name="2026-11 新员工入职批次", description="", now=NOW)
    services.add_members(trainer, cohort, "E1001", NOW)
    return trainer, plan, agent


def table(text: str, name: str = "a.csv"):
    return read_table(name, text.encode("utf-8"), max_rows=imports.MAX_ROWS)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_every_target_kind_imports_in_one_go(setup):
    trainer, plan, agent = setup
    created = imports.import_assignments(trainer, plan, table(
        HEADER
        + "agent,E1001,course,basics-a,2027-01-04,2027-01-29,\n"
        + "TEAM,热线二组,course,level-one,2027/2/1,2027/2/26,2027-02\n"
        + "level,2,course,refresh,2027-03-01,2027-03-31,\n"
        + "cohort,2026-11 新员工入职批次,course,basics-b,2027-01-04,2027-01-15,2027-01\n"), NOW)
    assert [(a.target_kind, a.month) for a in created] == [
        ("agent", "2027-01"), ("team", "2027-02"), ("level", "2027-03"), ("cohort", "2027-01")]
    assert created[1].starts_on == date(2027, 2, 1)
    # E1001 twice (agent, cohort), E1003 twice (team, level)
    assert count(Notification) == 4


def test_errors_name_row_and_column_and_nothing_is_written(setup):
    trainer, plan, agent = setup
    with pytest.raises(ImportInvalid) as caught:
        imports.import_assignments(trainer, plan, table(
            HEADER
            + "agent,E1001,course,basics-a,2027-01-04,2027-01-29,\n"
            + "agent,NOPE,course,basics-a,2027-01-04,2027-01-29,\n"
            + "team,热线九组,exam,no-such-exam,2027-01-04,2027-01-29,\n"
            + "level,7,course,basics-a,2027-02-30,2027-01-29,2027-1\n"
            + "squad,x,lesson,basics-a,2027-01-05,2027-01-04,\n"
            + ",,,,,,\n"  # an empty row is skipped, later rows keep their numbers
            + "cohort,无此批次,course,basics-a,2027-01-05,2027-01-04,\n"), NOW)
    messages = [(error.row, error.message) for error in caught.value.errors]
    rows = {row for row, _message in messages}
    assert rows == {3, 4, 5, 6, 8}
    text = "\n".join(f"{row}: {message}" for row, message in messages)
    for expected in ("3: target NOPE", "4: target 热线九组", "4: item no-such-exam", "5: target 7",
                     "5: starts_on 2027-02-30", "5: month 2027-1", "6: target_kind squad", "6: item_kind lesson",
                     "6: due_on 2027-01-04 is before starts_on", "8: target 无此批次"):
        assert expected in text, text
    assert count(Assignment) == 0 and count(Notification) == 0


def test_header_problems(setup):
    trainer, plan, agent = setup
    with pytest.raises(ImportInvalid) as caught:
        imports.import_assignments(trainer, plan, table("target,item,extra\nE1001,basics-a,x\n"), NOW)
    messages = " ".join(str(error.message) for error in caught.value.errors)
    assert {error.row for error in caught.value.errors} == {1}
    assert "target_kind" in messages and "extra" in messages
    with pytest.raises(ImportInvalid) as caught:
        imports.import_assignments(trainer, plan, table(HEADER), NOW)
    assert caught.value.errors[0].row == 2


def test_xlsx_with_real_dates(setup):
    from openpyxl import Workbook

    trainer, plan, agent = setup
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(imports.COLUMNS)
    sheet.append(["agent", "E1001", "course", "basics-a", datetime(2027, 1, 4), datetime(2027, 1, 29), None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    created = imports.import_assignments(trainer, plan, read_table("a.xlsx", buffer.getvalue()), NOW)
    assert created[0].due_on == date(2027, 1, 29) and created[0].month == "2027-01"


def test_archived_plan_refuses_an_import(setup):
    trainer, plan, agent = setup
    services.update_plan(trainer, plan, name=plan.name, description="", archived=True, now=NOW)
    with pytest.raises(services.PlanInvalid):
        imports.import_assignments(trainer, plan, table(HEADER + "agent,E1001,course,basics-a,2027-01-04,"
                                                                 "2027-01-29,\n"), NOW)


def test_templates_hold_the_columns(app):
    assert imports.template_csv().decode("utf-8-sig").strip() == ",".join(imports.COLUMNS)
    assert imports.template_xlsx()[:2] == b"PK"
