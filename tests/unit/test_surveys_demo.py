"""The surveys demo: default templates, aggregates to show for a course and the past session, and a
survey still waiting for the new hire."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.config import PROJECT_ROOT
from lms.content.sync import sync_content
from lms.demo import ensure_demo_accounts
from lms.extensions import db
from lms.models import RecordEntry, User
from lms.models.classroom import ClassSession
from lms.models.surveys import SurveyTemplate
from lms.surveys import services
from lms.surveys.demo import seed_demo


@pytest.fixture
def app_config(request):
    """The sample content for the whole demo; a test with the small `catalog` writes its own (never
    into the repository's courses/)."""
    if "catalog" in request.fixturenames:
        return {}
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}


def test_the_demo_shows_aggregates_and_leaves_surveys_waiting(app):
    """`lms demo` runs the classroom demo (a past session with attendance) and then this one."""
    sync_content(db.session, app.config, utcnow())
    ensure_demo_accounts()
    now = utcnow()
    users = {user.employee_no: user for user in db.session.scalars(select(User))}
    defaults = db.session.scalars(select(SurveyTemplate).where(SurveyTemplate.is_default.is_(True))).all()
    assert sorted(t.applies_to for t in defaults) == ["course", "session"]
    admin = users["A0001"]
    session = db.session.scalar(select(ClassSession).where(ClassSession.attendance_closed_at.is_not(None),
                                                           ClassSession.starts_at < now)
                                .order_by(ClassSession.starts_at.desc()).limit(1))
    if session is not None:
        _, result = services.load_session_results_for(admin, session.id)
        assert result.shown and result.instructor_rating is not None and result.sections[0].shown
    overview = services.results_overview(admin)
    assert any(row.result.shown and row.result.comments == [] for row in overview.courses)  # overview: no comments
    assert any(row.result.response_rate is not None and row.result.response_rate < 100 for row in overview.courses)
    shown = next(row for row in overview.courses if row.result.shown)
    assert services.load_course_results_for(admin, shown.id)[1].comments  # the course page has some
    waiting = {number: services.waiting_surveys(users[number], now) for number in ("E1001", "E1002", "E1003", "E1004")}
    assert any(waiting.values())  # someone's home page asks
    completed = db.session.scalar(select(func.count()).select_from(RecordEntry).where(
        RecordEntry.user_id == users["E1001"].id, RecordEntry.kind == "course", RecordEntry.passed.is_(True)))
    assert any(s.subject_type == "course" for s in waiting["E1001"]) == bool(completed)


def test_the_new_hire_keeps_their_latest_course_survey(catalog, make_user, frozen_now):
    from tests.unit.test_surveys import complete, course_of

    now = frozen_now()
    first, second = course_of("basics-a"), course_of("basics-b")
    users = {number: make_user(employee_no=number) for number in ("E1001", "E1002", "E1003", "E1004")}
    users["T0001"] = make_user(roles=("trainer",), employee_no="T0001")
    complete(users["E1001"], first, at=now - timedelta(days=20))
    complete(users["E1001"], second, at=now - timedelta(days=5))
    for number in ("E1002", "E1003"):
        complete(users[number], second, at=now - timedelta(days=30))
    seed_demo(users, now)
    waiting = [(s.subject_type, s.subject_id) for s in services.waiting_surveys(users["E1001"], now)]
    assert waiting[0] == ("course", second.id)  # the latest, whatever happens to the others
    _, result = services.load_course_results_for(users["T0001"], second.id)
    assert (result.count, result.eligible, result.shown) == (1, 3, False)  # E1002 or E1003; the new hire waits
    _, result = services.load_course_results_for(users["T0001"], first.id)
    assert result.count == 0  # one completer: that one did not answer (a response rate below 100%)
