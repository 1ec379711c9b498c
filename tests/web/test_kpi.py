"""The training KPI pages: the report (filters, aggregates, sorting, bad input), its CSV / XLSX
export, the archive's KPI table, who may open what, and a query count independent of the number
of agents."""
import io
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import AuditEvent, User
from lms.records.services import add_entry
from tests.conftest import assert_access, count_queries

EN = {"Accept-Language": "en"}
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def scored(user, percent, day=10, month=11, kind="practical"):
    add_entry(user=user, kind=kind, title="账单疑问", score=percent, max_score=100.0, passed=percent >= 70,
              occurred_at=datetime(2026, month, day, 4, 0, tzinfo=timezone.utc))


def absent(user, day=12):
    add_entry(user=user, kind="attendance", title="课堂", passed=False,
              occurred_at=datetime(2026, 11, day, 4, 0, tzinfo=timezone.utc), details={"status": "absent"})


@pytest.fixture
def people(make_user, frozen_now):
    frozen_now(NOW)
    mentor = make_user(roles=("mentor", "agent"), name="陈刚", star_level=4, employee_no="M0001")
    zhang = make_user(name="张晓", team="热线一组", star_level=0, mentor=mentor, employee_no="E1001")
    zhao = make_user(name="赵磊", team="热线二组", star_level=2, mentor=mentor, employee_no="E1003")
    other = make_user(name="外组", team="热线二组", star_level=2, employee_no="E2001")
    scored(zhang, 80)
    absent(zhang)
    scored(zhao, 90)
    scored(zhao, 70, month=10)
    db.session.commit()
    return {"mentor": mentor, "zhang": zhang, "zhao": zhao, "other": other}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path, allowed", [
    ("/kpi", {"mentor", "trainer", "admin"}),
    ("/kpi?month=2026-10&team=热线二组&level=2&sort=index", {"mentor", "trainer", "admin"}),
    ("/kpi/export.csv", {"mentor", "trainer", "admin"}),
    ("/kpi/export.xlsx", {"mentor", "trainer", "admin"}),
    ("/records/E1003", {"mentor", "trainer", "admin"}),  # the mentor is E1003's (below); not an agent's
], ids=["report", "filtered", "csv", "xlsx", "archive"])
def test_permission_matrix(client, make_user, login_as, people, role, path, allowed):
    if role == "mentor":
        login_as(people["mentor"])
    elif role != "anonymous":
        login_as(make_user(roles=(role,)))
    assert_access(client.get(path), role, allowed)


def test_the_agent_reads_their_own_kpi_on_the_archive(client, login_as, people):
    login_as(people["zhang"])
    page = client.get("/records/E1001", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="kpi"' in html
    november = text_of(page).split("2026-11", 1)[1].split("2026-10", 1)[0]
    assert "75 80% 1 1 5" in november  # index, average, results, absences, points per absence
    october = re.search(r'id="kpi-2026-10".*?</tr>', html, re.S).group(0)
    assert "no data" in october
    assert len(re.findall(r'id="kpi-\d{4}-\d{2}"', html)) == 12


def test_the_report_for_a_trainer(client, make_user, login_as, people):
    login_as(make_user(roles=("trainer",)))
    page = text_of(client.get("/kpi?sort=index", headers=EN))
    assert "Training KPI · 2026-11" in page
    agents = page.split("Agents", 2)[-1]
    assert agents.index("赵磊") < agents.index("张晓") < agents.index("外组")  # 90, 75, no data
    assert "Mean index 82.5, over 2 of 4 agents with data." in page  # the mentor is an agent too
    assert "热线二组 90 1 of 2" in page
    october = text_of(client.get("/kpi?month=2026-10&team=热线二组", headers=EN))
    assert "赵磊" in october and "张晓" not in october and "70" in october


def test_the_mentor_sees_only_mentees(client, login_as, people):
    login_as(people["mentor"])
    page = text_of(client.get("/kpi", headers=EN))
    assert "张晓" in page and "赵磊" in page and "外组" not in page


@pytest.mark.parametrize("query", ["month=2026-13", "month=1999-01", "level=9", "level=abc", "team=不存在的组",
                                   "sort=drop", "month=" + "9" * 5000])
def test_bad_filters_show_a_message_not_an_error(client, make_user, login_as, people, query):
    login_as(make_user(roles=("admin",)))
    response = client.get(f"/kpi?{query}", headers=EN)
    assert response.status_code == 200
    assert "Some filters could not be used" in text_of(response)
    assert "Training KPI · 2026-11" in text_of(response)  # the current month, the others apply


def test_a_nul_in_the_query_is_refused_by_the_input_guard_not_a_500(client, make_user, login_as, people):
    login_as(make_user(roles=("admin",)))
    assert client.get("/kpi?month=%00").status_code == 400


def test_csv_export_is_audited_and_has_empty_no_data_cells(client, make_user, login_as, people):
    admin = make_user(roles=("admin",))
    login_as(admin)
    response = client.get("/kpi/export.csv?team=热线二组", headers=EN)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "training-kpi-2026-11-team" in response.headers["Content-Disposition"]
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("employee_no,name,team,star_level,month,average")
    rows = {line.split(",")[0]: line for line in lines[1:]}
    assert set(rows) == {"E1003", "E2001"}
    assert rows["E1003"].endswith(",90.0,1,0,1,0,0,5.0,90.0,")
    assert rows["E2001"].endswith(",,0,0,0,0,0,5.0,,no data: no scored result this month")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "kpi.exported"))
    assert event.actor_id == admin.id and event.details["format"] == "csv" and event.details["rows"] == 2


def test_xlsx_export_keeps_numbers_as_numbers(client, make_user, login_as, people):
    from openpyxl import load_workbook

    login_as(make_user(roles=("trainer",)))
    response = client.get("/kpi/export.xlsx", headers=EN)
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["employee_no", "name", "team"] and sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    rows = {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["E1001"]["index"] == 75.0 and rows["E1001"]["average"] == 80 and not isinstance(rows["E1001"]["average"], str)
    assert rows["E1001"]["absences"] == 1 and rows["E2001"]["index"] is None and rows["E2001"]["note"]


def test_the_report_runs_the_same_queries_for_10_and_1000_agents(client, make_user, login_as, frozen_now):
    frozen_now(NOW)
    admin = make_user(roles=("admin",))
    password_hash = admin.password_hash

    def add_agents(count, start):
        users = []
        for n in range(start, start + count):
            user = User(employee_no=f"K{n:05d}", name=f"坐席{n}", team=f"热线{n % 3}组", star_level=n % 6,
                        password_hash=password_hash)
            user.roles = {"agent"}
            users.append(user)
        db.session.add_all(users)
        db.session.flush()
        for user in users[::2]:
            scored(user, 70 + user.star_level)
        db.session.commit()

    add_agents(10, 0)
    login_as(admin)
    small = count_queries(lambda: client.get("/kpi?sort=index"))
    add_agents(990, 10)
    page = []
    large = count_queries(lambda: page.append(client.get("/kpi?sort=index")))
    assert page[0].status_code == 200 and page[0].get_data(as_text=True).count('id="agent-K') == 1000
    assert small == large
