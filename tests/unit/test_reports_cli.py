"""`lms reports export NAME ...` and `lms reports list` on a small database: the system's view
(viewer None), the first table or --table, CSV to standard output, XLSX to a file (cell by cell),
and clear errors with exit 1 for an unknown report, table or period."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from lms.extensions import db
from lms.records.services import audit as write_audit
from lms.reports.cli import REPORT_MODULES, load_reports, reports
from lms.reports.tables import Column, ReportTable, REPORTS, report

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(reports, args=list(args))

    return invoke


@pytest.fixture
def log(make_user, frozen_now):
    frozen_now(NOW)
    admin = make_user(roles=("admin",), employee_no="A0001", name="王敏")
    agent = make_user(employee_no="E1001", name="张晓")
    write_audit(admin, "star.promotion", "user", agent.id, from_level=0, to_level=1).created_at = NOW
    write_audit(admin, "practical.signed", "practical", 4, agent_id=agent.id).created_at = NOW - timedelta(days=31)
    write_audit(None, "auth.locked_out", "login", 0, employee_no="X").created_at = NOW - timedelta(days=400)
    db.session.commit()
    return {"admin": admin, "agent": agent}


@pytest.fixture
def probe():
    """A report of two tables registered for the test (and removed after it), recording its call."""
    calls = []

    @report("probe-report")
    def build(viewer, period, filters, now, **options):
        calls.append({"viewer": viewer, "period": period, "filters": filters, "now": now, **options})
        columns = [Column("team", "Team"), Column("agents", "Agents", "int"), Column("rate", "Pass rate", "percent")]
        return [ReportTable("probe-first", "First", columns, [{"team": "热线一组", "agents": 12, "rate": 83.333},
                                                               {"team": "热线二组", "agents": 0, "rate": None}]),
                ReportTable("probe-second", "Second", [Column("x", "X")], [{"x": "only"}])]

    yield calls
    REPORTS.pop("probe-report", None)


def test_the_command_is_known_to_lms():
    from lms.cli import LAZY_COMMANDS

    module, attribute = LAZY_COMMANDS["reports"].split(":")
    assert getattr(__import__(module, fromlist=[attribute]), attribute) is reports


def test_list_names_the_registered_reports(run, probe):
    result = run("list")
    assert result.exit_code == 0, result.output
    names = result.output.split()
    assert "audit" in names and "probe-report" in names and names == sorted(names)


def test_export_runs_as_the_system_with_the_filters(run, probe, frozen_now):
    frozen_now(NOW)
    result = run("export", "probe-report", "--period", "2026-01..2026-06", "--team", "热线一组", "--level", "2",
                 "--track", "onboarding", "--course", "basics-a", "--arg", "exam=greeting", "--format", "csv")
    assert result.exit_code == 0, result.output
    (call,) = probe
    assert call["viewer"] is None and call["now"] == NOW and call["exam"] == "greeting"
    assert call["period"].months == ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")
    assert (call["filters"].team, call["filters"].level, call["filters"].track, call["filters"].course_slug) == (
        "热线一组", 2, "onboarding", "basics-a")
    rows = list(csv.reader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert rows == [["Team", "Agents", "Pass rate"], ["热线一组", "12", "83.3"], ["热线二组", "0", ""]]


def test_default_period_is_the_last_twelve_months(run, probe, frozen_now):
    frozen_now(NOW)
    assert run("export", "probe-report", "--format", "csv").exit_code == 0
    assert probe[0]["period"].months[0] == "2025-12" and probe[0]["period"].months[-1] == "2026-11"
    assert probe[0]["filters"].team is None and probe[0]["filters"].level is None


def test_xlsx_to_a_file_cell_by_cell_and_another_table(run, probe, tmp_path):
    target = tmp_path / "first.xlsx"
    result = run("export", "probe-report", "--period", "2026", "--format", "xlsx", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "Wrote 2 rows of probe-first (2026)" in result.output
    sheet = load_workbook(target).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["Team", "Agents", "Pass rate"], ["热线一组", 12, 83.3], ["热线二组", 0, None]]
    assert sheet.title == "probe-first" and sheet["B2"].data_type == "n"
    second = tmp_path / "second.csv"
    assert run("export", "probe-report", "--period", "2026", "--table", "probe-second", "--format", "csv",
               "-o", str(second)).exit_code == 0
    assert second.read_bytes().decode("utf-8-sig").splitlines() == ["X", "only"]


@pytest.mark.parametrize("args,message", [
    (["export", "no-such-report", "--format", "csv"], "unknown report 'no-such-report'; known reports: "),
    (["export", "probe-report", "--period", "2026-13", "--format", "csv"], "not a period: '2026-13'"),
    (["export", "probe-report", "--period", "2026-06..2026-01", "--format", "csv"], "not a period"),
    (["export", "probe-report", "--table", "nope", "--format", "csv"], "its tables: probe-first, probe-second"),
    (["export", "audit", "--arg", "person=NOBODY", "--format", "csv"], "PersonNotFound"),
    (["export", "audit", "--arg", "colour=red", "--format", "csv"], "does not take colour"),
])
def test_errors_exit_1_with_a_clear_message(run, probe, log, args, message):
    result = run(*args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output
    if "unknown report" in message:
        assert "audit" in result.output and "probe-report" in result.output


@pytest.mark.parametrize("args", [
    ["export", "probe-report", "--format", "xlsx"],  # binary: needs -o
    ["export", "probe-report", "--format", "pdf"],
    ["export", "probe-report", "--level", "9", "--format", "csv"],
    ["export", "probe-report", "--arg", "novalue", "--format", "csv"],
])
def test_usage_errors_exit_2(run, probe, args):
    result = run(*args)
    assert result.exit_code == 2 and "Error" in result.output and not probe


def test_the_audit_log_from_the_command_line(run, log, tmp_path):
    result = run("export", "audit", "--period", "2026-01..2026-11", "--arg", "person=E1001", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert [row[3] for row in rows[1:]] == ["star.promotion", "practical.signed"]  # newest first, 2025 left out
    assert rows[1][:3] == ["2026-11-23 17:00:00", "A0001", "王敏"] and rows[1][7:9] == ["E1001", "张晓"]
    target = tmp_path / "audit.xlsx"
    assert run("export", "audit", "--period", "2025-01..2026-12", "--arg", "kind=auth.", "--format", "xlsx",
               "-o", str(target)).exit_code == 0
    values = [[cell.value for cell in row] for row in load_workbook(target).active.iter_rows()]
    assert len(values) == 2 and values[1][3] == "auth.locked_out" and values[1][8] is None


def test_report_modules_not_written_yet_are_skipped(monkeypatch):
    import lms.reports.cli as cli

    monkeypatch.setattr(cli, "REPORT_MODULES", REPORT_MODULES + ("lms.reports.not_written_yet",))
    assert "audit" in cli.load_reports()


def test_a_report_module_that_fails_to_import_is_an_error(monkeypatch, tmp_path):
    import sys

    import lms.reports.cli as cli

    (tmp_path / "broken_report_module.py").write_text("import no_such_dependency_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "REPORT_MODULES", ("broken_report_module",))
    with pytest.raises(ModuleNotFoundError):
        cli.load_reports()
    sys.modules.pop("broken_report_module", None)


@pytest.mark.parametrize("name", sorted(load_reports()))
def test_every_report_exports_as_the_system(run, log, frozen_now, name):
    """Each registered builder takes viewer None (the command line) as full access."""
    frozen_now(NOW)
    result = run("export", name, "--period", "2026-01..2026-11", "--format", "csv")
    assert result.exit_code == 0, result.output or repr(result.exception)
    assert result.output.startswith("\ufeff") and len(result.output.splitlines()) >= 1
