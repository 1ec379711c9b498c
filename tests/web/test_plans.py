"""Plan pages through the test client: who may open them, forms and their errors, reminders,
cohorts, import, the agent home's list, and the plan page's queries whatever the agents' number."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from flask import render_template
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Course, User, UserRole
from lms.models.notifications import Notification
from lms.models.plans import Assignment, CohortMember
from lms.plans import progress, services
from lms.records.services import add_entry
from tests.conftest import assert_access, count_queries

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]
MANAGERS = {"trainer", "admin"}


@pytest.fixture
def app_config():
    """The dates below count a 10-working-day onboarding window (the default is 20)."""
    return {"LMS_ONBOARDING_WORKING_DAYS": 10}


@pytest.fixture
def world(catalog, make_user, frozen_now):
    frozen_now(NOW)
    trainer = make_user(roles=("trainer",), name="李静", employee_no="T0001")
    agent = make_user(team="热线一组", employee_no="E1001", hire_date=date(2026, 11, 2))
    plan = services.create_plan(trainer, name="2026 年度培训计划", description="年度重点", now=NOW)
    cohort = services.create_cohort(trainer, name="2026-11 新员工入职批次", description="", now=NOW)
    services.add_members(trainer, cohort, "E1001", NOW)
    course = db.session.scalar(select(Course).where(Course.slug == "level-one"))
    assignment = services.add_assignment(trainer, plan, item=course, item_kind="course",
                                         target=services.Target("team", team="热线一组"),
                                         starts_on=date(2026, 11, 1), due_on=date(2026, 11, 20), month=None, now=NOW)
    return {"trainer": trainer, "agent": agent, "plan": plan, "cohort": cohort, "assignment": assignment,
            "course": course}


def routes(w):
    p, a, c = w["plan"].id, w["assignment"].id, w["cohort"].id
    return [
        ("GET", "/plans"), ("GET", "/plans/new"), ("POST", "/plans/new"), ("GET", f"/plans/{p}"),
        ("GET", f"/plans/{p}/edit"), ("POST", f"/plans/{p}/assignments"),
        ("POST", f"/plans/{p}/assignments/{a}/cancel"), ("POST", f"/plans/{p}/remind"),
        ("GET", "/plans/onboarding"), ("POST", "/plans/onboarding/remind"), ("GET", "/plans/overdue"),
        ("GET", f"/plans/{p}/import"), ("GET", "/plans/import/template.csv"), ("GET", "/plans/cohorts"),
        ("GET", f"/plans/cohorts/{c}"), ("POST", f"/plans/cohorts/{c}/remove"),
    ]


ROUTE_COUNT = 16


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("index", range(ROUTE_COUNT))
def test_role_route_matrix(world, client, make_user, login_as, role, index):
    method, path = routes(world)[index]
    if role != "anonymous":
        login_as(make_user(roles=(role,)))
    response = client.open(path, method=method, data={"user_id": str(world["agent"].id)})
    if role in MANAGERS and response.status_code == 400:  # an empty form is refused, never a 500
        return
    assert_access(response, role, MANAGERS)


def test_unknown_ids_are_404(world, client, login_as):
    login_as(world["trainer"])
    for path in ("/plans/999999", "/plans/cohorts/999999", "/plans/99999999999999", "/plans/import/template.pdf"):
        assert client.get(path).status_code == 404
    other = services.create_plan(world["trainer"], name="别的计划", description="", now=NOW)
    response = client.post(f"/plans/{other.id}/assignments/{world['assignment'].id}/cancel")
    assert response.status_code == 404


def test_plan_page_shows_completion_and_overdue(world, client, login_as):
    login_as(world["trainer"])
    html = client.get(f"/plans/{world['plan'].id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2026 年度培训计划" in html and "课程 level-one" in html and "热线一组" in html
    assert 'id="agent-E1001"' in html and "Overdue" in html and "2026-11" in html
    onboarding = client.get("/plans/onboarding").get_data(as_text=True)
    assert "课程 basics-a" in onboarding and 'id="agent-E1001"' in onboarding
    listing = client.get("/plans").get_data(as_text=True)
    assert f'id="plan-{world["plan"].id}"' in listing
    overdue = client.get("/plans/overdue").get_data(as_text=True)
    assert "课程 level-one" in overdue and "课程 basics-b" in overdue


def test_overdue_filter(world, client, login_as, make_user):
    make_user(team="热线一组", employee_no="E1002")
    login_as(world["trainer"])
    page = world["plan"].id
    everyone = client.get(f"/plans/{page}").get_data(as_text=True)
    assert 'id="agent-E1002"' in everyone
    # E1002 completes level-one: only E1001 is overdue
    user = db.session.scalar(select(User).where(User.employee_no == "E1002"))
    add_entry(user=user, kind="course", title="x", course=world["course"], passed=True, occurred_at=NOW)
    db.session.commit()
    filtered = client.get(f"/plans/{page}?overdue=1").get_data(as_text=True)
    assert 'id="agent-E1001"' in filtered and 'id="agent-E1002"' not in filtered


def test_add_assignment_form(world, client, login_as):
    login_as(world["trainer"])
    plan = world["plan"]
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    response = client.post(f"/plans/{plan.id}/assignments", data={
        "item": f"course:{course.id}", "target": f"cohort:{world['cohort'].id}", "starts_on": "2026-12-01",
        "due_on": "2026-12-31", "month": ""})
    assert response.status_code == 302
    created = db.session.scalar(select(Assignment).where(Assignment.course_id == course.id))
    assert created.target_cohort_id == world["cohort"].id and created.month == "2026-12"
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == world["agent"].id, Notification.kind == "assignment_given")) == 2


@pytest.mark.parametrize("data, message", [
    ({"item": "course:0", "target": "team:热线一组", "starts_on": "2026-12-01", "due_on": "2026-12-31"},
     "Choose what to assign."),
    ({"item": "ITEM", "target": "agent", "employee_no": "NOPE", "starts_on": "2026-12-01", "due_on": "2026-12-31"},
     "Enter the employee number of an active agent."),
    ({"item": "ITEM", "target": "team:没有这个组", "starts_on": "2026-12-01", "due_on": "2026-12-31"},
     "Choose for whom."),
    ({"item": "ITEM", "target": "team:热线一组", "starts_on": "2026-12-31", "due_on": "2026-12-01"},
     "The due date cannot be before the start date."),
    ({"item": "ITEM", "target": "level:1", "starts_on": "2026-12-01", "due_on": "not a date"}, "Not a valid date"),
    ({"item": "ITEM", "target": "level:1", "starts_on": "2026-12-01", "due_on": "2026-12-31", "month": "12/2026"},
     "Use YYYY-MM"),
    ({"item": "course:99999999999999999", "target": "cohort:abc", "starts_on": "", "due_on": ""},
     "Enter a date."),
])
def test_bad_assignment_input_rerenders_with_messages(world, client, login_as, data, message):
    login_as(world["trainer"])
    data = {key: value.replace("ITEM", f"course:{world['course'].id}") for key, value in data.items()}
    before = db.session.scalar(select(func.count()).select_from(Assignment))
    response = client.post(f"/plans/{world['plan'].id}/assignments", data=data,
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == before


def test_cancel_assignment(world, client, login_as):
    login_as(world["trainer"])
    plan, assignment = world["plan"], world["assignment"]
    assert client.post(f"/plans/{plan.id}/assignments/{assignment.id}/cancel").status_code == 302
    db.session.expire_all()
    assert assignment.cancelled_at is not None
    assert not progress.my_assignments(world["agent"], NOW).items or all(
        t.plan.onboarding for t in progress.my_assignments(world["agent"], NOW))


def test_remind_button_sends_once_a_day(world, client, login_as):
    login_as(world["trainer"])
    plan = world["plan"]
    first = client.post(f"/plans/{plan.id}/remind", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "1 agent reminded." in first.get_data(as_text=True)
    second = client.post(f"/plans/{plan.id}/remind", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "Nobody was reminded" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "assignment_reminder")) == 1
    one = client.post("/plans/onboarding/remind", data={"employee_no": "E1001"}, follow_redirects=True)
    assert one.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "assignment_reminder")) == 2


def test_plan_create_edit_archive(world, client, login_as):
    login_as(world["trainer"])
    response = client.post("/plans/new", data={"name": "   "}, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    response = client.post("/plans/new", data={"name": "2027 年度培训计划", "description": "说明"})
    assert response.status_code == 302
    plan = db.session.scalar(select(services.TrainingPlan).where(services.TrainingPlan.name == "2027 年度培训计划"))
    assert client.post(f"/plans/{plan.id}/edit", data={"name": "2027 年度计划", "archived": "y"}).status_code == 302
    db.session.expire_all()
    assert plan.name == "2027 年度计划" and plan.archived_at is not None
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert 'id="add"' not in page  # an archived plan takes no new assignments


def test_cohort_pages(world, client, login_as, make_user):
    login_as(world["trainer"])
    make_user(employee_no="E2001", team="热线二组")
    response = client.post("/plans/cohorts", data={"name": "2026-11 新员工入职批次"}, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "exists already" in response.get_data(as_text=True)
    assert client.post("/plans/cohorts", data={"name": "2026-12 批次"}).status_code == 302
    cohort = world["cohort"]
    response = client.post(f"/plans/cohorts/{cohort.id}", data={"employee_numbers": "E2001 NOPE"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "NOPE" in response.get_data(as_text=True)
    assert client.post(f"/plans/cohorts/{cohort.id}", data={"employee_numbers": "E2001"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(CohortMember)) == 2
    html = client.get(f"/plans/cohorts/{cohort.id}").get_data(as_text=True)
    assert 'id="member-E2001"' in html
    assert client.post(f"/plans/cohorts/{cohort.id}/remove", data={"user_id": "x"}).status_code == 400
    user = db.session.scalar(select(User).where(User.employee_no == "E2001"))
    assert client.post(f"/plans/cohorts/{cohort.id}/remove", data={"user_id": str(user.id)}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(CohortMember)) == 1


def test_import_page(world, client, login_as):
    login_as(world["trainer"])
    plan = world["plan"]
    bad = ("target_kind,target,item_kind,item,starts_on,due_on\n"
           "agent,NOPE,course,basics-a,2027-01-04,2027-01-29\n").encode()
    response = client.post(f"/plans/{plan.id}/import", data={"file": (io.BytesIO(bad), "a.csv")},
                           headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Row 2: target NOPE" in html and "nothing was imported" in html
    response = client.post(f"/plans/{plan.id}/import", data={"file": (io.BytesIO(b"PK\x03\x04junk"), "a.xlsx")},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "cannot be read" in response.get_data(as_text=True)
    good = bad.replace(b"NOPE", b"E1001")
    response = client.post(f"/plans/{plan.id}/import", data={"file": (io.BytesIO(good), "a.csv")})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 2
    template = client.get("/plans/import/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"


def test_home_partial(world, app, make_user):
    mine = progress.my_assignments(world["agent"], NOW)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template("plans/_home.html", assignments=mine)
        assert 'id="my-assignments"' in html and "课程 level-one" in html and 'href="/courses/level-one"' in html
        assert "Overdue" in html
        idle = progress.my_assignments(make_user(team="热线九组"), NOW)
        assert render_template("plans/_home.html", assignments=idle).strip() == ""


def _bulk_agents(n: int, start: int) -> None:
    users = []
    for number in range(start, start + n):
        user = User(employee_no=f"B{number:05d}", name=f"批量{number}", team=f"热线{number % 5}组", star_level=0,
                    hire_date=date(2026, 11, 2), password_hash="x", active=True)
        user.role_rows = [UserRole(role="agent")]
        users.append(user)
    db.session.add_all(users)
    db.session.commit()


def test_plan_page_queries_do_not_grow_with_agents(world, client, login_as):
    login_as(world["trainer"])
    plan = world["plan"]
    for slug, target in (("basics-a", services.Target("level", level=0)),
                         ("basics-b", services.Target("cohort", cohort=world["cohort"]))):
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        services.add_assignment(world["trainer"], plan, item=course, item_kind="course", target=target,
                                starts_on=date(2026, 11, 1), due_on=date(2026, 12, 1), month=None, now=NOW)
    _bulk_agents(10, 0)
    pages = (f"/plans/{plan.id}", "/plans", "/plans/onboarding", "/plans/overdue")
    for path in pages:  # warm up: the first request of a session loads what later ones reuse
        assert client.get(path).status_code == 200
    few = {path: count_queries(lambda path=path: client.get(path)) for path in pages}
    _bulk_agents(990, 10)
    many = {path: count_queries(lambda path=path: client.get(path)) for path in pages}
    assert few == many
    html = client.get(f"/plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Page 1 of 21 (1001 agents)" in html and html.count('<tr id="agent-') == 50
