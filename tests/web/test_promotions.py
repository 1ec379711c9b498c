"""The ready-for-promotion list, confirm and decline through the browser, the agent's checklist."""
import pytest
from sqlalchemy import insert, select

from lms.extensions import db
from lms.lessons.services import complete_lesson
from lms.models import Course, StarChange, User, UserRole
from tests.conftest import assert_access, count_queries

EN = {"Accept-Language": "en"}
ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]


@pytest.fixture
def ready_agent(catalog, make_user):
    """An agent at 0 stars with both required level-0 courses read (they have no exam)."""
    agent = make_user(star_level=0, employee_no="E7001", name="赵准备")
    for course in db.session.scalars(select(Course).where(Course.star_level == 0, Course.kind == "required")):
        for lesson in course.live_lessons:
            complete_lesson(agent, lesson)
    return agent


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path", [("GET", "/promotions"), ("POST", "/promotions/E7001/confirm"),
                                          ("POST", "/promotions/E7001/decline")])
def test_only_trainers_and_admins_manage_promotions(ready_agent, client, make_user, login_as, role, method, path):
    if role != "anonymous":
        login_as(make_user(roles=(role,), star_level=4))
    response = client.open(path, method=method, data={"reason": "理由"})
    assert_access(response, role, {"trainer", "admin"})
    if role not in ("trainer", "admin"):
        assert db.session.scalar(select(StarChange.id)) is None


def test_confirm_from_the_list(ready_agent, client, make_user, login_as):
    login_as(make_user(roles=("admin",), star_level=5))
    page = client.get("/promotions", headers=EN).get_data(as_text=True)
    assert "赵准备" in page and "Promote to 1 star<" in page
    response = client.post("/promotions/E7001/confirm", data={"reason": "考核合格"}, headers=EN)
    assert response.status_code == 302
    assert "赵准备 is promoted to 1 star." in client.get("/promotions", headers=EN).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, ready_agent.id).star_level == 1
    # a second click finds them no longer eligible (level 1 has a required course left): nothing changes
    client.post("/promotions/E7001/confirm", data={})
    db.session.expire_all()
    assert db.session.get(User, ready_agent.id).star_level == 1
    assert len(db.session.scalars(select(StarChange)).all()) == 1


def test_decline_needs_a_reason(ready_agent, client, make_user, login_as):
    login_as(make_user(roles=("trainer",)))
    client.post("/promotions/E7001/decline", data={"reason": "  "})
    assert db.session.scalar(select(StarChange.id)) is None
    client.post("/promotions/E7001/decline", data={"reason": "下季度再评"})
    page = client.get("/promotions", headers=EN).get_data(as_text=True)
    assert "Declined on" in page and "下季度再评" in page
    assert client.post("/promotions/NOBODY/decline", data={"reason": "x"}).status_code == 404


def test_the_agent_sees_what_stands_between_them_and_the_next_star(catalog, client, make_user, login_as):
    agent = make_user(star_level=0)
    login_as(agent)
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert 'id="next-star"' in page and "Lessons to read: 0 of 3 read" in page
    for course in db.session.scalars(select(Course).where(Course.star_level == 0, Course.kind == "required")):
        for lesson in course.live_lessons:
            complete_lesson(agent, lesson)
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert "You meet every condition" in page


def test_the_ready_list_runs_the_same_queries_for_10_and_1000_agents(catalog, client, make_user, login_as):
    login_as(make_user(roles=("admin",), star_level=5))
    hashed = make_user().password_hash

    def add_agents(count: int, start: int) -> None:
        rows = [{"employee_no": f"B{start + n:05d}", "name": f"批量{n}", "team": "热线一组", "star_level": 0,
                 "active": True, "password_hash": hashed} for n in range(count)]
        db.session.execute(insert(User), rows)
        ids = db.session.scalars(select(User.id).where(User.employee_no.in_([r["employee_no"] for r in rows])))
        db.session.execute(insert(UserRole), [{"user_id": user_id, "role": "agent"} for user_id in ids])
        db.session.commit()

    add_agents(10, 0)
    few = count_queries(lambda: client.get("/promotions"))
    add_agents(990, 10)
    assert count_queries(lambda: client.get("/promotions")) == few
