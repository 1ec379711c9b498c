"""Downloads of the training archive: who may export what, headers, the audit of bulk exports."""
import io
import json
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AuditEvent
from lms.records import exports
from lms.records.services import add_entry
from tests.conftest import assert_access

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
VIEWERS = ["anonymous", "self", "other_agent", "mentor", "linked_non_mentor", "trainer", "admin"]


@pytest.fixture
def people(make_user, frozen_now):
    frozen_now(NOW)
    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="陈刚")
    linked = make_user(roles=("agent",), star_level=3, name="没有导师角色")  # linked, but not a mentor
    agent = make_user(name="张晓", employee_no="00123", team="热线一组", mentor=mentor)
    other = make_user(name="李娜", employee_no="00456", team="热线二组", mentor=linked)
    add_entry(user=agent, kind="exam", title="投诉处理考试", score=8, max_score=10, passed=True, occurred_at=NOW)
    add_entry(user=other, kind="exam", title="产品知识", score=4, max_score=10, passed=False, occurred_at=NOW)
    db.session.commit()
    return {"agent": agent, "other": other, "mentor": mentor, "linked": linked,
            "trainer": make_user(roles=("trainer",)), "admin": make_user(roles=("admin",)),
            "other_agent": make_user(roles=("agent",))}


def viewer_for(people, role):
    return {"self": people["agent"], "mentor": people["mentor"], "trainer": people["trainer"],
            "admin": people["admin"], "other_agent": people["other_agent"]}.get(role)


@pytest.mark.parametrize("role", VIEWERS)
@pytest.mark.parametrize("fmt", ["csv", "xapi"])
def test_who_may_export_one_archive(people, client, login_as, role, fmt):
    if role == "linked_non_mentor":
        login_as(people["linked"])
        response = client.get(f"/records/00456/export.{fmt}")  # their "mentee", but they hold no mentor role
        assert response.status_code == 403
        return
    if role != "anonymous":
        login_as(viewer_for(people, role))
    response = client.get(f"/records/00123/export.{fmt}")
    assert_access(response, role, {"self", "mentor", "trainer", "admin"})


@pytest.mark.parametrize("role", VIEWERS)
def test_who_may_export_a_team(people, client, login_as, role):
    if role != "anonymous":
        login_as(people["linked"] if role == "linked_non_mentor" else viewer_for(people, role))
    for path in ("/records/export.csv?team=热线一组", "/records/export.json", "/records/export"):
        assert_access(client.get(path), role, {"trainer", "admin"})


def test_one_archive_as_csv_with_headers(people, client, login_as):
    login_as(people["mentor"])
    response = client.get("/records/00123/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="training-records-00123-20261123.csv"; '
        "filename*=UTF-8''training-records-00123-20261123.csv")
    assert response.headers["Cache-Control"] == "no-store"
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(exports.COLUMNS)
    assert "张晓" in text and "李娜" not in text
    # someone else's archive leaving the system is audited; the agent's own download is not
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "records.exported"))
    assert (event.actor_id, event.subject_type, event.subject_id, event.details["format"]) == (
        people["mentor"].id, "user", people["agent"].id, "csv")
    client.post("/logout")
    login_as(people["agent"])
    assert client.get("/records/00123/export.json").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_unknown_agent_and_unknown_format_are_not_found(people, client, login_as):
    login_as(people["trainer"])
    assert client.get("/records/99999/export.csv").status_code == 404
    assert client.get("/records/00123/export.pdf").status_code == 404
    assert client.get("/records/export.pdf").status_code == 404


def test_team_export_as_xlsx_is_audited(people, client, login_as):
    login_as(people["trainer"])
    response = client.get("/records/export.xlsx?team=热线一组")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == exports.FORMATS["xlsx"].media_type
    name = "training-records-team-热线一组-20261123.xlsx"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="training-records-team-_-20261123.xlsx"; filename*=UTF-8\'\'{quote(name)}')
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["00123"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "records.exported"))
    assert event.actor_id == people["trainer"].id and event.subject_type == "export" and event.subject_id == 0
    assert event.details == {"team": "热线一组", "format": "xlsx", "rows": 1}


def test_everyone_as_xapi_uses_the_configured_base_url(people, app, client, login_as):
    app.config["LMS_BASE_URL"] = "https://lms.intra"
    login_as(people["admin"])
    response = client.get("/records/export.xapi?team=")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    made = json.loads(response.data)
    assert sorted(s["actor"]["account"]["name"] for s in made) == ["00123", "00456"]
    assert all(s["actor"]["account"]["homePage"] == "https://lms.intra" for s in made)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "records.exported"))
    assert event.details == {"team": None, "format": "xapi", "rows": 2}


def test_the_form_lists_teams_and_sends_the_choice_to_the_download(people, client, login_as):
    login_as(people["admin"])
    html = client.get("/records/export", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Export training records" in html and "热线一组" in html and "热线二组" in html
    response = client.get("/records/export?team=热线二组&format=json")
    assert response.status_code == 302
    assert response.location == f"/records/export.json?team={quote('热线二组')}"
    assert client.get("/records/export?format=pdf").status_code == 200  # unknown: the form again
