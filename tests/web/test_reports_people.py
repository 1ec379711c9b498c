"""The mentor report and recognition board pages: the role x route matrix, a mentor sees only their
own report, bad filters re-render with a message, awards and opt-outs through forms, exports, the
certificate of recognition renders and verifies, the home partial."""
import csv
import io

import pytest
from flask import render_template
from sqlalchemy import select

from lms.extensions import db
from lms.models import AuditEvent, Certificate
from lms.reports import recognition
from tests.conftest import assert_access
from tests.practicals_support import scenario  # noqa: F401 (fixture)
from tests.unit.test_reports_people_support import nov, observe, result

ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]
EVERYONE = {"agent", "mentor", "trainer", "admin"}


@pytest.fixture
def app_config():
    return {"BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai"}


@pytest.fixture
def world(scenario, make_user, frozen_now):
    frozen_now()
    other = make_user(roles=("mentor",), name="别的导师", employee_no="M9000")
    agent = make_user(name="张晓", employee_no="E9001", mentor=other)
    observe(agent, other, scenario, 90, nov(3))
    result(agent, 88, nov(10, month=10))
    db.session.commit()
    return {"other": other, "agent": agent}


def routes(world):
    other, agent = world["other"].id, world["agent"].id
    return [
        ("GET", "/reports/mentors", None, {"mentor", "trainer", "admin"}),
        ("GET", f"/reports/mentors/{other}", None, {"trainer", "admin"}),
        ("GET", "/reports/mentors/export.csv", None, {"mentor", "trainer", "admin"}),
        ("GET", "/reports/mentors/export.xlsx", None, {"mentor", "trainer", "admin"}),
        ("GET", "/reports/recognition", None, {"trainer", "admin"}),
        ("POST", "/reports/recognition/award", {"agent_id": agent, "month": "2026-10"}, {"trainer", "admin"}),
        ("GET", "/reports/recognition/export.xlsx", None, {"trainer", "admin"}),
        ("GET", "/reports/recognition/me", None, EVERYONE),
        ("POST", "/reports/recognition/me", {"opted_out": "y"}, EVERYONE),
    ]


ROUTE_COUNT = 9


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("index", range(ROUTE_COUNT))
def test_role_route_matrix(world, client, make_user, login_as, role, index):
    method, path, data, allowed = routes(world)[index]
    if role != "anonymous":
        login_as(make_user(roles=(role,)))
    response = client.open(path, method=method, data=data)
    assert_access(response, role, allowed)


def test_a_mentor_sees_only_their_own(world, client, make_user, login_as):
    mentor = make_user(roles=("mentor",), name="我自己")
    login_as(mentor)
    response = client.get("/reports/mentors?period=2026-11")
    assert response.status_code == 302 and response.location.endswith(f"/reports/mentors/{mentor.id}?period=2026-11")
    page = client.get(f"/reports/mentors/{mentor.id}?period=2026-11", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "我自己" in page.get_data(as_text=True)
    assert client.get(f"/reports/mentors/{world['other'].id}").status_code == 403
    exported = client.get("/reports/mentors/export.csv?period=2026-11").get_data().decode("utf-8-sig")
    names = [row[1] for row in csv.reader(io.StringIO(exported))][1:]
    assert names == ["我自己"]


def test_trainer_sees_every_mentor_with_figures(world, client, make_user, login_as):
    login_as(make_user(roles=("trainer",)))
    html = client.get("/reports/mentors?period=2026-11", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "别的导师" in html and 'data-chart=' in html and "js/charts.js" in html
    detail = client.get(f"/reports/mentors/{world['other'].id}?period=2026-11",
                        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "测试场景" in detail and "<dd>100%</dd>" in detail


def test_bad_filters_rerender_with_a_message(world, client, make_user, login_as):
    login_as(make_user(roles=("admin",)))
    response = client.get("/reports/mentors?period=2026-13&level=9", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Not a period" in html and "别的导师" in html
    assert client.get("/reports/recognition?month=nonsense").status_code == 200
    assert client.get("/reports/mentors/export.csv?period=xx").status_code == 200  # default period
    assert client.get("/reports/recognition/export.csv?period=xx").status_code == 400


def test_award_from_the_board_and_the_certificate(world, client, make_user, login_as):
    login_as(make_user(roles=("trainer",)))
    board = client.get("/reports/recognition?month=2026-10").get_data(as_text=True)
    assert "张晓" in board and "/reports/recognition/award" in board
    response = client.post("/reports/recognition/award", data={"agent_id": world["agent"].id, "month": "2026-10",
                                                               "citation": "十月培训之星"})
    assert response.status_code == 302 and "month=2026-10" in response.location
    certificate = db.session.scalar(select(Certificate).where(Certificate.kind == "recognition"))
    assert certificate.title == "十月培训之星" and certificate.user_id == world["agent"].id
    again = client.post("/reports/recognition/award", data={"agent_id": world["agent"].id, "month": "2026-10"},
                        headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "already has a certificate" in again.get_data(as_text=True)
    missing = client.post("/reports/recognition/award", data={"month": "2026-10"}, follow_redirects=True)
    assert missing.status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(Certificate)) == 1

    login_as(world["agent"])
    page = client.get(f"/certificates/{certificate.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "张晓" in page and "十月培训之星" in page and certificate.code in page
    assert "promoted" not in page and "2026-10" in page
    verified = client.get(f"/verify/{certificate.code}", headers={"Accept-Language": "en"})
    text = verified.get_data(as_text=True)
    assert verified.status_code == 200 and "status-valid" in text and "Recognised for 2026-10" in text


def test_opt_out_form(world, client, login_as):
    agent = world["agent"]
    login_as(agent)
    page = client.get("/reports/recognition/me", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Do not show me on the recognition board" in page
    assert client.post("/reports/recognition/me", data={"opted_out": "y"}).status_code == 302
    db.session.expire_all()
    assert agent.recognition_opt_out and recognition.board("2026-10").rows == []
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "recognition.opt_out_changed"))
    client.post("/reports/recognition/me", data={})
    db.session.expire_all()
    assert not agent.recognition_opt_out and len(recognition.board("2026-10").rows) == 1


def test_exports(world, client, make_user, login_as):
    login_as(make_user(roles=("admin",)))
    response = client.get("/reports/recognition/export.csv?period=2026-10", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:4] == ["Month", "Rank", "Employee no.", "Agent"] and rows[1][:4] == ["2026-10", "1", "E9001", "张晓"]
    xlsx = client.get("/reports/mentors/export.xlsx?period=2026-11&table=scenarios")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(2, 3).value == "测试场景" and sheet.cell(2, 4).value == 1
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "report.exported")) == 2


def test_home_partial(world, app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template("reports/_recognition_home.html", board=None).strip() == ""
        html = render_template("reports/_recognition_home.html", board=recognition.board_for_home(nov(23)))
    assert "Recognition board 2026-10" in html and "张晓" in html and "Training index 88" in html
