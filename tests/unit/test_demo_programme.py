"""The programme around the demo agents' histories (`lms demo`): plans, a make-up attempt, classroom
sessions, surveys and inboxes, checked on one demo build, as the story checks in test_demo.py are."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.config import PROJECT_ROOT
from lms.exams import makeup_demo
from lms.exams.services import exam_status
from lms.extensions import db
from lms.models import Exam, RecordEntry, User
from lms.models.classroom import ClassSession
from lms.models.exams import AttemptGrant
from lms.models.notifications import Notification
from lms.models.plans import Assignment, TrainingPlan
from lms.models.surveys import SurveyTemplate
from lms.notifications.messages import render
from lms.plans import progress as plans
from lms.plans.windows import DUE_SOON, OVERDUE
from lms.records import kpi
from lms.surveys import results as survey_results
from lms.surveys import services as surveys

PEOPLE = ("A0001", "T0001", "M0001", "E1001", "E1002", "E1003", "E1004")


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}


@pytest.fixture
def demo(demo_database):
    return {user.employee_no: user for user in db.session.scalars(select(User))}, utcnow()


def check_plans_have_every_target_and_something_overdue_and_due_soon(users, now):
    year = now.year + 1 if now.month >= 11 else now.year
    names = set(db.session.scalars(select(TrainingPlan.name)))
    assert f"{year} 年度培训计划" in names and len(names) == 2
    annual = db.session.scalar(select(TrainingPlan).where(TrainingPlan.name == f"{year} 年度培训计划"))
    assert len(plans.plan_report(annual, now).months) >= 6
    assert {a.target_kind for a in annual.assignments} == {"agent", "team", "level", "cohort"}
    assert db.session.query(Assignment).count() >= 15
    assert DUE_SOON in {t.status for t in plans.my_assignments(users["E1001"], now)}
    assert plans.overdue_overview(now).tasks
    statuses = {t.status for e in ("E1001", "E1002", "E1003", "E1004") for t in plans.my_assignments(users[e], now)}
    assert OVERDUE in statuses and DUE_SOON in statuses


def check_e1003_has_a_make_up_and_agents_have_a_kpi(users, now):
    grant = db.session.scalar(select(AttemptGrant))
    assert db.session.scalar(select(func.count()).select_from(AttemptGrant)) == 1
    e1003 = users["E1003"]
    assert grant.user_id == e1003.id and grant.granted_by_id == users["T0001"].id and grant.reason
    exam = db.session.scalar(select(Exam).where(Exam.slug == makeup_demo.EXAM_SLUG))
    status = exam_status(e1003, exam, now)
    assert status.attempts_total == exam.attempts_allowed + 1 and status.grants[0].id == grant.id
    assert status.finished[-1].submitted_at <= grant.created_at <= now
    assert status.blocker == "wait"  # an extra attempt, not a waived delay: the story's wait stands
    cells = kpi.monthly_kpi([users[no].id for no in ("E1001", "E1002", "E1003", "E1004")], kpi.recent_months(now, 12))
    assert sum(cell.has_data for cell in cells.values()) >= 8
    assert any(cell.absences for cell in cells.values())  # the workshop's absence


def check_a_past_session_with_an_absence_and_an_upcoming_one_with_a_waiting_list(users, now):
    sessions = db.session.scalars(select(ClassSession).order_by(ClassSession.starts_at)).all()
    assert len(sessions) == 2 and sessions[0].ends_at < now < sessions[1].starts_at
    attendance = {e.user_id: e.details["status"] for e in db.session.scalars(
        select(RecordEntry).where(RecordEntry.kind == "attendance", RecordEntry.source_id == sessions[0].id))}
    assert sorted(attendance.values()) == ["absent", "late", "present", "present", "present"]
    assert attendance[users["E1004"].id] == "absent"


def check_surveys_show_aggregates_and_the_new_hire_has_one_waiting(users, now):
    defaults = db.session.scalars(select(SurveyTemplate).where(SurveyTemplate.is_default.is_(True))).all()
    assert sorted(t.applies_to for t in defaults) == ["course", "session"]
    admin = users["A0001"]
    session = db.session.scalar(select(ClassSession).where(ClassSession.attendance_closed_at.is_not(None)))
    _, result = survey_results.load_session_results_for(admin, session.id)
    assert result.shown and result.instructor_rating is not None and result.sections[0].shown
    overview = survey_results.results_overview(admin)
    assert any(row.result.shown and row.result.comments == [] for row in overview.courses)  # overview: no comments
    assert any(row.result.response_rate is not None and row.result.response_rate < 100 for row in overview.courses)
    shown = next(row for row in overview.courses if row.result.shown)
    assert survey_results.load_course_results_for(admin, shown.id)[1].comments  # the course page has some
    assert [(s.subject_type, s.subject_id) for s in surveys.waiting_surveys(users["E1001"], now)] == [
        ("session", session.id)]


def check_every_person_has_read_and_unread_notifications(users, now, app):
    rows = list(db.session.scalars(select(Notification)))
    by_person = {number: [n for n in rows if n.user_id == users[number].id] for number in PEOPLE}
    for number, notifications in by_person.items():
        assert notifications, number
        assert any(n.read_at is None for n in notifications), number
        assert Counter(n.key for n in notifications).most_common(1)[0][1] == 1
    for number in ("E1002", "E1003", "E1004"):  # agents with a history: old news is read, new is not
        assert any(n.read_at is not None for n in by_person[number]), number
    kinds = {n.kind for n in rows}
    assert {"exam_result", "certificate_earned", "practical_waiting", "welcome", "session_invited",
            "attempts_granted", "assignment_given"} <= kinds, kinds
    assert all(users[number].email for number in PEOPLE)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert all(render(n.kind, n.params) and "%(" not in render(n.kind, n.params) for n in rows)


def test_the_demo_runs_a_month_of_the_programme(app, demo):
    users, now = demo
    check_plans_have_every_target_and_something_overdue_and_due_soon(users, now)
    check_e1003_has_a_make_up_and_agents_have_a_kpi(users, now)
    check_a_past_session_with_an_absence_and_an_upcoming_one_with_a_waiting_list(users, now)
    check_surveys_show_aggregates_and_the_new_hire_has_one_waiting(users, now)
    check_every_person_has_read_and_unread_notifications(users, now, app)
