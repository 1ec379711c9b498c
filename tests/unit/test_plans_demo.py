"""The plans demo on top of the real demo accounts: every plan page has something to show."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.clock import utcnow
from lms.config import PROJECT_ROOT
from lms.content.sync import sync_content
from lms.demo import ensure_demo_accounts
from lms.extensions import db
from lms.models import User
from lms.models.plans import Assignment, TrainingPlan
from lms.plans import services
from lms.plans.demo import seed_demo
from lms.plans.windows import DUE_SOON, OVERDUE


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}


def test_demo_plans_show_real_data(app):
    sync_content(db.session, app.config, utcnow())
    ensure_demo_accounts()
    users = {user.employee_no: user for user in db.session.scalars(select(User))}
    now = utcnow()
    seed_demo(users, now)
    year = now.year + 1 if now.month >= 11 else now.year
    names = set(db.session.scalars(select(TrainingPlan.name)))
    assert f"{year} 年度培训计划" in names and len(names) == 2
    annual = db.session.scalar(select(TrainingPlan).where(TrainingPlan.name == f"{year} 年度培训计划"))
    report = services.plan_report(annual, now)
    assert len(report.months) >= 6 and {a.target_kind for a in annual.assignments} == {"agent", "team", "level",
                                                                                       "cohort"}
    assert db.session.query(Assignment).count() >= 15
    new_hire = services.my_assignments(users["E1001"], now)
    assert {t.status for t in new_hire} >= {DUE_SOON}
    assert services.overdue_overview(now).tasks
    statuses = {t.status for e in ("E1001", "E1002", "E1003", "E1004") for t in services.my_assignments(users[e], now)}
    assert OVERDUE in statuses and DUE_SOON in statuses
