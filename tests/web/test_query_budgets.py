"""Query budgets of the pages an agent uses in a break (issue 14, item 4).

One break, walked through the test client as an agent: the home page, a course page, a lesson
opened for the first time, "mark complete" (a lesson, then the last one, which completes the
course), the exam's start, its answer sheet, an answer saved, the submission, the result page and
the agent's own training record. Each step runs a fixed number of SQL statements (BUDGETS, the
table in README "Query budgets"), and the same number whether the database holds 10 or 1,000 other
courses (each with lessons, an exam and the agent's progress), record entries of the agent, and
other agents (each with progress and a graded attempt on the very exam and course walked).

The walk is done twice on two identical course+exam pairs, first with the small data, then after
bulk inserts (SQLAlchemy Core, a second or two) have grown it a hundredfold. A count that grows
with the data is an N+1 (a query per course, entry or agent): the assertion names the step.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from lms import clock
from lms.content.sync import sync_courses
from lms.exams.cache import exam_cache
from lms.extensions import db
from lms.models import (Course, Exam, ExamAttempt, ExamPool, Lesson, LessonProgress, LessonVersion, RecordEntry, User,
                        UserRole)
from tests.conftest import count_queries, write_course
from tests.exam_support import answers_for, make_bank, started_attempt_id

AUTO = ("single", "multi", "truefalse", "fill", "matching")

# page -> most SQL statements it may run (the README's table). Equal counts at 10 and 1,000 are
# asserted separately: a budget may only go down.
BUDGETS = {
    "home": 24,
    "course": 14,
    "lesson (first open)": 12,
    "mark complete": 16,
    "mark complete (last lesson)": 16,
    "exam start": 16,  # its answer is the sheet itself, made from what the start wrote
    "exam sheet": 3,
    "save": 3,
    "submit": 25,
    "result": 15,
    "record": 29,
}

_numbers = itertools.count(1)


@pytest.fixture
def break_walk(app, course_root, make_user, frozen_now):
    """An agent (star level 0) and two identical course+exam pairs, `walk-1` and `walk-2`."""
    frozen_now()
    for n in (1, 2):
        write_course(course_root, f"0-0{n}-walk-{n}", slug=f"walk-{n}", lessons=("one", "two", "three"))
    sync_courses(db.session, course_root, clock.utcnow())
    bank = make_bank("budget-bank", per_type=2, types=AUTO)
    for n in (1, 2):
        course = db.session.scalar(sa.select(Course).where(Course.slug == f"walk-{n}"))
        exam = Exam(slug=f"walk-{n}-final", title=f"结业考试 {n}", course=course, time_limit_minutes=20,
                    pass_percent=60.0, attempts_allowed=0, shuffle_questions=True, shuffle_options=True,
                    grading_method="highest", review_policy="immediately")
        exam.pools = [ExamPool(bank_id=bank.id, count=8, tags=[], position=0)]
        db.session.add(exam)
    db.session.commit()
    agent = make_user(star_level=0, name="预算员工")
    return agent


def grow(count: int, agent: User) -> None:
    """Add `count` courses (two lessons, a version each, an exam on the shared bank; the agent has
    read the first lesson of each and passed half of their exams), `count` record entries of the
    agent, and `count` other agents, each with progress on the walked courses' lessons and a graded
    attempt at both walked exams. Bulk inserts, ids from RETURNING."""
    now = clock.utcnow()
    batch = next(_numbers)
    course_ids = list(db.session.scalars(sa.insert(Course).returning(Course.id, sort_by_parameter_order=True), [
        dict(slug=f"bulk-{batch}-{i}", title=f"批量课程 {batch}-{i}", star_level=0 if i % 3 else 1,
             kind="required" if i % 2 else "elective", track="onboarding", summary="批量", minutes=10,
             practicals=[], position=1000 + i, created_at=now, updated_at=now)
        for i in range(count)]))
    lesson_rows = [dict(course_id=course_id, slug=slug, position=position, title=f"第{position + 1}课", minutes=5,
                        body_md="正文", body_html="<p>正文</p>", version=1)
                   for course_id in course_ids for position, slug in enumerate(("a", "b"))]
    lesson_ids = list(db.session.scalars(sa.insert(Lesson).returning(Lesson.id, sort_by_parameter_order=True),
                                         lesson_rows))
    db.session.execute(sa.insert(LessonVersion), [
        dict(lesson_id=lesson_id, number=1, title="课", minutes=5, body_md="正文", body_html="<p>正文</p>",
             origin="file", created_at=now) for lesson_id in lesson_ids])
    bank_id = db.session.scalar(sa.select(ExamPool.bank_id).limit(1))
    exam_ids = list(db.session.scalars(sa.insert(Exam).returning(Exam.id, sort_by_parameter_order=True), [
        dict(slug=f"bulk-{batch}-{i}-final", title=f"批量考试 {i}", course_id=course_id, time_limit_minutes=20,
             pass_percent=60.0, attempts_allowed=0, retake_delay_minutes=0, later_retake_delay_minutes=0,
             shuffle_questions=True, shuffle_options=True, grading_method="highest", review_policy="immediately",
             created_at=now, updated_at=now)
        for i, course_id in enumerate(course_ids)]))
    db.session.execute(sa.insert(ExamPool), [dict(exam_id=exam_id, bank_id=bank_id, count=5, tags=[], position=0)
                                             for exam_id in exam_ids])
    earlier = now - timedelta(days=30)
    db.session.execute(sa.insert(LessonProgress), [
        dict(user_id=agent.id, lesson_id=lesson_id, opened_at=earlier, completed_at=earlier)
        for lesson_id in lesson_ids[::2]])
    db.session.execute(sa.insert(ExamAttempt), [
        dict(exam_id=exam_id, user_id=agent.id, number=1, state="graded", started_at=earlier,
             deadline=earlier + timedelta(minutes=20), submitted_at=earlier + timedelta(minutes=10),
             auto_submitted=False, score=4.0, max_score=5.0, percent=80.0, passed=True, band="good",
             graded_at=earlier + timedelta(minutes=10))
        for exam_id in exam_ids[::2]])
    db.session.execute(sa.insert(RecordEntry), [
        dict(user_id=agent.id, kind=("exam", "course", "evaluation")[i % 3], course_id=course_ids[i],
             title=f"记录 {batch}-{i}", score=80.0, max_score=100.0, percent=80.0, passed=True, band="good",
             occurred_at=now - timedelta(days=60) * (i + 1) / count, period="2026-10" if i % 3 == 2 else None, reason="",
             details={}, created_at=now)
        for i in range(count)])
    others = list(db.session.scalars(sa.insert(User).returning(User.id, sort_by_parameter_order=True), [
        dict(employee_no=f"B{batch:02d}{i:05d}", name=f"批量员工{i}", team="热线二组", star_level=i % 3,
             active=True, password_hash="x", session_version=1, recognition_opt_out=False,
             must_change_password=False, created_at=now)
        for i in range(count)]))
    db.session.execute(sa.insert(UserRole), [dict(user_id=user_id, role="agent") for user_id in others])
    walked_lessons = list(db.session.scalars(
        sa.select(Lesson.id).join(Course).where(Course.slug.in_(("walk-1", "walk-2")))))
    db.session.execute(sa.insert(LessonProgress), [
        dict(user_id=user_id, lesson_id=lesson_id, opened_at=earlier, completed_at=earlier)
        for user_id in others for lesson_id in walked_lessons])
    walked_exams = list(db.session.scalars(sa.select(Exam.id).where(Exam.slug.in_(("walk-1-final", "walk-2-final")))))
    db.session.execute(sa.insert(ExamAttempt), [
        dict(exam_id=exam_id, user_id=user_id, number=1, state="graded", started_at=earlier,
             deadline=earlier + timedelta(minutes=20), submitted_at=earlier + timedelta(minutes=10),
             auto_submitted=False, score=6.0, max_score=8.0, percent=75.0, passed=True, band="pass",
             graded_at=earlier + timedelta(minutes=10))
        for user_id in others for exam_id in walked_exams])
    db.session.commit()


def _ok(response, step: str):
    assert response.status_code in (200, 302), (step, response.status_code, response.get_data(as_text=True)[:300])
    return response


def walk(client, n: int) -> dict[str, int]:
    """One break through course `walk-n` and its exam; the SQL statements of every step."""
    counts: dict[str, int] = {}
    course, exam = f"walk-{n}", f"walk-{n}-final"
    responses = {}

    def step(name: str, send) -> None:
        # Its own app context, so its own session, as every request has in production. Requests in
        # tests otherwise share the test's session, whose identity map holds objects only weakly: a
        # garbage collection between two steps decided whether a lazy load found its row there.
        def measured():
            with current_app.app_context():
                responses[name] = _ok(send(), name)
        counts[name] = count_queries(measured)

    client.get("/learn")  # warm: the first request of a session may load what later ones reuse
    step("home", lambda: client.get("/learn"))
    assert course in responses["home"].get_data(as_text=True)
    step("course", lambda: client.get(f"/courses/{course}"))
    step("lesson (first open)", lambda: client.get(f"/courses/{course}/lessons/one"))
    step("mark complete", lambda: client.post(f"/courses/{course}/lessons/one/complete"))
    for lesson in ("two", "three"):
        client.get(f"/courses/{course}/lessons/{lesson}")
    client.post(f"/courses/{course}/lessons/two/complete")
    step("mark complete (last lesson)", lambda: client.post(f"/courses/{course}/lessons/three/complete"))
    client.get(f"/exams/{exam}")
    # Both walks draw from one bank: walk 2 may draw only versions walk 1 (or an earlier test) put in
    # the process's cache, and skip the read of their content. Each start meets a cold cache.
    exam_cache().clear()
    step("exam start", lambda: client.post(f"/exams/{exam}/start"))
    attempt_id = started_attempt_id(responses["exam start"])
    step("exam sheet", lambda: client.get(f"/exams/attempts/{attempt_id}"))
    attempt = db.session.get(ExamAttempt, attempt_id)
    answers = answers_for(attempt)
    slot, raw = next(iter(answers.items()))
    step("save", lambda: client.post(f"/exams/attempts/{attempt_id}/save", json={"slot": slot, "response": raw,
                                                                                    "seq": 1}))
    assert responses["save"].get_json()["saved"], responses["save"].get_json()
    for other, other_raw in list(answers.items())[1:]:
        client.post(f"/exams/attempts/{attempt_id}/save", json={"slot": other, "response": other_raw, "seq": 1})
    step("submit", lambda: client.post(f"/exams/attempts/{attempt_id}/submit"))
    step("result", lambda: client.get(f"/exams/attempts/{attempt_id}/result"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordEntry).join(Course).where(
        Course.slug == course, RecordEntry.kind == "course", RecordEntry.user_id == attempt.user_id)) == 1, \
        "every lesson read and the exam passed: the course is complete"
    assert "attempts" in responses["submit"].location
    client.get("/records/me")
    step("record", lambda: client.get(_ok(client.get("/records/me"), "record").location))
    return counts


def test_a_break_runs_the_same_queries_with_10_or_1000_courses_entries_and_agents(client, login_as, break_walk):
    agent = break_walk
    grow(10, agent)
    login_as(agent)
    small = walk(client, 1)
    grow(990, agent)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) >= 1000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecordEntry).where(
        RecordEntry.user_id == agent.id)) >= 1000
    large = walk(client, 2)
    grown = {page: (small[page], large[page]) for page in small if large[page] != small[page]}
    print("\nqueries per step (10 / 1,000):", {page: (small[page], large[page]) for page in small})
    assert not grown, f"queries grow with the data (10 -> 1,000): {grown}"
    over = {page: (count, BUDGETS[page]) for page, count in small.items() if count > BUDGETS[page]}
    assert not over, f"over budget (count, budget): {over}; all counts: {small}"
