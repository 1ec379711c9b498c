"""`lms demo` writes each demo agent's archive through the real services: the story it tells is
the one the completion rule, the ladder and the certificates read back today."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.catalog.services import load_progress
from lms.certificates.services import verify
from lms.clock import add_months, utcnow
from lms.config import PROJECT_ROOT
from lms.content.sync import sync_content
from lms.demo import DEMO_ACCOUNTS, ensure_demo_accounts
from lms.exams.services import exam_status
from lms.extensions import db
from lms.models import (Certificate, Course, Exam, ExamAttempt, Lesson, LessonProgress, LessonVersion, Practical,
                        RecordEntry, User)
from lms.promotions.services import eligibility, ready_for_promotion, star_history
from lms.records import completion
from lms.records.completion import EXPIRED, in_force, load_standing

AGENTS = STORIED = ("M0001", "E1001", "E1002", "E1003", "E1004", "E1005")
MENTEES = ("E1001", "E1002", "E1003", "E1004")


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}


@pytest.fixture
def demo(demo_database):
    """The sample content synced, then the demo accounts and their stories, as `lms demo` does."""
    db.session.expire_all()
    return demo_database


def user(employee_no: str) -> User:
    return db.session.scalar(select(User).where(User.employee_no == employee_no))


def course(slug: str) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def entries(agent: User, kind: str) -> list[RecordEntry]:
    return list(db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == agent.id, RecordEntry.kind == kind)
                                   .order_by(RecordEntry.occurred_at, RecordEntry.id)))


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def check_every_account_is_created_at_its_level(demo):
    assert [(a.employee_no, a.created) for a in demo] == [(a.employee_no, True) for a in DEMO_ACCOUNTS]
    for account in DEMO_ACCOUNTS:
        agent = user(account.employee_no)
        assert agent.star_level == account.star_level and agent.roles == set(account.roles)
        assert agent.check_password("demo1234")
    assert all(user(no).mentor.employee_no == "M0001" for no in MENTEES)
    assert {user(no).star_level for no in AGENTS} == set(range(6))


def check_star_history_starts_at_hire_and_each_promotion_was_confirmed_when_eligible(demo):
    now = utcnow()
    for no in STORIED:
        agent = user(no)
        history = star_history(agent)
        first = history[0]
        assert (first.kind, first.from_level, first.to_level) == ("initial", None, 0)
        assert first.changed_at.date() == agent.hire_date < now.date()
        promotions = history[1:]
        assert [(c.kind, c.from_level, c.to_level) for c in promotions] == [
            ("promotion", level, level + 1) for level in range(agent.star_level)]
        for change in promotions:
            # confirm_promotion passed the ladder's gate then (no recorded-after-the-fact fallback)
            assert change.changed_by.employee_no == "A0001" and change.reason == "达到晋升条件，确认晋升"
            assert first.changed_at < change.changed_at < now
            certificate = db.session.scalar(select(Certificate).where(Certificate.star_change_id == change.id))
            assert certificate.kind == "promotion" and certificate.star_level == change.to_level
            assert certificate.issued_at == change.changed_at and verify(certificate.code, now).valid
    e1004 = [c.changed_at for c in star_history(user("E1004"))]
    assert e1004 == sorted(e1004)
    # the ladder's months: 1 since hire for 1 star, 6 and 9 since the last promotion for 2 and 3
    assert e1004[1] >= add_months(e1004[0], 1) - timedelta(days=1)
    assert e1004[2] >= add_months(e1004[1], 6) - timedelta(days=1)
    assert e1004[3] >= add_months(e1004[2], 9) - timedelta(days=1)
    e1005 = [c.changed_at for c in star_history(user("E1005"))]
    assert len(e1005) == 6 and e1005 == sorted(e1005)
    assert e1005[4] >= add_months(e1005[3], 12) - timedelta(days=1)  # 12 months for 4 stars, and for 5
    assert e1005[5] >= add_months(e1005[4], 12) - timedelta(days=1)


def check_everything_happened_after_hire_and_before_now(demo):
    now = utcnow()
    for no in AGENTS:
        agent = user(no)
        start = datetime.combine(agent.hire_date, datetime.min.time()).replace(tzinfo=now.tzinfo)
        for entry in db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == agent.id)):
            assert start <= entry.occurred_at < now, (no, entry.title)
        for row in db.session.scalars(select(LessonProgress).where(LessonProgress.user_id == agent.id)):
            assert start <= row.completed_at < now


def check_completions_agree_with_the_completion_rule(demo):
    now = utcnow()
    for no in AGENTS:
        agent = user(no)
        standing = load_standing(agent, now)
        # nothing met and unrecorded: the rule has no completion left to write
        assert completion.record_completions(agent, now) == []
        db.session.rollback()
        for state in (standing.state(c) for c in standing.courses):
            if state.completion is not None:
                assert state.completion.valid_until == (
                    add_months(state.completion.occurred_at, state.course.valid_months)
                    if state.course.valid_months else None)
        # every required course below the agent's star was completed, each with its certificate
        below = [c for c in standing.courses if c.kind == "required" and c.star_level < agent.star_level]
        for required in below:
            assert standing.state(required).ever_completed, (no, required.slug)
        for entry in entries(agent, "course"):
            certificate = db.session.scalar(select(Certificate).where(Certificate.record_entry_id == entry.id))
            assert certificate is not None and certificate.issued_at == entry.occurred_at
            assert certificate.valid_until == entry.valid_until


def check_exams_and_practicals_went_through_the_services(demo):
    e1003 = user("E1003")
    law = db.session.scalar(select(Exam).where(Exam.slug == "law-and-privacy-final"))
    attempts = list(db.session.scalars(select(ExamAttempt).where(ExamAttempt.user_id == e1003.id,
                                                                ExamAttempt.exam_id == law.id)
                                       .order_by(ExamAttempt.number)))
    assert [(a.state, a.passed) for a in attempts] == [("graded", False), ("graded", True)]  # the second try
    assert all(len(a.questions) == sum(pool.count for pool in law.pools) for a in attempts)
    percents = {entry.percent for no in STORIED for entry in entries(user(no), "exam")}
    assert len(percents) >= 6 and min(percents) < 70 and max(percents) > 90  # varied scores
    marked = db.session.scalar(select(func.count()).select_from(ExamAttempt).where(
        ExamAttempt.state == "graded", ExamAttempt.graded_at > ExamAttempt.submitted_at))
    assert marked >= 1  # an essay marked by the trainer the next day
    assert db.session.scalar(select(func.count()).select_from(ExamAttempt).where(ExamAttempt.state != "graded")) == 0

    observed = list(db.session.scalars(select(Practical).where(Practical.agent_id == e1003.id)
                                       .order_by(Practical.signed_at)))
    bill = [p for p in observed if p.scenario.slug == "bill-went-up"]
    assert [p.record_entry.passed for p in bill] == [False, True]
    assert bill[1].reobservation_of_id == bill[0].id and bill[0].work_on
    assert all(p.status == "signed" and p.signed_by.employee_no == "M0001" for p in observed)
    assert all(p.scores for p in observed)  # rubric marks, criterion by criterion


def check_the_one_star_agent_is_ready_for_two_stars(demo):
    now = utcnow()
    e1002 = user("E1002")
    assert eligibility(e1002, now).eligible
    assert [e.user.employee_no for e in ready_for_promotion(now)] == ["E1002"]
    # complaint handling waited for a month's satisfaction of 85: it completed with that import
    complaint = course("complaint-handling")
    done = [e for e in entries(e1002, "course") if e.course_id == complaint.id]
    reached = next(e for e in entries(e1002, "evaluation") if e.score >= complaint.evaluation_threshold)
    assert [e.occurred_at for e in done] == [reached.occurred_at]
    assert any(e.score < complaint.evaluation_threshold for e in entries(e1002, "evaluation"))


def check_the_two_star_agent_has_level_two_open_and_a_retake_waiting(demo):
    now = utcnow()
    e1003 = user("E1003")
    progress = load_progress(e1003, now)
    for slug in ("conflict-resolution", "info-security-refresher"):
        assert progress.access(course(slug)).is_open
        assert progress.state(course(slug)).status == completion.IN_PROGRESS
    refresher_exam = db.session.scalar(select(Exam).where(Exam.slug == "info-security-refresher-exam"))
    status = exam_status(e1003, refresher_exam, now)
    assert status.finished and all(a.passed is False for a in status.finished)
    assert status.blocker == "wait" and now < status.retake_at < now + timedelta(days=1)
    assert status.attempts_left >= 1


def check_the_three_star_agent_let_the_refresher_expire(demo):
    now = utcnow()
    e1004 = user("E1004")
    standing = load_standing(e1004, now)
    waiting = standing.due_or_expired()
    assert [(s.course.slug, s.status) for s in waiting] == [("info-security-refresher", EXPIRED)]
    last = waiting[0].completion
    assert last.occurred_at < add_months(now, -12) and last.valid_until < now
    # renewed once before, in its recertification window (the standing's entries are rows without details)
    assert (db.session.get(RecordEntry, last.id).details or {}).get("cycle") == 2
    certificates = list(db.session.scalars(select(Certificate).where(
        Certificate.user_id == e1004.id, Certificate.course_id == course("info-security-refresher").id)))
    assert len(certificates) == 2 and all(verify(c.code, now).status == "expired" for c in certificates)
    others = [c for c in standing.courses if c.star_level <= 2 and c.kind == "required"
              and c.slug != "info-security-refresher"]
    assert all(standing.state(c).status == completion.COMPLETE for c in others)


def check_the_new_hire_has_read_a_few_lessons_and_nothing_else(demo):
    """Lessons read and the classroom workshop attended (on time, by code); no result yet."""
    e1001 = user("E1001")
    read = load_progress(e1001).completed_lesson_ids
    assert 1 <= len(read) <= 6
    entries = db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == e1001.id)).all()
    assert [(e.kind, e.passed, e.details["status"]) for e in entries] == [("attendance", True, "present")]
    assert [c.kind for c in star_history(e1001)] == ["initial"]


def check_the_mentor_climbed_the_ladder_and_took_the_new_mentors_course(demo):
    """M0001: every required course below four stars in the archive; at four stars coaching skills and
    the course for new mentors complete, quality monitoring begun; their practicals observed by a
    trainer (nobody observes themself)."""
    now = utcnow()
    m0001 = user("M0001")
    progress = load_progress(m0001, now)
    new_mentors = [c for c in load_standing(m0001, now).courses if c.star_level == 4 and "mentor" in c.slug]
    assert new_mentors and all(progress.state(c).status == completion.COMPLETE for c in new_mentors)
    assert progress.state(course("coaching-skills")).status == completion.COMPLETE
    assert progress.state(course("quality-monitoring")).status == completion.IN_PROGRESS
    own = list(db.session.scalars(select(Practical).where(Practical.agent_id == m0001.id)))
    assert own and all(p.signed_by.employee_no == "T0001" for p in own)
    refresher = load_standing(m0001, now).state(course("info-security-refresher"))
    assert refresher.status == completion.COMPLETE  # kept in force, renewed year after year
    assert (db.session.get(RecordEntry, refresher.completion.id).details or {}).get("cycle", 1) >= 3


def check_the_five_star_agent_is_on_the_team_leader_track(demo):
    """E1005: five stars; the level-5 courses the others build on complete, every level-5 course open,
    at least one begun and not finished."""
    now = utcnow()
    e1005 = user("E1005")
    assert e1005.star_level == 5 and e1005.mentor is None
    progress = load_progress(e1005, now)
    level_five = [c for c in load_standing(e1005, now).courses if c.star_level == 5 and c.kind == "required"]
    assert level_five and all(progress.access(c).is_open for c in level_five)
    assert completion.IN_PROGRESS in {progress.state(c).status for c in level_five}
    assert progress.state(course("team-leader-basics")).status in (completion.COMPLETE, completion.IN_PROGRESS)


def check_the_trainer_edited_a_lesson_in_the_browser(demo, app):
    """T0001's browser version of a lesson from files is the current one, progress kept, and a new
    `lms sync` of the unchanged folder leaves it (the folder wins only once a file changes)."""
    edited = db.session.scalars(select(LessonVersion).where(LessonVersion.origin == "browser")).all()
    assert len(edited) == 1
    version = edited[0]
    assert version.author_id == user("T0001").id and version.number >= 2
    lesson = db.session.get(Lesson, version.lesson_id)
    assert lesson.version == version.number and "补充口径" in lesson.body_html
    assert lesson.course.edited_at == version.created_at < utcnow()
    assert db.session.scalar(select(func.count()).select_from(LessonProgress).where(
        LessonProgress.lesson_id == lesson.id, LessonProgress.completed_at.is_not(None))) >= 1
    sync_content(db.session, app.config, utcnow())
    db.session.expire_all()
    assert lesson.version == version.number and "补充口径" in lesson.body_md


def check_monthly_customer_evaluations(demo):
    now = utcnow()
    months = {f"{m.year:04d}-{m.month:02d}" for m in (add_months(now, -back) for back in range(2, 6))}
    for no in ("M0001", "E1002", "E1003", "E1004", "E1005"):
        periods = {e.period for e in entries(user(no), "evaluation") if e.passed is not None}
        assert months <= periods, no
    assert db.session.scalar(select(func.count()).select_from(RecordEntry).where(
        RecordEntry.kind == "evaluation", RecordEntry.corrects_id.is_not(None))) == 0


def check_a_second_run_writes_nothing(demo):
    before = row_counts()
    again = ensure_demo_accounts()
    assert not any(account.created for account in again)
    db.session.expire_all()
    assert row_counts() == before
    assert before["star_changes"] >= 11 and before["certificates"] >= 40
    in_force_count = db.session.scalar(select(func.count()).select_from(RecordEntry).where(in_force()))
    assert in_force_count == before["record_entries"]  # nothing was corrected either



STORY = [
    check_every_account_is_created_at_its_level,
    check_star_history_starts_at_hire_and_each_promotion_was_confirmed_when_eligible,
    check_everything_happened_after_hire_and_before_now,
    check_completions_agree_with_the_completion_rule,
    check_exams_and_practicals_went_through_the_services,
    check_the_one_star_agent_is_ready_for_two_stars,
    check_the_two_star_agent_has_level_two_open_and_a_retake_waiting,
    check_the_three_star_agent_let_the_refresher_expire,
    check_the_new_hire_has_read_a_few_lessons_and_nothing_else,
    check_the_mentor_climbed_the_ladder_and_took_the_new_mentors_course,
    check_the_five_star_agent_is_on_the_team_leader_track,
    check_monthly_customer_evaluations,
    check_a_second_run_writes_nothing,
]


def test_the_demo_tells_a_true_story(demo, app):
    """One demo build for every check; the sync and the second run last since they write again."""
    for check in STORY:
        check(demo)
    check_the_trainer_edited_a_lesson_in_the_browser(demo, app)
