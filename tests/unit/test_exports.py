"""Exports of the training archive: rows, CSV/XLSX/JSON, xAPI 1.0.3 statements, the CLI."""
import csv
import io
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.content.spreadsheets import read_table
from lms.extensions import db
from lms.models import Course, StarChange
from lms.records import exports, xapi
from lms.records.services import add_entry
from tests.conftest import count_queries

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
BASE = "https://lms.example.cn"


@pytest.fixture
def archive(app, catalog, make_user):
    """张晓 (team 热线一组) with an exam, a corrected practical, a completion, an evaluation, an
    attendance and an absence, star changes; 李娜 in another team with one exam."""
    trainer = make_user(roles=("trainer",), name="王老师", employee_no="T001", team="培训部")
    agent = make_user(name="张晓", employee_no="00123", team="热线一组")
    other = make_user(name="李娜", employee_no="00456", team="热线二组")
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    refresh = db.session.scalar(select(Course).where(Course.slug == "refresh"))
    exam = add_entry(user=agent, kind="exam", title="投诉处理考试", course=course, score=17, max_score=20.5,
                     passed=True, occurred_at=NOW - timedelta(days=10), source_type="exam_attempt", source_id=1,
                     details={"exam_slug": "complaints-final"})
    practical = add_entry(user=agent, kind="practical", title="=愤怒客户", course=course, score=2, max_score=5,
                          passed=False, recorded_by=trainer, occurred_at=NOW - timedelta(days=9),
                          details={"scenario": "angry-customer"})
    db.session.flush()
    correction = add_entry(user=agent, kind="practical", title="=愤怒客户", course=course, score=4, max_score=5,
                           passed=True, recorded_by=trainer, occurred_at=practical.occurred_at, corrects=practical,
                           reason="分数录错", details={"scenario": "angry-customer"})
    completion = add_entry(user=agent, kind="course", title="课程 refresh", course=refresh, passed=True,
                           occurred_at=NOW - timedelta(days=8))
    completion.valid_until = NOW + timedelta(days=357)
    evaluation = add_entry(user=agent, kind="evaluation", title="客户满意度", score=92.5, passed=True,
                           occurred_at=NOW - timedelta(days=7))
    evaluation.period = "2026-10"
    attended = add_entry(user=agent, kind="attendance", title="课堂：投诉", passed=True, occurred_at=NOW - timedelta(days=6))
    absent = add_entry(user=agent, kind="attendance", title="课堂：情绪", passed=False, occurred_at=NOW - timedelta(days=5))
    pending = add_entry(user=agent, kind="exam", title="论述题考试", score=None, max_score=None, passed=None,
                        occurred_at=NOW - timedelta(days=4))
    db.session.add_all([
        StarChange(user=agent, kind="initial", from_level=None, to_level=0, changed_at=NOW - timedelta(days=30)),
        StarChange(user=agent, kind="promotion", from_level=0, to_level=1, changed_at=NOW - timedelta(days=3),
                   changed_by=trainer, reason="培训合格"),
        StarChange(user=agent, kind="declined", from_level=1, to_level=2, changed_at=NOW - timedelta(days=2),
                   changed_by=trainer, reason="时间不够"),
    ])
    other_exam = add_entry(user=other, kind="exam", title="产品知识", score=5, max_score=10, passed=False,
                           occurred_at=NOW - timedelta(days=1))
    db.session.commit()
    return dict(trainer=trainer, agent=agent, other=other, exam=exam, practical=practical, correction=correction,
                completion=completion, evaluation=evaluation, attended=attended, absent=absent, pending=pending,
                other_exam=other_exam)


def records_of(rows):
    return [row.as_record() for row in rows]


# --- rows ------------------------------------------------------------------------------------------

def test_rows_of_one_agent_hold_every_entry_and_star_change_in_time_order(archive):
    rows = records_of(exports.export_rows(agent=archive["agent"]))
    assert [(r["row_type"], r["kind"]) for r in rows] == [
        ("star_change", "initial"), ("record_entry", "exam"), ("record_entry", "practical"),
        ("record_entry", "practical"), ("record_entry", "course"), ("record_entry", "evaluation"),
        ("record_entry", "attendance"), ("record_entry", "attendance"), ("record_entry", "exam"),
        ("star_change", "promotion"), ("star_change", "declined")]
    assert {r["employee_no"] for r in rows} == {"00123"}
    exam = rows[1]
    assert exam == {**exam, "name": "张晓", "team": "热线一组", "title": "投诉处理考试", "course_slug": "basics-a",
                    "occurred_at": "2026-11-13T09:00:00+00:00", "score": 17, "max_score": 20.5, "percent": 82.9,
                    "passed": True, "band": "good", "entry_id": archive["exam"].id, "corrects": None}
    correction = rows[3]
    assert correction["corrects"] == archive["practical"].id and correction["reason"] == "分数录错"
    assert correction["recorded_by"] == "T001" and correction["entry_id"] == archive["correction"].id
    assert rows[4]["valid_until"] == (NOW + timedelta(days=357)).isoformat() and rows[4]["course_slug"] == "refresh"
    assert rows[5]["period"] == "2026-10" and rows[5]["score"] == 92.5
    promotion = rows[9]
    assert promotion == {**promotion, "from_level": 0, "to_level": 1, "reason": "培训合格", "recorded_by": "T001",
                         "occurred_at": "2026-11-20T09:00:00+00:00"}
    assert list(rows[0]) == exports.COLUMNS


def test_scope_agent_team_or_everyone(archive):
    assert {r.employee_no for r in exports.export_rows(team="热线二组")} == {"00456"}
    assert {r.employee_no for r in exports.export_rows()} == {"00123", "00456"}
    assert exports.export_rows(team="没有这个组") == []


def test_queries_are_bounded_whatever_the_number_of_entries(app, catalog, make_user):
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    trainer = make_user(roles=("trainer",))

    def fill(agents: int, per_agent: int, team: str):
        for _ in range(agents):
            agent = make_user(team=team)
            for n in range(per_agent):
                add_entry(user=agent, kind="exam", title=f"考试{n}", course=course, score=n % 10, max_score=10,
                          passed=n % 2 == 0, recorded_by=trainer, occurred_at=NOW - timedelta(minutes=n))
            db.session.add(StarChange(user=agent, kind="promotion", from_level=0, to_level=1, changed_at=NOW,
                                      changed_by=trainer))
        db.session.commit()
        db.session.expire_all()

    fill(2, 5, "小组")
    small = count_queries(lambda: exports.export_archive("xapi", team="小组", now=NOW))
    fill(25, 20, "大组")
    db.session.expire_all()
    large = count_queries(lambda: exports.export_archive("xapi", team="大组", now=NOW))
    assert exports.export_archive("csv", team="大组", now=NOW).rows == 25 * 21
    assert small == large <= 4


# --- CSV, XLSX, JSON -------------------------------------------------------------------------------

def test_csv_is_utf8_with_bom_machine_headers_and_no_formulas(archive):
    data = exports.export_archive("csv", agent=archive["agent"], now=NOW).data
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_table("x.csv", data)
    assert table.header == exports.COLUMNS
    first = table.rows[1].values
    assert first["employee_no"] == "00123" and first["name"] == "张晓" and first["percent"] == "82.9"
    assert first["passed"] == "true" and first["occurred_at"] == "2026-11-13T09:00:00+00:00"
    assert table.rows[2].values["title"] == "'=愤怒客户"  # Excel would run "=..." as a formula
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 1 + 11


def test_xlsx_keeps_employee_numbers_and_formula_like_text_as_text(archive):
    export = exports.export_archive("xlsx", agent=archive["agent"], now=NOW)
    sheet = load_workbook(io.BytesIO(export.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header == exports.COLUMNS
    employee = sheet.cell(row=2, column=header.index("employee_no") + 1)
    assert employee.value == "00123" and employee.data_type == "s" and employee.number_format == "@"
    title = sheet.cell(row=4, column=header.index("title") + 1)
    assert title.value == "=愤怒客户" and title.data_type == "s"
    assert sheet.cell(row=3, column=header.index("percent") + 1).value == 82.9
    assert sheet.max_row == 12 and export.filename == "training-records-00123-20261123.xlsx"


def test_json_is_a_flat_list_of_typed_objects(archive):
    data = json.loads(exports.export_archive("json", team="热线一组", now=NOW).data)
    assert isinstance(data, list) and len(data) == 11
    assert all(list(item) == exports.COLUMNS for item in data)
    assert data[1]["score"] == 17 and data[1]["passed"] is True and data[8]["passed"] is None


def test_unknown_format_and_filenames(archive):
    with pytest.raises(exports.UnknownFormat):
        exports.export_archive("pdf", now=NOW)
    assert exports.export_archive("json", team="热线一组", now=NOW).filename == \
        "training-records-team-热线一组-20261123.json"
    assert exports.export_archive("xapi", now=NOW).filename == "training-records-all-20261123.xapi.json"
    header = exports.content_disposition("training-records-team-热线一组-20261123.csv")
    assert header == ("attachment; filename=\"training-records-team-_-20261123.csv\"; "
                      "filename*=UTF-8''training-records-team-%E7%83%AD%E7%BA%BF%E4%B8%80%E7%BB%84-20261123.csv")


# --- xAPI ------------------------------------------------------------------------------------------

IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def assert_language_map(value):
    assert isinstance(value, dict) and value
    assert all(LANGUAGE_TAG.match(key) and isinstance(text, str) for key, text in value.items())


def assert_absolute_iri(value):
    assert isinstance(value, str) and IRI.match(value), value
    parts = urlsplit(value)
    assert parts.scheme and parts.netloc, value


def assert_valid_statement(statement):
    """The xAPI 1.0.3 rules a statement must meet (Data section 2.4), written out by hand."""
    allowed = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
               "version", "attachments"}
    assert set(statement) <= allowed, set(statement) - allowed
    assert {"actor", "verb", "object"} <= set(statement)
    assert str(uuid.UUID(statement["id"])) == statement["id"]  # a UUID in canonical form
    actor = statement["actor"]
    assert actor.get("objectType", "Agent") == "Agent"
    assert sum(key in actor for key in IFIS) == 1  # exactly one inverse functional identifier
    account = actor["account"]
    assert set(account) == {"homePage", "name"} and account["name"]
    assert_absolute_iri(account["homePage"])
    verb = statement["verb"]
    assert_absolute_iri(verb["id"])
    assert_language_map(verb["display"])
    assert statement["version"] == "1.0.3"
    assert ISO_8601.match(statement["timestamp"]), statement["timestamp"]
    target = statement["object"]
    if verb["id"] == "http://adlnet.gov/expapi/verbs/voided":
        assert target["objectType"] == "StatementRef" and set(target) == {"objectType", "id"}
        assert str(uuid.UUID(target["id"])) == target["id"]
        assert "result" not in statement
        return
    assert target.get("objectType", "Activity") == "Activity"
    assert_absolute_iri(target["id"])
    assert_language_map(target["definition"]["name"])
    assert_absolute_iri(target["definition"]["type"])
    result = statement.get("result")
    if result is not None:
        score = result.get("score", {})
        if "scaled" in score:
            assert -1 <= score["scaled"] <= 1
        if "min" in score and "max" in score:
            assert score["min"] < score["max"]
        if "raw" in score:
            assert score.get("min", score["raw"]) <= score["raw"] <= score.get("max", score["raw"])
        for flag in ("success", "completion"):
            assert flag not in result or isinstance(result[flag], bool)
    for key in statement.get("context", {}).get("extensions", {}):
        assert_absolute_iri(key)


def statements(**scope):
    return json.loads(exports.export_archive("xapi", base_url=BASE, now=NOW, **scope).data)


def test_every_statement_meets_xapi_1_0_3(archive):
    made = statements()
    assert made
    for statement in made:
        assert_valid_statement(statement)
    ids = [statement["id"] for statement in made]
    assert len(ids) == len(set(ids))


def test_verbs_objects_and_results(archive):
    made = statements(agent=archive["agent"])
    by_verb = [(s["verb"]["display"]["en-US"], s["object"].get("id")) for s in made]
    assert by_verb == [
        ("satisfied", f"{BASE}/star-levels/0"),
        ("passed", f"{BASE}/exams/complaints-final"),
        ("failed", f"{BASE}/scenarios/angry-customer"),
        ("passed", f"{BASE}/scenarios/angry-customer"),
        ("voided", xapi.statement_id("record_entry", archive["practical"].id)),
        ("completed", f"{BASE}/courses/refresh"),
        ("passed", f"{BASE}/evaluations/2026-10"),
        ("attended", f"{BASE}/record-entries/{archive['attended'].id}"),
        # the absence has no statement
        ("attempted", f"{BASE}/record-entries/{archive['pending'].id}"),
        ("satisfied", f"{BASE}/star-levels/1"),
        # the declined promotion has none
    ]
    exam = made[1]
    assert exam["verb"] == {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed", "zh-CN": "通过"}}
    assert exam["actor"] == {"objectType": "Agent", "name": "张晓", "account": {"homePage": BASE, "name": "00123"}}
    assert exam["result"] == {"score": {"scaled": 0.8293, "raw": 17, "min": 0, "max": 20.5}, "success": True,
                              "completion": True}
    assert exam["object"]["definition"]["name"] == {"zh-CN": "投诉处理考试", "en-US": "投诉处理考试"}
    assert exam["timestamp"] == "2026-11-13T09:00:00+00:00" and exam["version"] == "1.0.3"
    assert exam["id"] == xapi.statement_id("record_entry", archive["exam"].id)
    voiding = made[4]
    assert voiding["actor"]["account"]["name"] == "T001"  # who corrected it
    assert voiding["object"]["id"] == made[2]["id"]
    assert made[6]["result"]["score"] == {"raw": 92.5}


def test_a_re_export_gives_the_same_statement_ids(archive):
    first = [s["id"] for s in statements()]
    again = [s["id"] for s in statements()]
    assert first == again
    # also whichever scope: one agent's statements are the same statements as in the bulk export
    assert set(s["id"] for s in statements(agent=archive["agent"])) <= set(first)


def test_the_base_url_roots_every_iri(archive):
    made = json.loads(exports.export_archive("xapi", agent=archive["other"], base_url="http://lms.intra:8080/",
                                             now=NOW).data)
    assert made[0]["object"]["id"] == "http://lms.intra:8080/record-entries/%d" % archive["other_exam"].id
    assert made[0]["actor"]["account"]["homePage"] == "http://lms.intra:8080"
    assert made[0]["result"]["success"] is False and made[0]["verb"]["display"]["zh-CN"] == "未通过"


# --- the command line ------------------------------------------------------------------------------

def test_cli_writes_csv_to_stdout(app, archive):
    result = app.test_cli_runner().invoke(args=["records", "export", "--agent", "00123", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert rows[0] == exports.COLUMNS and len(rows) == 12 and {r[0] for r in rows[1:]} == {"00123"}


def test_cli_xapi_for_a_team_uses_the_configured_base_url(app, archive):
    app.config["LMS_BASE_URL"] = BASE
    result = app.test_cli_runner().invoke(args=["records", "export", "--team", "热线二组", "--format", "xapi"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout_bytes)
    assert [s["actor"]["account"] for s in made] == [{"homePage": BASE, "name": "00456"}]


def test_cli_xlsx_needs_an_output_file(app, archive, tmp_path):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["records", "export", "--format", "xlsx"])
    assert refused.exit_code == 2 and "-o FILE" in refused.output
    target = tmp_path / "all.xlsx"
    written = runner.invoke(args=["records", "export", "--format", "xlsx", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert "Wrote 12 rows" in written.output
    assert load_workbook(target).active.max_row == 13


def test_cli_refuses_an_unknown_agent_and_both_scopes(app, archive):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["records", "export", "--agent", "99999", "--format", "json"])
    assert unknown.exit_code == 1 and "no account has the employee number '99999'" in unknown.output
    both = runner.invoke(args=["records", "export", "--agent", "00123", "--team", "x", "--format", "json"])
    assert both.exit_code == 2 and "not both" in both.output
