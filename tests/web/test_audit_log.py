"""The audit log viewer through HTTP: admins only, filters from the query string (bad ones say so and
never break the page), pages, and the CSV / XLSX downloads checked cell by cell (and audited)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.extensions import db
from lms.models import AuditEvent
from lms.records.services import audit as write_audit
from tests.conftest import assert_access

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ROUTES = ["/audit/", "/audit/?person=E1001&kind=practical.&period=2026-11", "/audit/export.csv",
          "/audit/export.xlsx?kind=star."]


@pytest.fixture
def log(make_user, frozen_now):
    frozen_now(NOW)
    admin = make_user(roles=("admin",), employee_no="A0001", name="王敏")
    mentor = make_user(roles=("mentor", "agent"), employee_no="M0001", name="陈刚", star_level=4)
    agent = make_user(employee_no="E1001", name="张晓", mentor=mentor)
    other = make_user(employee_no="E1002", name="刘洋", mentor=mentor)
    rows = [
        (mentor, "practical.signed", "practical", 11, NOW - timedelta(days=1), {"agent_id": agent.id, "passed": True}),
        (admin, "star.promotion", "user", agent.id, NOW - timedelta(days=2), {"from_level": 0, "to_level": 1, "reason": ""}),
        (mentor, "practical.signed", "practical", 12, NOW - timedelta(days=40), {"agent_id": other.id, "passed": False}),
        (None, "auth.locked_out", "login", 0, NOW - timedelta(days=3), {"employee_no": "E9999"}),
    ]
    for actor, action, subject_type, subject_id, at, details in rows:
        write_audit(actor, action, subject_type, subject_id, **details).created_at = at
    db.session.commit()
    return {"admin": admin, "mentor": mentor, "agent": agent, "other": other}


@pytest.mark.parametrize("role", ["anonymous", "agent", "mentor", "trainer", "admin"])
@pytest.mark.parametrize("path", ROUTES)
def test_only_admins_read_the_audit_log(client, make_user, login_as, role, path):
    if role != "anonymous":
        login_as(make_user(roles=(role,) if role != "mentor" else ("mentor", "agent")))
    assert_access(client.get(path), role, {"admin"})


def page(client, query="") -> str:
    response = client.get(f"/audit/{query}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def shown(html: str) -> list[str]:
    import re

    return re.findall(r'<tr id="event-(\d+)"', html)


def event_ids() -> dict[str, int]:
    return {f"{event.action}:{event.subject_id}": event.id for event in db.session.scalars(select(AuditEvent))}


def test_the_list_newest_first_with_readable_details(client, login_as, log):
    login_as(log["admin"])
    html = page(client)
    ids = event_ids()
    assert shown(html) == [str(ids["practical.signed:11"]), str(ids[f"star.promotion:{log['agent'].id}"]),
                           str(ids["auth.locked_out:0"]), str(ids["practical.signed:12"])]
    assert "4 events." in html
    assert "Practical signed off" in html and "<code>practical.signed</code>" in html
    assert "agent_id:</span> E1001 张晓" in html  # an id in the details shown as the person
    assert '<a href="/records/E1001">张晓</a>' in html  # the account an event is about links to its archive
    assert "The system" in html  # no actor: the lockout
    assert 'href="/audit/export.csv"' in html and 'href="/audit/export.xlsx"' in html


@pytest.mark.parametrize("query,expected", [
    ("?person=E1001", ["practical.signed:11", "star.promotion:AGENT"]),
    ("?person=M0001", ["practical.signed:11", "practical.signed:12"]),
    ("?person=E1002&kind=practical.", ["practical.signed:12"]),
    ("?kind=star.promotion", ["star.promotion:AGENT"]),
    ("?kind=auth.", ["auth.locked_out:0"]),
    ("?period=2026-11", ["practical.signed:11", "star.promotion:AGENT", "auth.locked_out:0"]),
    ("?period=2026-10&person=%20E1002%20", ["practical.signed:12"]),
    ("?period=2025", []),
])
def test_filters(client, login_as, log, query, expected):
    login_as(log["admin"])
    ids = event_ids()
    wanted = [str(ids[key.replace("AGENT", str(log["agent"].id))]) for key in expected]
    html = page(client, query)
    assert shown(html) == wanted
    if not expected:
        assert "No events match these filters." in html


@pytest.mark.parametrize("query,message", [
    ("?period=2026-13", "Not a period"),
    ("?period=soon", "Not a period"),
    ("?kind=%25%27;drop", "Not a kind of event."),
    ("?kind=" + "a" * 60, "Field cannot be longer than 40 characters."),
])
def test_bad_filters_say_so_and_the_others_apply(client, login_as, log, query, message):
    login_as(log["admin"])
    html = page(client, query)
    assert message in html and 'class="error"' in html
    assert len(shown(html)) == 4  # the refused filter is left out


def test_an_unknown_person_matches_nothing(client, login_as, log):
    login_as(log["admin"])
    html = page(client, "?person=NOBODY&kind=practical.")
    assert "No account has this employee number." in html and shown(html) == []
    assert "No events: no account has this employee number." in html
    response = client.get("/audit/export.csv?person=NOBODY")  # the download goes back to the list
    assert response.status_code == 302 and response.location.startswith("/audit/?person=NOBODY")


def test_a_kind_from_a_link_stays_selected(client, login_as, log):
    login_as(log["admin"])
    html = page(client, "?kind=exam_graded")  # valid but not in this log
    assert '<option selected value="exam_graded">' in html or 'value="exam_graded" selected' in html
    assert shown(html) == []


@pytest.mark.parametrize("number", ["abc", "-1", "0", "99999999999999999999", "２"])
def test_pages(client, login_as, log, app, number):
    app.config["AUDIT_EVENTS_PER_PAGE"] = 3
    login_as(log["admin"])
    first = page(client)
    assert len(shown(first)) == 3 and 'href="/audit/?page=2"' in first and "Page 1 of 2" in first
    second = page(client, "?page=2")
    assert len(shown(second)) == 1 and 'rel="prev"' in second
    filtered = page(client, "?kind=practical.&page=1")
    assert len(shown(filtered)) == 2 and "Page 1 of" not in filtered
    odd = client.get(f"/audit/?page={number}")
    assert odd.status_code == 200


def test_pagination_links_keep_the_filters(client, login_as, log, app):
    app.config["AUDIT_EVENTS_PER_PAGE"] = 1
    login_as(log["admin"])
    html = page(client, "?kind=practical.&period=2026-01..2026-11")
    assert 'href="/audit/?page=2&amp;kind=practical.&amp;period=2026-01..2026-11"' in html
    assert 'href="/audit/export.csv?kind=practical.&amp;period=2026-01..2026-11"' in html


def test_csv_export_cell_by_cell_and_audited(client, login_as, log):
    login_as(log["admin"])
    response = client.get("/audit/export.csv?person=E1001", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log.csv"')
    assert response.headers["Cache-Control"] == "no-store"
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Time", "By (employee number)", "By", "Action code", "Action", "About", "Record number",
                       "Person (employee number)", "Person", "Details"]
    agent = log["agent"]
    assert rows[1] == ["2026-11-22 17:00:00", "M0001", "陈刚", "practical.signed", "Practical signed off", "Practical",
                       "11", "E1001", "张晓", "agent_id: E1001 张晓; passed: ✓"]
    assert rows[2] == ["2026-11-21 17:00:00", "A0001", "王敏", "star.promotion", "Promoted", "Account",
                       str(agent.id), "E1001", "张晓", "from_level: 0; to_level: 1; reason: "]
    assert len(rows) == 3
    trace = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.exported"))
    assert trace.actor_id == log["admin"].id
    assert trace.details == {"report": "audit", "format": "csv", "rows": 2, "person": "E1001"}


def test_xlsx_export_cell_by_cell(client, login_as, log):
    login_as(log["admin"])
    response = client.get("/audit/export.xlsx?kind=practical.&period=2026-10..2026-11",
                          headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "audit-log"
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["Time", "By (employee number)", "By", "Action code"]
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    assert values[1] == ["2026-11-22 17:00:00", "M0001", "陈刚", "practical.signed", "Practical signed off",
                         "Practical", 11, "E1001", "张晓", "agent_id: E1001 张晓; passed: ✓"]
    assert values[2][0] == "2026-10-14 17:00:00" and values[2][6] == 12 and isinstance(values[2][6], int)
    assert values[2][9] == "agent_id: E1002 刘洋; passed: ✗"
    assert len(values) == 3


def test_export_of_a_formula_like_name_is_not_a_formula(client, login_as, log, make_user):
    prankster = make_user(roles=("trainer",), employee_no="T0666", name="=HYPERLINK(\"http://x\")")
    write_audit(prankster, "exam_updated", "exam", 3, slug="-1+1")
    db.session.commit()
    login_as(log["admin"])
    sheet = load_workbook(io.BytesIO(client.get("/audit/export.xlsx?kind=exam_updated").data)).active
    assert sheet["C2"].data_type == "s" and sheet["C2"].value == '=HYPERLINK("http://x")'  # text, not a formula
    rows = list(csv.reader(io.StringIO(client.get("/audit/export.csv?kind=exam_updated").data.decode("utf-8-sig"))))
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][9] == "slug: -1+1"
