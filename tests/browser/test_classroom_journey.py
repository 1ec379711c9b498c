"""A classroom session on phones, in real Chromium with CSRF on: the instructor shows the rotating
code, an agent types it on a 390px phone and is marked present; after attendance is closed, the
session's survey waits on the agent's home page and is answered there, anonymously."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.extensions import db
from lms.models import RecordEntry
from lms.models.classroom import ClassAttendance, ClassSession
from lms.models.surveys import SurveyAnswer, SurveyResponse, SurveyTemplate
from tests.browser.conftest import horizontal_overflow, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def session_now(make_user):
    """A session that began five minutes ago (check-in open), its instructor, an invited agent, and a
    default session survey with one question of its own."""
    trainer = make_user(roles=("trainer",), star_level=5, name="李老师")
    agent = make_user(name="王小红", team="热线一组")
    now = utcnow()
    session = ClassSession(title="投诉升级规则串讲", instructor_id=trainer.id, location="三楼培训室 A",
                           starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1),
                           audience={"teams": ["热线一组"]}, created_by_id=trainer.id)
    db.session.add_all([session, SurveyTemplate(
        name="课堂反馈", applies_to="session", is_default=True, created_by_id=trainer.id,
        questions=[{"id": "q1", "kind": "choice", "prompt": "课堂节奏如何？", "options": ["偏快", "合适", "偏慢"],
                    "required": True}])])
    db.session.commit()
    return session, trainer, agent


def test_agent_checks_in_by_code_on_a_phone_and_answers_the_survey(live_server, browser, phone, session_now):
    session, trainer, agent = session_now

    screen = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    log_in(screen, live_server, trainer.employee_no)
    screen.goto(f"{live_server}/sessions/{session.id}/code")
    code = screen.locator("#checkin-code").inner_text().strip()
    assert code.isdigit() and len(code) == 6
    assert screen.locator("#checkin-qr").evaluate("img => img.complete && img.naturalWidth > 0")

    log_in(phone, live_server, agent.employee_no)
    phone.locator(".home-sessions a.button.primary").click()  # "check in now" on the home page
    phone.wait_for_url(f"**/sessions/{session.id}/checkin")
    assert horizontal_overflow(phone) == 0
    phone.fill("input[name=code]", "000000" if code != "000000" else "111111")
    phone.locator("main form button[type=submit]").click()
    assert phone.locator(".error").count() == 1  # a wrong number: told so, not checked in
    phone.fill("input[name=code]", code)
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_selector(".checkin-done")
    db.session.expire_all()
    row = db.session.scalar(select(ClassAttendance).where(ClassAttendance.user_id == agent.id))
    assert (row.status, row.method) == ("present", "code")

    screen.goto(f"{live_server}/sessions/{session.id}")
    screen.locator("form.close-form button").click()
    screen.wait_for_selector(".flash")
    entry = db.session.scalar(select(RecordEntry).where(RecordEntry.user_id == agent.id))
    assert (entry.kind, entry.passed, entry.details["status"]) == ("attendance", True, "present")

    phone.goto(f"{live_server}/")
    phone.locator(".survey-home a.button.primary").click()
    phone.wait_for_selector("form fieldset.survey-rating")
    assert horizontal_overflow(phone) == 0
    phone.locator("main form button[type=submit].primary").click()  # nothing chosen: every rating asked again
    assert phone.locator(".survey-rating .error").count() == 2
    ratings = phone.locator("fieldset.survey-rating")
    ratings.nth(0).locator("label").nth(3).click()  # the course (session): 4
    ratings.nth(1).locator("label").nth(4).click()  # the instructor: 5
    phone.locator("fieldset.survey-choice label").nth(1).click()  # 合适
    phone.fill("textarea[name=comment]", "案例很贴近日常来电。")
    phone.locator("main form button[type=submit].primary").click()
    phone.wait_for_url(f"{live_server}/")
    assert phone.locator(".survey-home").count() == 0  # answered: no longer waiting

    answer = db.session.scalar(select(SurveyAnswer))
    assert (answer.course_rating, answer.instructor_rating, answer.comment) == (4, 5, "案例很贴近日常来电。")
    assert answer.answers == {"q1": 1}
    assert not hasattr(answer, "user_id")  # anonymous by design: only "who answered" is kept, apart
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    screen.context.close()
