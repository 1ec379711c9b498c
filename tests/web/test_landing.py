"""Landing pages by role: each role lands on its own page (admin overview, trainer workspace, mentor's
mentees, agent home), who may open them, what they show, and their queries whatever the numbers."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.auth import activation
from lms.extensions import db
from lms.models import AttemptAnswer, AttemptQuestion, Course, Exam, ExamAttempt, Job, User
from lms.models.classroom import ClassSession
from lms.plans import services as plans
from lms.records.services import audit
from tests.conftest import assert_access, count_queries
from tests.exam_support import make_bank, make_exam

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday
EN = {"Accept-Language": "en"}
ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]


def text_of(response) -> str:
    html = response.get_data(as_text=True) if hasattr(response, "get_data") else response
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def part(html: str, element_id: str) -> str:
    """The text of the element with this id (up to the first end tag of its kind: no nesting)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, element_id
    return text_of(match.group(2))


# --- where each role lands ----------------------------------------------------------------------

@pytest.mark.parametrize("roles, star, landing", [
    (("admin",), 0, "/admin"),
    (("trainer",), 0, "/workspace"),
    (("mentor", "agent"), 4, "/mentoring"),
    (("agent",), 0, "/"),  # the agent home is the front door itself
    (("admin", "trainer", "mentor", "agent"), 5, "/admin"),  # the highest role wins
    (("trainer", "mentor", "agent"), 5, "/workspace"),
])
def test_each_role_lands_on_its_page_after_login(app, make_user, roles, star, landing):
    user = make_user(roles=roles, star_level=star)
    client = app.test_client()
    response = client.post("/login", data={"employee_no": user.employee_no, "password": "password123"},
                           follow_redirects=True, headers=EN)
    assert response.status_code == 200
    assert response.request.path == landing  # "/" redirects everyone but agents: no agent home for them


def test_the_agent_home_is_still_open_to_everyone_at_learn(app, make_user, login_as, client):
    login_as(make_user(roles=("trainer",)))
    assert client.get("/learn").status_code == 200


@pytest.mark.parametrize("path, allowed", [
    ("/admin", {"admin"}),
    ("/admin/decisions", {"admin"}),
    ("/admin/decisions?fragment=1", {"admin"}),
    ("/workspace", {"trainer", "admin"}),
    ("/mentoring", {"mentor"}),
    ("/account/password", {"agent", "mentor", "trainer", "admin"}),
])
@pytest.mark.parametrize("role", ROLES)
def test_landing_pages_permission_matrix(app, client, make_user, login_as, path, allowed, role):
    if role != "anonymous":
        login_as(make_user(roles=(role,), star_level=4))
    assert_access(client.get(path), role, allowed)


# --- the admin overview -------------------------------------------------------------------------

def add_agents(count: int, *, start: int, team: str = "热线一组") -> list[User]:
    """Agents in bulk (one commit): star levels 0-4 in turn, every seventh inactive, every fifth
    waiting for activation, every ninth with a password to choose."""
    users = []
    for n in range(start, start + count):
        user = User(employee_no=f"B{n:05d}", name=f"批量{n}", team=team, star_level=n % 5, active=n % 7 != 0,
                    password_hash="x", must_change_password=n % 9 == 0)
        user.roles = {"agent"}
        if n % 5 == 0:
            activation.issue(user, NOW - timedelta(days=20 if n % 10 == 0 else 1))
        users.append(user)
    db.session.add_all(users)
    db.session.commit()
    return users


@pytest.fixture
def admin(make_user, frozen_now):
    frozen_now(NOW)
    return make_user(roles=("admin",), name="王敏", employee_no="A0001", star_level=5)


def test_the_admin_overview_counts_staff_and_shows_what_waits(catalog, admin, make_user, client, login_as):
    trainer = make_user(roles=("trainer",), name="李静")
    make_user(roles=("mentor", "agent"), star_level=4)
    add_agents(10, start=1)  # levels 1,2,3,4,0,...; 7 inactive; 5 and 10 awaiting (10's code expired); 9 must change
    course = db.session.scalar(select(Course).where(Course.slug == "level-one"))
    plan = plans.create_plan(trainer, name="冬季专项", description="", now=NOW - timedelta(days=30))
    plans.add_assignment(trainer, plan, item=course, item_kind="course",
                         target=plans.Target("team", team="热线一组"), starts_on=date(2026, 11, 1),
                         due_on=date(2026, 11, 20), month=None, now=NOW - timedelta(days=30))
    db.session.add(Job(kind="staff", status="failed", filename="staff-november.xlsx", created_by=admin,
                       created_at=NOW - timedelta(days=1), finished_at=NOW - timedelta(days=1), error="error"))
    audit(admin, "account.deactivated", "user", trainer.id)
    db.session.commit()

    login_as(admin)
    response = client.get("/admin", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    staff = part(html, "staff")
    # active agents per level: level 0 = 5 (awaiting) and 10 (awaiting) -> 2; level 1: 1, 6; level 2: 2;
    # level 3: 3, 8; level 4: 4, 9 and the mentor; 7 (level 2) is inactive
    assert "New hire (0 stars) 2" in staff and "1-star agent 2" in staff and "2-star agent 1" in staff
    assert "3-star agent 2" in staff and "4-star agent 3" in staff and "5-star agent 0" in staff
    assert "Inactive 1" in staff and "Mentors 1" in staff and "Trainers 1" in staff and "Admins 1" in staff
    assert "2 accounts not activated yet · 1 code expired" in staff
    assert "1 person must choose a new password at next login" in staff
    assert part(html, "tile-agents").split() == ["10", "Active", "agents"]
    # the slow figures come after the page, from /admin/decisions, into placeholders of the same ids
    assert 'data-fill-from="/admin/decisions?fragment=1"' in html and "/static/js/fill.js" in html
    assert part(html, "tile-promotions").split()[0] == "…" and 'href="/plans/overdue"' in html
    assert 'href="/admin/decisions"' in html  # without script: the same figures on a page of their own
    page = client.get("/admin/decisions", headers=EN)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "10 assigned items are past their due date" in text_of(page)
    decisions = client.get("/admin/decisions?fragment=1", headers=EN).get_data(as_text=True)
    overdue = part(decisions, "overdue")
    # the team's course, due on Nov 20, not done by its ten active agents
    assert "10 assigned items are past their due date, for 10 agents." in overdue and "热线一组 10" in overdue
    assert part(decisions, "tile-overdue").split() == ["10", "Behind", "on", "training"]
    assert "things wait for a decision." in part(decisions, "decision-summary")
    assert "<html" not in decisions  # a fragment, not a page
    imports = part(html, "imports")
    assert "staff-november.xlsx" in imports and "Failed" in imports
    events = part(html, "recent-events")
    assert "Account deactivated · 李静" in events and "王敏" in events
    for link in ("/admin/users", "/plans", "/reports", "/audit/", "/promotions", "/plans/overdue"):
        assert f'href="{link}"' in html


def test_the_admin_overview_lists_agents_ready_for_promotion(admin, make_user, client, login_as):
    ready = make_user(roles=("agent",), star_level=0, name="张晓", hire_date=date(2026, 1, 5))  # no ladder rules
    login_as(admin)
    html = client.get("/admin/decisions?fragment=1", headers=EN).get_data(as_text=True)
    promotions = part(html, "promotions")
    assert "张晓" in promotions and "1 agent meets every condition of their next star." in promotions
    assert part(html, "tile-promotions").split()[0] == "1"
    assert "No assigned training is overdue." in part(html, "overdue")
    assert ready.id


def overview_queries(client) -> tuple[int, int]:
    return tuple(count_queries(lambda path=path: client.get(path).status_code == 200 or pytest.fail(path))
                 for path in ("/admin", "/admin/decisions?fragment=1", "/admin/decisions"))


def test_the_admin_overview_runs_the_same_queries_for_10_or_200_agents(catalog, admin, make_user, client, login_as):
    trainer = make_user(roles=("trainer",))
    course = db.session.scalar(select(Course).where(Course.slug == "level-one"))
    plan = plans.create_plan(trainer, name="冬季专项", description="", now=NOW - timedelta(days=30))
    for team in ("热线一组", "热线二组"):
        plans.add_assignment(trainer, plan, item=course, item_kind="course", target=plans.Target("team", team=team),
                             starts_on=date(2026, 11, 1), due_on=date(2026, 11, 20), month=None,
                             now=NOW - timedelta(days=30))
    add_agents(10, start=1)
    db.session.add(Job(kind="staff", status="done", filename="a.csv", created_by=admin, created_at=NOW))
    audit(admin, "account.deactivated", "user", trainer.id)
    db.session.commit()
    login_as(admin)
    client.get("/admin")
    few = overview_queries(client)
    add_agents(190, start=100, team="热线二组")
    for n in range(10):
        db.session.add(Job(kind="bank", status="failed", filename=f"b{n}.csv", created_by=admin, created_at=NOW,
                           finished_at=NOW))
        audit(admin, "account.deactivated", "user", trainer.id)
    db.session.commit()
    assert overview_queries(client) == few


# --- the trainer workspace ------------------------------------------------------------------------

def essay_attempts(exam: Exam, agents: list[User], *, submitted: datetime) -> list[ExamAttempt]:
    """A submitted attempt per agent with one essay answer waiting for marks."""
    version = exam.pools[0].bank.questions[0].current
    attempts = []
    for agent in agents:
        attempt = ExamAttempt(exam=exam, user=agent, number=1, state="pending",
                              started_at=submitted - timedelta(minutes=10), deadline=submitted + timedelta(minutes=10),
                              submitted_at=submitted, max_score=1.0)
        question = AttemptQuestion(attempt=attempt, position=0, question_id=version.question_id,
                                   question_version_id=version.id, question_type="essay", points=1.0)
        question.answer = AttemptAnswer(response="我的回答", seq=1, saved_at=submitted)
        attempts.append(attempt)
    db.session.add_all(attempts)
    db.session.commit()
    return attempts


@pytest.fixture
def trainer(make_user, frozen_now):
    frozen_now(NOW)
    return make_user(roles=("trainer",), name="李静", employee_no="T0001", star_level=5)


def session_at(title: str, start: datetime, *, hours: int = 2, **fields) -> ClassSession:
    session = ClassSession(title=title, starts_at=start, ends_at=start + timedelta(hours=hours), location="培训室A",
                           audience={}, **fields)
    db.session.add(session)
    return session


def test_the_workspace_shows_marking_sessions_exams_and_banks(trainer, make_user, client, login_as):
    bank = make_bank("essays", per_type=1, types=("essay",))
    exam = make_exam([(bank, 1)], slug="essay-exam", title="投诉处理论述")
    make_exam([(bank, 1)], slug="closed", title="已关闭的考试", closes_at=NOW - timedelta(days=1))
    make_exam([(bank, 1)], slug="windowed", title="月度抽考", opens_at=NOW - timedelta(days=1),
              closes_at=NOW + timedelta(days=2))
    first, second = make_user(name="张晓"), make_user(name="刘洋")
    essay_attempts(exam, [first], submitted=NOW - timedelta(days=2))
    essay_attempts(exam, [second], submitted=NOW - timedelta(hours=1))
    db.session.add(ExamAttempt(exam=exam, user=make_user(name="赵磊"), number=1, state="open",
                               started_at=NOW - timedelta(minutes=5), deadline=NOW + timedelta(minutes=15)))
    session_at("今天的投诉处理课", NOW + timedelta(hours=1), instructor=trainer)
    session_at("周三的产品知识课", NOW + timedelta(days=2))
    session_at("下周的课", NOW + timedelta(days=8))
    session_at("取消的课", NOW + timedelta(days=1), cancelled_at=NOW)
    session_at("上周的课", NOW - timedelta(days=3))  # ended, attendance not closed
    db.session.commit()

    login_as(trainer)
    response = client.get("/workspace", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    marking = part(html, "marking")
    assert "2 attempts wait for essay marks" in marking
    assert marking.index("张晓") < marking.index("刘洋")  # oldest first
    assert part(html, "tile-marking").split()[0] == "2"
    sessions = part(html, "sessions")
    assert "今天的投诉处理课" in part(html, "sessions-today")
    assert "周三的产品知识课" in part(html, "sessions-week")
    assert "下周的课" not in sessions and "取消的课" not in sessions and "上周的课" not in sessions
    assert "1 past session has attendance to close" in sessions
    exams = part(html, "exams")
    assert "投诉处理论述" in exams and "1 sitting" in exams and "月度抽考" in exams
    assert "已关闭的考试" not in exams
    assert exams.index("投诉处理论述") < exams.index("月度抽考")  # people sitting first
    assert "题库 essays" in part(html, "banks")
    for endpoint in ("/sessions/new", "/banks/new", "/exams/manage/new", "/practicals/scenarios/new",
                     "/surveys/results", "/exams/marking"):
        assert f'href="{endpoint}"' in html


def test_an_empty_workspace_says_so(trainer, client, login_as):
    login_as(trainer)
    html = text_of(client.get("/workspace", headers=EN))
    assert "Nothing to mark." in html and "No sessions today." in html and "No exam is open now." in html
    assert "No question banks yet." in html


def workspace_queries(client) -> int:
    return count_queries(lambda: client.get("/workspace").status_code == 200 or pytest.fail("/workspace"))


def test_the_workspace_runs_the_same_queries_for_10_or_200_attempts(trainer, make_user, client, login_as):
    bank = make_bank("essays", per_type=1, types=("essay",))
    exam = make_exam([(bank, 1)], slug="essay-exam")
    agents = add_agents(200, start=1)
    essay_attempts(exam, agents[:10], submitted=NOW - timedelta(hours=3))
    session_at("今天的课", NOW + timedelta(hours=1), instructor=trainer)
    session_at("本周的课", NOW + timedelta(days=2), instructor=trainer)
    db.session.commit()
    login_as(trainer)
    client.get("/workspace")
    few = workspace_queries(client)
    essay_attempts(exam, agents[10:], submitted=NOW - timedelta(hours=2))
    for n in range(10):
        session_at(f"课 {n}", NOW + timedelta(days=n % 6, hours=1), instructor=trainer)
        make_bank(f"more-{n}", per_type=1, types=("essay",))
        make_exam([(bank, 1)], slug=f"exam-{n}")
    db.session.commit()
    assert workspace_queries(client) == few
