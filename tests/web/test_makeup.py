"""Make-up attempts through the browser: the trainer's grant form on an exam's attempts page, the
agent's exam card, the "out of attempts" lists of trainers and mentors, bad input, permissions."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.exams import makeup, services
from lms.extensions import db
from lms.models.exams import AttemptGrant
from tests.conftest import assert_access
from tests.exam_support import make_bank, make_exam, started_attempt_id

EN = {"Accept-Language": "en"}
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
AUTO = ("single", "multi", "truefalse", "fill", "matching")
ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def exam(app):
    bank = make_bank("kb", per_type=2, types=AUTO)
    return make_exam([(bank, 5)], slug="refresher", attempts_allowed=2, retake_delay_minutes=60,
                     later_retake_delay_minutes=60)


@pytest.fixture
def mentor(make_user):
    return make_user(roles=("mentor", "agent"), name="陈刚", star_level=4)


@pytest.fixture
def agent(make_user, mentor):
    return make_user(roles=("agent",), name="赵磊", mentor=mentor, employee_no="E1003")


@pytest.fixture
def trainer(make_user):
    return make_user(roles=("trainer",), name="李静")


def use_every_attempt(user, exam, start=T0):
    for n in range(exam.attempts_allowed):
        attempt = services.start_attempt(user, exam, start + timedelta(hours=2 * n))
        services.submit_attempt(user, attempt.id, start + timedelta(hours=2 * n, minutes=3))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/exams/manage/{id}/attempts", {"trainer", "admin"}),
    ("POST", "/exams/manage/{id}/grants", {"trainer", "admin"}),
    ("GET", "/exams/marking", {"trainer", "admin"}),
    ("GET", "/exams/{slug}", {"agent", "mentor", "trainer", "admin"}),
    ("GET", "/mentoring", {"mentor"}),
], ids=["attempts", "grant", "marking", "exam page", "mentor home"])
def test_permission_matrix(client, make_user, login_as, exam, agent, frozen_now, role, method, path, allowed):
    frozen_now(T0 + timedelta(days=1))
    if role != "anonymous":
        login_as(make_user(roles=(role,)))
    data = {"employee_no": agent.employee_no, "extra_attempts": "1", "reason": "系统故障"}
    response = client.open(path.format(id=exam.id, slug=exam.slug), method=method,
                           data=data if method == "POST" else None)
    assert_access(response, role, allowed)
    granted = db.session.scalar(select(AttemptGrant))
    assert (granted is not None) == (method == "POST" and role in allowed)


def test_a_trainer_grants_from_the_out_of_attempts_list_and_the_agent_sees_it(
        client, login_as, exam, agent, trainer, frozen_now):
    use_every_attempt(agent, exam)
    frozen_now(T0 + timedelta(days=1))
    login_as(trainer)
    marking = text_of(client.get("/exams/marking", headers=EN))
    assert "Out of attempts" in marking and "赵磊" in marking and "2 of 2" in marking
    page = client.get(f"/exams/manage/{exam.id}/attempts?agent=E1003", headers=EN)
    html = page.get_data(as_text=True)
    assert 'id="stuck-E1003"' in html and 'value="E1003"' in html  # the row, and the form filled in
    response = client.post(f"/exams/manage/{exam.id}/grants", headers=EN, follow_redirects=True,
                           data={"employee_no": "E1003", "extra_attempts": "1", "reason": "考试期间系统故障"})
    assert "Make-up granted to 赵磊" in text_of(response)
    assert "Nobody is out of attempts at this exam." in text_of(response)
    assert "考试期间系统故障" in text_of(response)  # in the grants given

    client.post("/logout")
    login_as(agent)
    card = text_of(client.get(f"/exams/{exam.slug}", headers=EN))
    assert "Make-up: 1 extra attempt" in card and "granted by 李静" in card and "Reason: 考试期间系统故障" in card
    assert "Try again" in card and "Attempts allowed with make-ups: 3" in card


def test_the_waived_wait_shows_on_the_card(client, login_as, exam, agent, trainer, frozen_now):
    attempt = services.start_attempt(agent, exam, T0)
    services.submit_attempt(agent, attempt.id, T0 + timedelta(minutes=3))
    frozen_now(T0 + timedelta(minutes=10))
    login_as(agent)
    assert "You may try again from" in text_of(client.get(f"/exams/{exam.slug}", headers=EN))
    makeup.grant_attempts(trainer, agent, exam, 0, True, "主管批准立即补考", T0 + timedelta(minutes=5))
    card = text_of(client.get(f"/exams/{exam.slug}", headers=EN))
    assert "retake wait waived" in card and "Try again" in card
    assert started_attempt_id(client.post(f"/exams/{exam.slug}/start"))


@pytest.mark.parametrize("data, message", [
    ({"employee_no": "E1003", "extra_attempts": "1", "reason": "  "}, "This field is required."),
    ({"employee_no": "NOBODY", "extra_attempts": "1", "reason": "理由"}, "No active account has this employee number."),
    ({"employee_no": "E1003", "extra_attempts": "99", "reason": "理由"}, "From 0 to 10."),
    ({"employee_no": "E1003", "extra_attempts": "abc", "reason": "理由"}, "Not a valid integer value."),
    ({"employee_no": "E1003", "extra_attempts": "0", "reason": "理由"},
     "Grant at least one attempt, or waive the retake wait."),
    ({"employee_no": "", "extra_attempts": "1", "reason": "理由"}, "This field is required."),
])
def test_bad_input_re_renders_with_messages(client, login_as, exam, agent, trainer, frozen_now, data, message):
    frozen_now(T0)
    login_as(trainer)
    response = client.post(f"/exams/manage/{exam.id}/grants", data=data, headers=EN)
    assert response.status_code == 200
    assert message in text_of(response) and "The make-up was not granted" in text_of(response)
    assert db.session.scalar(select(AttemptGrant)) is None


def test_granting_to_yourself_is_refused_with_a_message(client, login_as, exam, trainer, frozen_now):
    frozen_now(T0)
    login_as(trainer)
    response = client.post(f"/exams/manage/{exam.id}/grants", headers=EN,
                           data={"employee_no": trainer.employee_no, "extra_attempts": "1", "reason": "理由"})
    assert response.status_code == 200 and "You cannot grant make-up attempts to yourself." in text_of(response)


def test_a_grant_at_an_unknown_exam_is_404(client, login_as, trainer):
    login_as(trainer)
    assert client.post("/exams/manage/999999/grants", data={"employee_no": "x", "reason": "y"}).status_code == 404


def test_the_mentor_sees_mentees_out_of_attempts_only(client, login_as, exam, agent, mentor, make_user, frozen_now):
    stranger = make_user(roles=("agent",), name="外组员工")
    use_every_attempt(agent, exam)
    use_every_attempt(stranger, exam)
    frozen_now(T0 + timedelta(days=1))
    login_as(mentor)
    page = text_of(client.get("/mentoring", headers=EN))
    section = page.split("Out of attempts", 1)[1].split("Pending practicals", 1)[0]
    assert "赵磊" in section and exam.title in section and "外组员工" not in section
