"""The programme report pages: permissions, filters and their messages, drill-down links that agree
with the page, sorting links, the printable team page, exports cell by cell, bounded queries."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import pytest

from lms.extensions import db
from lms.models import User
from tests.conftest import assert_access, count_queries
from tests.unit.test_reports_programme import center  # noqa: F401 (fixture)

ROUTES = ["/reports", "/reports/teams", "/reports/teams/热线一组", "/reports/courses", "/reports/courses/refresh",
          "/reports/agents?metric=overdue", "/reports/overview.csv", "/reports/teams.xlsx",
          "/reports/courses.csv?table=courses-trend", "/reports/team.csv?team=热线二组&table=team-agents",
          "/reports/course.xlsx?course=refresh&table=course-teams"]


@pytest.fixture
def as_role(center, make_user, client, login_as):  # noqa: F811
    def login(role: str):
        if role == "anonymous":
            return client
        roles = ("agent", "mentor") if role == "mentor" else (role,)
        return login_as(make_user(roles=roles, team="培训部" if role != "agent" else "热线一组"))

    return login


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("role", ["anonymous", "agent", "mentor", "trainer", "admin"])
def test_permission_matrix(as_role, role, route):
    response = as_role(role).get(route)
    assert_access(response, role, {"trainer", "admin"})


@pytest.fixture
def trainer(center, login_as):  # noqa: F811
    center["trainer"].preferred_language = "en"  # headers and labels in English for the assertions
    db.session.commit()
    return login_as(center["trainer"])


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _cells(page: str) -> set[str]:
    """The texts of the table cells: a short name such as "A1" can also occur inside a token or nonce."""
    return set(re.findall(r"<td[^>]*>([^<]*)</td>", page))


def test_overview_shows_the_numbers_with_their_drill_down_links(trainer):
    page = _text(trainer.get("/reports?period=2026-11"))
    assert "data-chart=" in page and "vendor/echarts/echarts.min.js" in page and "js/charts.js" in page
    links = dict(re.findall(r'href="(/reports/agents\?[^"]+)">(\d+)</a>', page))
    overdue = [href for href in links if "metric=overdue" in href]
    assert overdue and links[overdue[0]] == "2"
    # follow the link: the list has the number of agents the page promised (one item each)
    listed = _text(trainer.get(overdue[0].replace("&amp;", "&")))
    assert listed.count("<tr>") - 1 == 2 and "A1" in listed and "A3" in listed
    assert "period=2026-11" in overdue[0]


def test_filters_carry_into_the_drill_down(trainer):
    page = _text(trainer.get("/reports?period=2026-11&team=热线二组"))
    href = re.search(r'href="(/reports/agents\?[^"]*metric=overdue[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "team=" in href
    listed = _text(trainer.get(href))
    assert _cells(listed) >= {"A3"} and "A1" not in _cells(listed)


@pytest.mark.parametrize("query, field", [("team=不存在的组", "team"), ("level=9", "level"), ("period=2026-13", "period"),
                                          ("level=abc", "level"), ("track=x", "track"), ("course=nope", "course")])
@pytest.mark.parametrize("page", ["/reports", "/reports/teams", "/reports/courses", "/reports/agents?metric=agents&"])
def test_bad_filters_show_a_message_never_a_500(trainer, page, query, field):
    separator = "" if page.endswith("&") else "?"
    response = trainer.get(f"{page}{separator}{query}")
    body = _text(response)
    assert 'role="alert"' in body
    if not page.startswith("/reports/agents"):
        assert f'id="{field}"' in body  # the field is shown again with its message


def test_bad_filters_refuse_an_export(trainer):
    response = trainer.get("/reports/teams.csv?level=9")
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/reports/agents?metric=nonsense", "/reports/agents?metric=funnel_lessons&intake=x",
                                 "/reports/teams/没有这个组", "/reports/courses/nope", "/reports/overview.csv?table=nope",
                                 "/reports/team.csv"])
def test_unknown_things_are_404(trainer, url):
    assert trainer.get(url).status_code == 404


def test_teams_sort_links_and_order(trainer):
    page = _text(trainer.get("/reports/teams?period=2026-11&sort=exam_rate&dir=desc"))
    assert page.index("热线二组</a>") < page.index("热线一组</a>")
    assert 'aria-sort="descending"' in page
    assert "sort=exam_rate&amp;dir=asc" in page  # the active header flips the direction
    ascending = _text(trainer.get("/reports/teams?period=2026-11&sort=exam_rate&dir=asc"))
    assert ascending.index("热线一组</a>") < ascending.index("热线二组</a>")
    assert "/reports/teams/%E7%83%AD%E7%BA%BF%E4%BA%8C%E7%BB%84" in page  # the team page link


def test_courses_page_links_each_course(trainer):
    page = _text(trainer.get("/reports/courses?period=2026-11&sort=assigned&dir=desc"))
    assert "/reports/courses/refresh" in page and "课程 refresh" in page
    course = _text(trainer.get("/reports/courses/refresh?period=2026-11"))
    assert "课程 refresh" in course and "table-course-teams" in course and "table-course-trend" in course


def test_team_page_is_printable(trainer):
    page = _text(trainer.get("/reports/teams/热线二组?period=2026-11"))
    assert "data-print" in page and "js/print.js" in page
    assert "table-team-agents" in page and "A3" in _cells(page) and "A1" not in _cells(page)
    assert 'class="report-chart"' in page  # print.css swaps each chart for its table
    assert "/reports/team.xlsx?" in page and "team=" in page


def test_csv_export_cell_by_cell(trainer):
    response = trainer.get("/reports/teams.csv?period=2026-11")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"] and "teams.csv" in response.headers[
        "Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:4] == ["Team", "Agents", "Courses assigned", "Courses complete"]
    assert rows[1][:6] == ["热线一组", "2", "3", "1", "33.3", "1"]
    assert rows[2][0] == "热线二组" and rows[2][6] == "100.0"


def test_xlsx_export_cell_by_cell(trainer):
    response = trainer.get("/reports/overview.xlsx?period=2026-11")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Figure", "Number", "Out of", "Percent"]
    assert values[1][:2] == ["Agents in scope", 3]
    assert values[2] == ["Courses complete", 2, 5, 40.0]
    assert values[4] == ["Exams passed", 2, 3, 66.7]
    assert isinstance(values[4][1], int) and sheet["A1"].font.bold
    team = trainer.get("/reports/team.xlsx?period=2026-11&team=热线二组&table=team-agents")
    agents = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(team.data)).active.iter_rows()]
    assert agents[1][:5] == ["A3", agents[1][1], 2, 2, 1]


def _bulk_agents(count: int, first: int = 0) -> None:
    users = []
    for number in range(first, first + count):
        user = User(employee_no=f"B{number:05d}", name=f"批量{number}", team="热线一组" if number % 2 else f"热线{number % 7}组",
                    star_level=number % 3, hire_date=date(2026, 10, 1 + number % 28), password_hash="x")
        user.roles = {"agent"}
        users.append(user)
    db.session.add_all(users)
    db.session.commit()


@pytest.mark.parametrize("url", ["/reports?period=2026-10..2026-11", "/reports/teams?period=2026",
                                 "/reports/courses?period=2026-11", "/reports/teams/热线一组?period=2026-11",
                                 "/reports/agents?metric=assigned&period=2026-11"])
def test_query_count_does_not_grow_with_agents(trainer, url):
    _bulk_agents(10)
    small = count_queries(lambda: _text(trainer.get(url)))
    _bulk_agents(990, first=10)
    large = count_queries(lambda: _text(trainer.get(url)))
    assert large == small
