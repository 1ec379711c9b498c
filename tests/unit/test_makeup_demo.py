"""The make-up demo: after the demo stories, 赵磊 (E1003) has one extra attempt at the refresher
exam with a reason, his retake still waits, seeding twice changes nothing, and the demo agents'
training KPI has data."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.config import PROJECT_ROOT
from lms.content.sync import sync_content
from lms.demo import ensure_demo_accounts
from lms.exams import makeup_demo
from lms.exams.services import exam_status
from lms.extensions import db
from lms.models import Exam, User
from lms.models.exams import AttemptGrant
from lms.records import kpi


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}


def test_the_demo_grants_e1003_a_make_up(app):
    sync_content(db.session, app.config, utcnow())
    ensure_demo_accounts()
    users = {user.employee_no: user for user in db.session.scalars(select(User))}
    now = utcnow()
    makeup_demo.seed_demo(users, now)
    makeup_demo.seed_demo(users, now)  # again: nothing more
    assert db.session.scalar(select(func.count()).select_from(AttemptGrant)) == 1
    grant = db.session.scalar(select(AttemptGrant))
    e1003 = users["E1003"]
    assert grant.user_id == e1003.id and grant.granted_by_id == users["T0001"].id and grant.reason
    exam = db.session.scalar(select(Exam).where(Exam.slug == makeup_demo.EXAM_SLUG))
    status = exam_status(e1003, exam, now)
    assert status.attempts_total == exam.attempts_allowed + 1 and status.grants[0].id == grant.id
    assert status.finished[-1].submitted_at <= grant.created_at <= now
    assert status.blocker == "wait"  # an extra attempt, not a waived delay: the story's wait stands

    months = kpi.recent_months(now, 12)
    cells = kpi.monthly_kpi([users[no].id for no in ("E1001", "E1002", "E1003", "E1004")], months)
    assert sum(cell.has_data for cell in cells.values()) >= 8
