"""Classroom pages: the role x route matrix, the session form's bad input, check-in on the phone,
the code display, attendance marking, calendar, .ics, and bounded queries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.classroom import attendance, services, signups, timing
from lms.extensions import db
from lms.models import RecordEntry, User
from lms.models.classroom import ClassAttendance, ClassSession
from tests.conftest import assert_access, count_queries

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]
EN = {"Accept-Language": "en"}


def schedule(instructor, *, starts_at=NOW, minutes=90, **fields) -> ClassSession:
    values = dict(title="投诉处理工作坊", starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes),
                  instructor=instructor, location="培训室 A", audience={"teams": ["热线一组"]})
    values.update(fields)
    return services.create_session(instructor, services.SessionFields(**values), NOW - timedelta(days=2))


@pytest.fixture
def world(make_user, frozen_now):
    """A running session (check-in open), a sign-up session in a week, both for team 热线一组."""
    frozen_now(NOW)
    trainer = make_user(roles=("trainer",), star_level=5, team="培训部")
    running = schedule(trainer)
    later = schedule(trainer, starts_at=NOW + timedelta(days=7), signup_required=True, capacity=1, title="下周")
    return {"trainer": trainer, "running": running, "later": later}


ROUTES = [
    ("GET", "/sessions/", {"mentor", "trainer", "admin"}),
    ("GET", "/sessions/calendar", {"mentor", "trainer", "admin"}),
    ("GET", "/sessions/calendar?view=week&day=2026-11-23", {"mentor", "trainer", "admin"}),
    ("GET", "/sessions/new", {"trainer", "admin"}),
    ("GET", "/sessions/{running}/edit", {"trainer", "admin"}),
    ("POST", "/sessions/{later}/cancel", {"trainer", "admin"}),
    ("GET", "/sessions/{running}", {"agent", "trainer", "admin"}),
    ("GET", "/sessions/{running}/sheet", {"trainer", "admin"}),
    ("GET", "/sessions/{running}/code", {"trainer", "admin"}),
    ("GET", "/sessions/{running}/code.json", {"trainer", "admin"}),
    ("GET", "/sessions/{running}/qr.svg", {"trainer", "admin"}),
    ("POST", "/sessions/{running}/attendance", {"trainer", "admin"}),
    ("POST", "/sessions/{running}/close", {"trainer", "admin"}),
    ("GET", "/sessions/{running}/checkin", {"agent", "trainer", "admin"}),
    ("POST", "/sessions/{running}/checkin", {"agent", "trainer", "admin"}),
    ("POST", "/sessions/{later}/signup", {"agent", "trainer", "admin"}),
    ("POST", "/sessions/{later}/withdraw", {"agent", "trainer", "admin"}),
    ("GET", "/sessions/{running}.ics", {"agent", "trainer", "admin"}),
    ("GET", "/sessions/mine", {"agent", "mentor", "trainer", "admin"}),
    ("GET", "/sessions/mine.ics", {"agent", "mentor", "trainer", "admin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, allowed", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_role_route_matrix(world, client, make_user, login_as, role, method, path, allowed):
    if role != "anonymous":
        login_as(make_user(roles=(role,), team="热线一组"))
    url = path.format(running=world["running"].id, later=world["later"].id)
    response = client.open(url, method=method, data={"code": "123456"} if "checkin" in url else {})
    if role in allowed and response.status_code == 422:  # a wrong code re-renders the form: not a refusal
        return
    assert_access(response, role, allowed)


def test_a_mentor_runs_the_sessions_they_teach(world, make_user, login_as, client):
    mentor = make_user(roles=("mentor", "agent"), team="热线九组", star_level=4)
    taught = schedule(mentor, starts_at=NOW + timedelta(days=1), title="导师带教课")
    login_as(mentor)
    assert client.get(f"/sessions/{taught.id}/sheet").status_code == 200
    assert client.get(f"/sessions/{taught.id}/edit").status_code == 403  # scheduling stays with trainers
    assert client.get(f"/sessions/{world['running'].id}").status_code == 403
    page = client.get("/sessions/").get_data(as_text=True)
    assert "导师带教课" in page and "下周" not in page


def test_unknown_session_is_404(world, client, make_user, login_as):
    login_as(make_user(roles=("trainer",)))
    assert client.get("/sessions/999999").status_code == 404
    assert client.get("/sessions/99999999999999").status_code == 404


# --- the session form ---------------------------------------------------------------------------

def form_data(**overrides):
    data = {"title": "情绪管理沙龙", "course_id": "0", "instructor_id": "0", "location": "培训室 B",
            "online_url": "", "starts_at": "2026-11-30T14:00", "ends_at": "2026-11-30T16:00", "capacity": "",
            "signup_cutoff_hours": "24", "audience_teams": ["热线一组"], "audience_agents": "", "description": ""}
    data.update(overrides)
    return data


def test_trainer_schedules_in_center_time(world, client, login_as, make_user):
    agent = make_user(team="热线二组", employee_no="E7001")
    make_user(team="热线一组")
    login_as(world["trainer"])
    response = client.post("/sessions/new", data=form_data(audience_agents="E7001", signup_required="y",
                                                            capacity="12"))
    assert response.status_code == 302
    session = db.session.scalar(select(ClassSession).where(ClassSession.title == "情绪管理沙龙"))
    assert session.starts_at == datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
    assert session.audience == {"agents": [agent.id], "teams": ["热线一组"], "levels": []}
    assert session.capacity == 12 and session.signup_required
    edit = client.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert 'value="2026-11-30T14:00"' in edit and "E7001" in edit


@pytest.mark.parametrize("overrides, message", [
    ({"ends_at": "2026-11-30T13:00"}, "The end must come after the start."),
    ({"ends_at": "2026-11-30T14:00"}, "The end must come after the start."),
    ({"starts_at": "tomorrow"}, "Not a valid datetime value."),
    ({"online_url": "javascript:alert(1)"}, "Give a web address starting with http:// or https://."),
    ({"capacity": "0"}, "Number must be between 1 and 10000."),
    ({"audience_teams": [], "audience_agents": ""}, "Choose who is invited: agents, teams or star levels."),
    ({"audience_agents": "E404, X1"}, "Not an active agent: E404, X1"),
    ({"title": ""}, "Give a topic or choose a course."),
    ({"signup_cutoff_hours": "-1"}, "Number must be between 0 and 720."),
])
def test_bad_input_re_renders_with_a_message(world, client, login_as, make_user, overrides, message):
    make_user(team="热线一组")
    login_as(world["trainer"])
    before = db.session.scalar(select(func.count()).select_from(ClassSession))
    response = client.post("/sessions/new", data=form_data(**overrides), headers=EN)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ClassSession)) == before


# --- check-in on the phone ----------------------------------------------------------------------

def test_scanned_link_fills_the_code_and_only_post_checks_in(world, client, make_user, login_as):
    agent = make_user(team="热线一组")
    login_as(agent)
    session = world["running"]
    code = timing.current_code(session.id, NOW)[0]
    page = client.get(f"/sessions/{session.id}/checkin?code={code}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'value="{code}"' in html
    assert 'inputmode="numeric"' in html and 'autocomplete="one-time-code"' in html
    assert db.session.scalar(select(func.count()).select_from(ClassAttendance)) == 0
    response = client.post(f"/sessions/{session.id}/checkin", data={"code": f" {code[:3]} {code[3:]} "},
                           headers=EN)
    assert response.status_code == 302
    row = db.session.scalar(select(ClassAttendance))
    assert (row.user_id, row.status, row.checked_in_at) == (agent.id, "present", NOW)
    again = client.post(f"/sessions/{session.id}/checkin", data={"code": code}, headers=EN, follow_redirects=True)
    assert "You have already checked in." in again.get_data(as_text=True)


@pytest.mark.parametrize("code, message", [
    ("", "Type the 6-digit code."),
    ("12345", "The code has 6 digits."),
    ("abcdef", "The code has 6 digits."),
])
def test_malformed_codes(world, client, make_user, login_as, code, message):
    login_as(make_user(team="热线一组"))
    response = client.post(f"/sessions/{world['running'].id}/checkin", data={"code": code}, headers=EN)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_expired_code_says_so(world, client, make_user, login_as, frozen_now):
    login_as(make_user(team="热线一组"))
    session = world["running"]
    old = timing.current_code(session.id, NOW)[0]
    frozen_now(NOW + timedelta(minutes=3))
    response = client.post(f"/sessions/{session.id}/checkin", data={"code": old}, headers=EN)
    assert response.status_code == 422 and "That code has expired." in response.get_data(as_text=True)


def test_checkin_before_the_window_is_refused(world, client, make_user, login_as, frozen_now):
    login_as(make_user(team="热线一组"))
    session = world["later"]
    signups.sign_up(session.id, db.session.scalar(select(User).where(User.team == "热线一组")), NOW)
    code = timing.current_code(session.id, NOW)[0]
    response = client.post(f"/sessions/{session.id}/checkin", data={"code": code}, headers=EN)
    assert response.status_code == 422 and "Check-in opens 15 minutes before the start." in response.get_data(
        as_text=True)


# --- the instructor's display, marking, closing, the sheet --------------------------------------

def test_code_display_and_json(world, client, login_as, frozen_now):
    login_as(world["trainer"])
    session = world["running"]
    page = client.get(f"/sessions/{session.id}/code").get_data(as_text=True)
    code, window, _left = timing.current_code(session.id, NOW)
    assert code in page and "js/checkin.js" in page and "<script>" not in page
    data = client.get(f"/sessions/{session.id}/code.json").get_json()
    assert data["open"] and data["code"] == code and data["window"] == window and data["checked_in"] == 0
    svg = client.get(data["qr"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    frozen_now(session.ends_at)
    login_as(world["trainer"])  # 90 minutes later the idle login session has ended
    assert client.get(f"/sessions/{session.id}/code.json").get_json() == {"open": False}
    assert client.get(f"/sessions/{session.id}/qr.svg").status_code == 404
    assert code not in client.get(f"/sessions/{session.id}/code").get_data(as_text=True)


def test_mark_close_and_correct_through_the_page(world, client, make_user, login_as, frozen_now):
    agents = [make_user(team="热线一组") for _ in range(3)]
    session = world["running"]
    login_as(world["trainer"])
    data = {f"status-{agents[0].id}": "present", f"was-{agents[0].id}": "",
            f"status-{agents[1].id}": "", f"was-{agents[1].id}": ""}
    response = client.post(f"/sessions/{session.id}/attendance", data=data, headers=EN, follow_redirects=True)
    assert "1 attendance mark saved." in response.get_data(as_text=True)
    frozen_now(session.ends_at)
    login_as(world["trainer"])
    page = client.post(f"/sessions/{session.id}/close", headers=EN, follow_redirects=True).get_data(as_text=True)
    assert "1 present, 0 late, 0 excused, 2 absent" in page
    bad = client.post(f"/sessions/{session.id}/attendance", headers=EN, follow_redirects=True,
                      data={f"status-{agents[1].id}": "excused", f"was-{agents[1].id}": "absent", "reason": ""})
    assert "say why it is changed" in bad.get_data(as_text=True)
    client.post(f"/sessions/{session.id}/attendance", headers=EN,
                data={f"status-{agents[1].id}": "excused", f"was-{agents[1].id}": "absent", "reason": "事假已批"})
    entries = list(db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == agents[1].id)
                                      .order_by(RecordEntry.id)))
    assert [e.passed for e in entries] == [False, None] and entries[1].corrects_id == entries[0].id
    sheet = client.get(f"/sessions/{session.id}/sheet", headers=EN).get_data(as_text=True)
    assert all(agent.employee_no in sheet for agent in agents) and "Signature" in sheet and "Excused" in sheet


def test_agent_signs_up_and_cancels(world, client, make_user, login_as):
    first, second = make_user(team="热线一组"), make_user(team="热线一组")
    session = world["later"]
    signups.sign_up(session.id, first, NOW)
    login_as(second)
    page = client.post(f"/sessions/{session.id}/signup", headers=EN, follow_redirects=True).get_data(as_text=True)
    assert "you are on the waiting list, number 1" in page and "Leave the waiting list" in page
    mine = client.get("/sessions/mine", headers=EN).get_data(as_text=True)
    assert "Waiting list: number 1" in mine and "下周" in mine
    client.post(f"/sessions/{session.id}/withdraw")
    assert signups.waiting_position(session, second) is None


# --- calendar, .ics -----------------------------------------------------------------------------

@pytest.mark.parametrize("query, shown", [("", True), ("?view=week", True), ("?view=month&day=2026-10-01", False),
                                          ("?day=not-a-date", True), ("?view=year&day=9999-99-99", True)])
def test_calendar_views_never_fail(world, client, login_as, query, shown):
    """A bad view or day falls back to the month of today."""
    login_as(world["trainer"])
    response = client.get(f"/sessions/calendar{query}")
    assert response.status_code == 200
    assert ("投诉处理工作坊" in response.get_data(as_text=True)) is shown


def test_calendar_month_shows_the_session_on_its_day(world, client, login_as):
    login_as(world["trainer"])
    html = client.get("/sessions/calendar?view=month&day=2026-11-05", headers=EN).get_data(as_text=True)
    assert "投诉处理工作坊" in html and "下周" in html
    week = client.get("/sessions/calendar?view=week&day=2026-11-23", headers=EN).get_data(as_text=True)
    assert "投诉处理工作坊" in week and "下周" not in week


def test_ics_downloads(world, client, make_user, login_as):
    agent = make_user(team="热线一组")
    signups.sign_up(world["later"].id, agent, NOW)
    login_as(agent)
    one = client.get(f"/sessions/{world['running'].id}.ics")
    assert one.mimetype == "text/calendar" and "attachment" in one.headers["Content-Disposition"]
    assert f"UID:class-session-{world['running'].id}@localhost".encode() in one.data
    feed = client.get("/sessions/mine.ics").data
    assert feed.count(b"BEGIN:VEVENT") == 2 and b"DTSTART:20261123T090000Z" in feed


# --- bounded queries ----------------------------------------------------------------------------

def add_agents(count: int, team: str = "热线一组") -> list[User]:
    from lms.models import UserRole

    users = [User(employee_no=f"B{team[-2:]}{i:05d}", name=f"批量{i}", team=team, star_level=0,
                  password_hash="x") for i in range(count)]
    db.session.add_all(users)
    db.session.flush()
    db.session.add_all([UserRole(user_id=user.id, role="agent") for user in users])
    db.session.commit()
    return users


@pytest.mark.parametrize("path", ["/sessions/{id}", "/sessions/{id}/sheet"])
def test_session_pages_run_a_fixed_number_of_queries(app, client, make_user, login_as, frozen_now, path):
    frozen_now(NOW)
    trainer = make_user(roles=("trainer",), team="培训部")
    small = schedule(trainer, audience={"teams": ["热线一组"]})
    big = schedule(trainer, audience={"teams": ["热线二组"]})
    few, many = add_agents(10, "热线一组"), add_agents(1000, "热线二组")
    for session, agents in ((small, few), (big, many)):
        attendance.mark_attendance(session, trainer, {a.id: (None, "present") for a in agents[:5]}, "", NOW)
    login_as(trainer)
    counts = [count_queries(lambda: client.get(path.format(id=s.id))) for s in (small, big)]
    assert counts[0] == counts[1]
    assert "批量999" in client.get(path.format(id=big.id)).get_data(as_text=True)


def test_state_changing_routes_write_their_audit_events(world, client, make_user, login_as, frozen_now):
    from lms.models import AuditEvent

    def actions():
        return {event.action for event in db.session.scalars(select(AuditEvent))}

    agent = make_user(team="热线一组")
    login_as(world["trainer"])
    assert client.post("/sessions/new", data=form_data()).status_code == 302
    session = db.session.scalar(select(ClassSession).where(ClassSession.title == "情绪管理沙龙"))
    assert client.post(f"/sessions/{session.id}/edit", data=form_data(capacity="5")).status_code == 302
    client.post(f"/sessions/{session.id}/cancel")
    client.post(f"/sessions/{world['running'].id}/attendance",
                data={f"status-{agent.id}": "present", f"was-{agent.id}": ""})
    client.post(f"/sessions/{world['running'].id}/close")
    assert {"class_session_created", "class_session_updated", "class_session_cancelled", "attendance_marked",
            "attendance_closed"} <= actions()
