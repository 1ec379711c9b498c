"""Training-effect surveys: what waits for an agent, answering (anonymous, once, validated),
templates, aggregates that never show fewer than 3 answers, reminders, bounded queries."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Course, RecordEntry, User
from lms.models.classroom import ClassSession
from lms.models.notifications import Notification
from lms.models.surveys import SurveyAnswer, SurveyResponse, SurveyTemplate
from lms.records.services import add_entry
from lms.surveys import authoring, reminders, results, services
from tests.conftest import count_queries

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

COURSE_QUESTIONS = [
    {"kind": "rating", "prompt": "课程内容与工作的相关度", "required": True},
    {"kind": "choice", "prompt": "课程时长是否合适", "options": "太短\n合适\n太长", "required": False},
    {"kind": "text", "prompt": "最有收获的一点", "required": False},
]
SESSION_QUESTIONS = [
    {"kind": "rating", "prompt": "讲师讲解是否清楚", "required": True},
    {"kind": "text", "prompt": "还希望学习哪些内容", "required": True},
]


# --- helpers shared with tests/web/test_surveys.py --------------------------------------------------

def course_of(slug: str) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def complete(user: User, course: Course, at: datetime = NOW - timedelta(days=5)) -> RecordEntry:
    entry = add_entry(user=user, kind="course", title=course.title, course=course, passed=True, occurred_at=at,
                      source_type="course", source_id=course.id)
    db.session.commit()
    return entry


def make_session(instructor: User | None = None, course: Course | None = None, *,
                 starts: datetime = NOW - timedelta(days=10), template_id: int | None = None,
                 title: str = "投诉处理工作坊") -> ClassSession:
    session = ClassSession(title=title, course_id=course.id if course else None,
                           instructor_id=instructor.id if instructor else None, starts_at=starts,
                           ends_at=starts + timedelta(hours=2), audience={}, survey_template_id=template_id,
                           attendance_closed_at=starts + timedelta(hours=3))
    db.session.add(session)
    db.session.commit()
    return session


def attend(user: User, session: ClassSession, passed: bool | None = True) -> RecordEntry:
    entry = add_entry(user=user, kind="attendance", title=session.title, passed=passed,
                      occurred_at=session.starts_at, source_type="class_session", source_id=session.id,
                      details={"session_id": session.id})
    db.session.commit()
    return entry


def make_templates(actor: User) -> tuple[SurveyTemplate, SurveyTemplate]:
    course = authoring.save_template(actor, None, name="课程评估", applies_to="course", rows=COURSE_QUESTIONS, now=NOW)
    session = authoring.save_template(actor, None, name="面授评估", applies_to="session", rows=SESSION_QUESTIONS,
                                     now=NOW)
    return course, session


def answer(user: User, subject_type: str, subject_id: int, course_rating=4, instructor_rating=None,
           answers=None, comment: str = "", now: datetime = NOW) -> None:
    subject, template = services.load_subject_for(user, subject_type, subject_id, now)
    defaults = {q["id"]: (4 if q["kind"] == "rating" else "一些想法" if q["kind"] == "text" else 1)
                for q in template.questions if q.get("required")}
    services.submit_answer(user, subject, template, course_rating=course_rating,
                           instructor_rating=instructor_rating if instructor_rating is not None
                           else (5 if subject.instructor_id else None),
                           answers={**defaults, **(answers or {})}, comment=comment, now=now)


@pytest.fixture
def trainer(make_user):
    return make_user(roles=("trainer",), name="李静")


@pytest.fixture
def templates(trainer):
    return make_templates(trainer)


# --- what waits ---------------------------------------------------------------------------------------

def test_a_recent_completion_waits_until_answered(catalog, make_user, templates):
    agent = make_user()
    course = course_of("basics-a")
    complete(agent, course)
    waiting = services.waiting_surveys(agent, NOW)
    assert [(s.subject_type, s.subject_id, s.title, s.template_id) for s in waiting] == [
        ("course", course.id, course.title, templates[0].id)]
    answer(agent, "course", course.id)
    assert services.waiting_surveys(agent, NOW) == []


def test_the_window_is_ninety_days_to_the_second(catalog, make_user, templates):
    agent = make_user()
    course = course_of("basics-a")
    complete(agent, course, at=NOW - timedelta(days=services.WINDOW_DAYS))
    assert len(services.waiting_surveys(agent, NOW)) == 1
    assert services.waiting_surveys(agent, NOW + timedelta(seconds=1)) == []


def test_a_corrected_or_failed_completion_asks_nothing(catalog, make_user, templates):
    agent = make_user()
    course = course_of("basics-a")
    original = complete(agent, course)
    add_entry(user=agent, kind="course", title=course.title, course=course, passed=False, occurred_at=NOW,
              corrects=original, reason="考试成绩更正")
    db.session.commit()
    assert services.waiting_surveys(agent, NOW) == []


def test_nothing_waits_without_a_template(catalog, make_user):
    agent = make_user()
    complete(agent, course_of("basics-a"))
    assert services.waiting_surveys(agent, NOW) == []


def test_an_attended_session_waits_with_its_instructor_absence_does_not(make_user, templates):
    instructor = make_user(roles=("trainer",), name="讲师甲")
    present, absent = make_user(), make_user()
    session = make_session(instructor)
    attend(present, session)
    attend(absent, session, passed=False)
    waiting = services.waiting_surveys(present, NOW)
    assert [(s.subject_type, s.subject_id, s.instructor_name, s.template_id) for s in waiting] == [
        ("session", session.id, "讲师甲", templates[1].id)]
    assert services.waiting_surveys(absent, NOW) == []


def test_a_session_asks_its_own_template_else_the_default(make_user, trainer, templates):
    own = authoring.save_template(trainer, None, name="专题评估", applies_to="session", rows=[], now=NOW)
    agent = make_user()
    mine, other = make_session(template_id=own.id), make_session()
    wrong_kind = make_session(template_id=templates[0].id)
    for session in (mine, other, wrong_kind):
        attend(agent, session)
    asked = {s.subject_id: s.template_id for s in services.waiting_surveys(agent, NOW)}
    assert asked == {mine.id: own.id, other.id: templates[1].id, wrong_kind.id: templates[1].id}


def test_who_may_answer_what(catalog, make_user, templates):
    agent, stranger = make_user(), make_user()
    course = course_of("basics-a")
    complete(agent, course)
    with pytest.raises(services.Forbidden):
        services.load_subject_for(stranger, "course", course.id, NOW)
    with pytest.raises(services.NotFound):
        services.load_subject_for(agent, "course", 999999, NOW)
    with pytest.raises(services.NotFound):
        services.load_subject_for(agent, "session", 999999, NOW)
    subject, template = services.load_subject_for(agent, "course", course.id, NOW)
    assert (subject.subject_id, template.id) == (course.id, templates[0].id)


# --- answering ------------------------------------------------------------------------------------------

def test_an_answer_keeps_no_trace_of_who_gave_it(catalog, make_user, templates, app):
    agent = make_user()
    course = course_of("basics-a")
    complete(agent, course)
    late_evening = datetime(2026, 11, 23, 17, 30, tzinfo=timezone.utc)  # 01:30 the next day in Shanghai
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Shanghai"
    answer(agent, "course", course.id, course_rating=5, comment="案例很实用", now=late_evening)
    assert db.session.scalars(select(SurveyResponse)).all()[0].user_id == agent.id
    stored = db.session.scalars(select(SurveyAnswer)).one()
    assert (stored.course_rating, stored.comment, stored.answered_on) == (5, "案例很实用", date(2026, 11, 24))
    assert len(stored.id) == 32 and not stored.id.isdigit()  # random, not a sequence matching the responses
    columns = {column["name"] for column in sa.inspect(db.engine).get_columns("survey_answers")}
    assert not columns & {"user_id", "created_at", "updated_at", "answered_at"}
    responses = {column["name"] for column in sa.inspect(db.engine).get_columns("survey_responses")}
    assert responses == {"user_id", "subject_type", "subject_id"}


def test_answering_twice_is_refused_cleanly(catalog, make_user, templates):
    agent = make_user()
    course = course_of("basics-a")
    complete(agent, course)
    subject, template = services.load_subject_for(agent, "course", course.id, NOW)
    services.submit_answer(agent, subject, template, course_rating=4, answers={"q1": 3}, now=NOW)
    with pytest.raises(services.AlreadyAnswered):  # the same form sent twice (a double tap)
        services.submit_answer(agent, subject, template, course_rating=2, answers={"q1": 1}, now=NOW)
    with pytest.raises(services.AlreadyAnswered):
        services.load_subject_for(agent, "course", course.id, NOW)
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 1


@pytest.mark.parametrize("course_rating, answers, field", [
    (6, {"q1": 3}, "course_rating"),
    (0, {"q1": 3}, "course_rating"),
    ("4.5", {"q1": 3}, "course_rating"),
    (None, {"q1": 3}, "course_rating"),
    (4, {"q1": 6}, "q1"),
    (4, {}, "q1"),  # required
    (4, {"q1": "  "}, "q1"),
    (4, {"q1": 3, "q2": 3}, "q2"),  # a choice not offered (0, 1, 2 are)
    (4, {"q1": 3, "q2": -1}, "q2"),
    (4, {"q1": 3, "q2": "合适"}, "q2"),
    (4, {"q1": 3, "q3": "长" * (services.MAX_TEXT + 1)}, "q3"),
])
def test_bad_answers_are_refused_with_the_field(catalog, make_user, templates, course_rating, answers, field):
    agent = make_user()
    course = course_of("basics-a")
    complete(agent, course)
    subject, template = services.load_subject_for(agent, "course", course.id, NOW)
    with pytest.raises(services.InvalidAnswers) as caught:
        services.submit_answer(agent, subject, template, course_rating=course_rating, answers=answers, now=NOW)
    assert field in caught.value.errors
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


def test_a_session_with_an_instructor_needs_the_instructor_rating(make_user, templates):
    agent = make_user()
    session = make_session(make_user(roles=("trainer",)))
    attend(agent, session)
    subject, template = services.load_subject_for(agent, "session", session.id, NOW)
    with pytest.raises(services.InvalidAnswers) as caught:
        services.submit_answer(agent, subject, template, course_rating=4, answers={"q1": 4, "q2": "更多案例"},
                               now=NOW)
    assert set(caught.value.errors) == {"instructor_rating"}
    services.submit_answer(agent, subject, template, course_rating=4, instructor_rating=5,
                           answers={"q1": 4, "q2": "更多案例", "zz": "ignored"}, now=NOW)
    stored = db.session.scalars(select(SurveyAnswer)).one()
    assert (stored.instructor_id, stored.instructor_rating, stored.answers) == (
        session.instructor_id, 5, {"q1": 4, "q2": "更多案例"})


def test_a_session_without_an_instructor_stores_no_instructor_rating(make_user, templates):
    agent = make_user()
    session = make_session()
    attend(agent, session)
    answer(agent, "session", session.id, instructor_rating=3)
    assert db.session.scalars(select(SurveyAnswer)).one().instructor_rating is None


# --- templates --------------------------------------------------------------------------------------------

def test_questions_get_stable_ids_and_empty_rows_are_dropped(trainer):
    rows = [{"kind": "rating", "prompt": " 相关度 "}, {"kind": "rating", "prompt": ""},
            {"kind": "choice", "prompt": "时长", "options": "短\n\n合适\n合适\n长"}]
    template = authoring.save_template(trainer, None, name="t", applies_to="course", rows=rows, now=NOW)
    assert template.questions == [
        {"id": "q1", "kind": "rating", "prompt": "相关度", "options": [], "required": False},
        {"id": "q2", "kind": "choice", "prompt": "时长", "options": ["短", "合适", "长"], "required": False}]
    edited = [{"id": "q2", "kind": "choice", "prompt": "时长", "options": ["短", "长"]},
              {"id": "q2", "kind": "text", "prompt": "其他"}, {"id": "q99", "kind": "text", "prompt": "伪造"}]
    authoring.save_template(trainer, template, name="t", applies_to="course", rows=edited, now=NOW)
    assert [q["id"] for q in template.questions] == ["q2", "q3", "q4"]  # a forged or repeated id gets a new one


@pytest.mark.parametrize("rows, index", [
    ([{"kind": "choice", "prompt": "只有一个选项", "options": "好"}], 0),
    ([{"kind": "rating", "prompt": "ok"}, {"kind": "choice", "prompt": "", "options": "a\nb"}], 1),
    ([{"kind": "essay", "prompt": "未知类型"}], 0),
    ([{"kind": "text", "prompt": "长" * (authoring.MAX_PROMPT + 1)}], 0),
    ([{"kind": "rating", "prompt": f"问题{n}"} for n in range(authoring.MAX_QUESTIONS + 1)], None),
])
def test_template_rules(trainer, rows, index):
    with pytest.raises(authoring.InvalidTemplate) as caught:
        authoring.save_template(trainer, None, name="t", applies_to="course", rows=rows, now=NOW)
    assert index in caught.value.errors
    assert db.session.scalar(select(func.count()).select_from(SurveyTemplate)) == 0


def test_ten_questions_are_allowed(trainer):
    rows = [{"kind": "rating", "prompt": f"问题{n}"} for n in range(authoring.MAX_QUESTIONS)]
    template = authoring.save_template(trainer, None, name="t", applies_to="course", rows=rows, now=NOW)
    assert len(template.questions) == authoring.MAX_QUESTIONS


def test_one_default_per_kind(trainer):
    first = authoring.save_template(trainer, None, name="a", applies_to="course", rows=[], now=NOW)
    second = authoring.save_template(trainer, None, name="b", applies_to="course", rows=[], now=NOW)
    session = authoring.save_template(trainer, None, name="c", applies_to="session", rows=[], now=NOW)
    assert (first.is_default, second.is_default, session.is_default) == (True, False, True)
    authoring.set_default(trainer, second, NOW)
    db.session.expire_all()
    assert (first.is_default, second.is_default, session.is_default) == (False, True, True)


def test_a_template_with_answers_keeps_its_questions_and_a_copy_can_change(catalog, make_user, trainer, templates):
    agent = make_user()
    course = course_of("basics-a")
    complete(agent, course)
    answer(agent, "course", course.id)
    template = templates[0]
    before = [dict(q) for q in template.questions]
    with pytest.raises(authoring.TemplateHasAnswers):
        authoring.save_template(trainer, template, name="改名", applies_to="course",
                               rows=before[:1], now=NOW)
    with pytest.raises(authoring.TemplateHasAnswers):
        authoring.save_template(trainer, template, name="改名", applies_to="session", rows=before, now=NOW)
    db.session.rollback()
    authoring.save_template(trainer, template, name="改名", applies_to="course", rows=before, now=NOW)
    assert (template.name, template.questions) == ("改名", before)
    copy = authoring.duplicate_template(trainer, template, "副本", NOW)
    assert (copy.questions, copy.is_default, copy.applies_to) == (before, False, "course")
    authoring.save_template(trainer, copy, name="副本", applies_to="course", rows=before[:1], now=NOW)
    assert len(copy.questions) == 1 and len(template.questions) == 3


# --- results ----------------------------------------------------------------------------------------------

def _answer_course(make_user, course, ratings, comments=None, relevance=None):
    for index, rating in enumerate(ratings):
        agent = make_user()
        complete(agent, course)
        answers = {"q1": (relevance or [4] * len(ratings))[index], "q2": index % 3, "q3": f"收获{index}"}
        answer(agent, "course", course.id, course_rating=rating, answers=answers,
               comment=(comments or [""] * len(ratings))[index])


def test_fewer_than_three_answers_show_nothing_but_the_count(catalog, make_user, templates):
    course = course_of("basics-a")
    _answer_course(make_user, course, [5, 1], comments=["讲得好", "太快了"])
    _, result = results.load_course_results_for(make_user(roles=("admin",)), course.id)
    assert (result.count, result.eligible, result.shown) == (2, 2, False)
    assert (result.course_rating, result.comments, result.sections) == (None, [], [])


def test_three_answers_show_averages_choices_and_sorted_comments(catalog, make_user, templates):
    course = course_of("basics-a")
    _answer_course(make_user, course, [5, 4, 2], comments=["讲得好", "", "案例多一些"], relevance=[5, 3, 4])
    complete(make_user(), course)  # completed, did not answer
    _, result = results.load_course_results_for(make_user(roles=("trainer",)), course.id)
    assert (result.count, result.eligible, result.response_rate) == (3, 4, 75.0)
    assert result.course_rating == pytest.approx(11 / 3, abs=0.01)
    assert result.comments == sorted(["讲得好", "案例多一些"])
    [section] = result.sections
    relevance, duration, gain = section.questions
    assert (relevance.average, relevance.count) == (4.0, 3)
    assert duration.choices == [("太短", 1), ("合适", 1), ("太长", 1)]
    assert gain.texts == ["收获0", "收获1", "收获2"]


def test_a_template_used_by_fewer_than_three_answers_shows_nothing(catalog, make_user, trainer, templates):
    course = course_of("basics-a")
    _answer_course(make_user, course, [5, 4, 4])
    other = authoring.save_template(trainer, None, name="新版", applies_to="course",
                                   rows=[{"kind": "text", "prompt": "单独的问题"}], make_default=True, now=NOW)
    agent = make_user()
    complete(agent, course)
    answer(agent, "course", course.id, answers={"q1": "只有我一个人的回答"})
    _, result = results.load_course_results_for(make_user(roles=("admin",)), course.id)
    assert result.shown and result.count == 4
    hidden = next(section for section in result.sections if section.template.id == other.id)
    assert (hidden.count, hidden.shown, hidden.questions) == (1, False, [])


def test_instructors_see_only_their_sessions_and_courses(catalog, make_user, templates):
    teacher, colleague = make_user(roles=("mentor", "agent")), make_user(roles=("mentor", "agent"))
    course, other_course = course_of("basics-a"), course_of("basics-b")
    mine, theirs = make_session(teacher, course), make_session(colleague, other_course)
    complete(make_user(), course)
    complete(make_user(), other_course)
    assert results.load_session_results_for(teacher, mine.id)[0] == mine
    for load, subject_id in ((results.load_session_results_for, theirs.id),
                             (results.load_course_results_for, other_course.id)):
        with pytest.raises(services.Forbidden):
            load(teacher, subject_id)
    assert results.load_course_results_for(teacher, course.id)[0] == course
    with pytest.raises(services.Forbidden):
        results.load_instructor_results_for(teacher, colleague.id)
    overview = results.results_overview(teacher)
    assert [row.id for row in overview.sessions] == [mine.id]
    assert [row.id for row in overview.courses] == [course.id]
    assert results.may_see_results(teacher) and not results.may_see_results(make_user())


def test_an_instructor_total_counts_only_sessions_of_three_answers(make_user, templates):
    teacher = make_user(roles=("trainer",))
    big, small = make_session(teacher, title="大班"), make_session(teacher, title="小班")
    for rating in (5, 4, 3):
        agent = make_user()
        attend(agent, big)
        answer(agent, "session", big.id, instructor_rating=rating)
    lone = make_user()
    attend(lone, small)
    answer(lone, "session", small.id, instructor_rating=1)
    _, total, rows = results.load_instructor_results_for(teacher, teacher.id)
    assert (total.count, total.instructor_rating) == (3, 4.0)  # the 1 of the small session is not in it
    assert {row.title: (row.result.count, row.result.shown) for row in rows} == {"大班": (3, True), "小班": (1, False)}
    overview = results.results_overview(make_user(roles=("admin",)))
    [line] = overview.instructors
    assert (line.total, line.sessions, line.result.instructor_rating) == (4, 2, 4.0)
    small_row = next(row for row in overview.sessions if row.id == small.id)
    assert (small_row.result.count, small_row.result.course_rating, small_row.result.instructor_rating) == (1, None,
                                                                                                           None)


# --- reminders --------------------------------------------------------------------------------------------

def test_send_due_notifies_once_per_agent_and_subject(catalog, make_user, templates):
    agent, done = make_user(), make_user()
    course = course_of("basics-a")
    complete(agent, course)
    complete(done, course)
    answer(done, "course", course.id)
    session = make_session()
    attend(agent, session)
    assert reminders.send_due(NOW) == 2
    db.session.commit()
    assert reminders.send_due(NOW) == 0
    notes = db.session.scalars(select(Notification).order_by(Notification.key)).all()
    assert [(n.user_id, n.kind, n.link, n.params["title"]) for n in notes] == [
        (agent.id, "survey_waiting", f"/surveys/course/{course.id}", course.title),
        (agent.id, "survey_waiting", f"/surveys/session/{session.id}", session.title)]


# --- bounded queries ----------------------------------------------------------------------------------------

def _agents_with_completions(count: int, course: Course) -> list[User]:
    agents = [User(employee_no=f"B{count}-{n:05d}", name=f"坐席{n}", team="热线一组", password_hash="x")
              for n in range(count)]
    for agent in agents:
        agent.roles = {"agent"}
    db.session.add_all(agents)
    db.session.flush()
    db.session.add_all([RecordEntry(user_id=agent.id, kind="course", course_id=course.id, title=course.title,
                                    passed=True, occurred_at=NOW - timedelta(days=3)) for agent in agents])
    db.session.commit()
    return agents


def test_waiting_and_results_run_a_fixed_number_of_queries(catalog, make_user, templates):
    course, other = course_of("basics-a"), course_of("basics-b")
    viewer = make_user(roles=("admin",))
    _agents_with_completions(10, course)
    small = (count_queries(lambda: services.waiting_by_user(NOW)),
             count_queries(lambda: results.results_overview(viewer)))
    _agents_with_completions(1000, other)
    large = (count_queries(lambda: services.waiting_by_user(NOW)),
             count_queries(lambda: results.results_overview(viewer)))
    assert small == large
    assert len(services.waiting_by_user(NOW)) == 1010
