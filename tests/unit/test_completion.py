"""The one completion rule: lessons, exam, practicals, customer evaluation; recertification cycles;
corrections that flip a completion."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.certificates.services import certificate_status
from lms.clock import add_months, months_between
from lms.content.sync import sync_courses
from lms.exams import saving
from lms.exams import services as exams
from lms.extensions import db
from lms.lessons.services import complete_lesson
from lms.models import Certificate, Course, RecordEntry, Scenario, User
from lms.practicals import services as practicals
from lms.practicals.scripts import sync_scenarios
from lms.records import completion
from lms.records.services import add_entry
from tests.conftest import write_course
from tests.exam_support import answers_for, make_bank, make_exam, right_raw, wrong_raw
from tests.practicals_support import criteria_ids, write_scenario

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def people(make_user):
    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="导师")
    return {"mentor": mentor, "agent": make_user(star_level=0, mentor=mentor, name="学员"),
            "trainer": make_user(roles=("trainer",))}


@pytest.fixture
def course(course_root):
    """basics-a: three lessons, an exam, the practical test-call and a customer-evaluation threshold."""
    write_course(course_root, "0-01-a", slug="basics-a", lessons=("one", "two"),
                 extra="practicals: [test-call]\ncustomer_evaluation: 85\n")
    write_scenario(course_root)
    sync_courses(db.session, course_root, T0)
    sync_scenarios(db.session, course_root, T0)
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    make_exam([(make_bank("kb", per_type=2, types=("truefalse", "single")), 4)], course=course, pass_percent=60,
              attempts_allowed=2)
    return course


def read_all(agent, course, at):
    clock.freeze(at)
    for lesson in course.live_lessons:
        complete_lesson(agent, lesson)
    clock.freeze(None)


def sit(agent, course, at, raw=right_raw):
    exam = completion.load_facts([agent.id]).exams[course.id]
    attempt = exams.start_attempt(agent, exam, at)
    for slot, value in answers_for(attempt, raw).items():
        saving.save_answer(agent, attempt.id, slot, value, 1, at + timedelta(minutes=1))
    return exams.submit_attempt(agent, attempt.id, at + timedelta(minutes=2))


def observe(people, at, *, passed=True):
    scenario = db.session.scalar(select(Scenario).where(Scenario.slug == "test-call"))
    practical = practicals.open_practical(people["mentor"], people["agent"], scenario, scheduled_for=None, now=at)
    ids = criteria_ids(scenario)
    practicals.sign_off(people["mentor"], practical, script_version_id=scenario.script.id,
                        rubric_version_id=scenario.rubric.id,
                        marks={ids["empathy"]: 2 if passed else 0, ids["verify"]: 1 if passed else 0,
                               ids["escalate"]: 1},
                        comments={}, overall_comment="", work_on="" if passed else "先核实身份", mood=None, now=at)
    return practical


def evaluate(agent, at, satisfaction, period="2026-01"):
    entry = add_entry(user=agent, kind="evaluation", title=period, score=satisfaction, max_score=100,
                      passed=satisfaction >= 90, occurred_at=at)
    entry.period = period
    db.session.commit()
    return entry


def completions(agent):
    return list(db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == agent.id,
                                                             RecordEntry.kind == "course").order_by(RecordEntry.id)))


def state_of(agent, course, now):
    return completion.load_standing(agent, now).state(course)


def test_every_requirement_is_needed_and_the_completion_is_written_once_dated_by_the_last(people, course):
    agent = people["agent"]
    read_all(agent, course, T0)
    sit(agent, course, T0 + timedelta(days=1))
    state = state_of(agent, course, T0 + timedelta(days=2))
    assert [(r.kind, r.met) for r in state.requirements] == [
        ("lessons", True), ("exam", True), ("practical", False), ("evaluation", False)]
    assert state.status == completion.IN_PROGRESS and completions(agent) == []  # exam passed, practical missing

    observe(people, T0 + timedelta(days=3))
    assert completions(agent) == []  # the evaluation is still missing
    evaluate(agent, T0 + timedelta(days=4), 84.9)
    assert not state_of(agent, course, T0 + timedelta(days=5)).met  # below the course's 85 %
    evaluate(agent, T0 + timedelta(days=6), 88.0, period="2026-02")
    # the next event writes it (an import calls record_completions; so does any lesson read)
    completion.record_completions(agent, T0 + timedelta(days=7))
    db.session.commit()
    completion.record_completions(agent, T0 + timedelta(days=8))  # twice: still one entry
    db.session.commit()
    [entry] = completions(agent)
    assert entry.passed and entry.occurred_at == T0 + timedelta(days=6) and entry.valid_until is None
    assert entry.details["practical_entry_ids"] and entry.details["exam"]["slug"] == "final"
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    assert state_of(agent, course, T0 + timedelta(days=9)).status == completion.COMPLETE


def test_a_failed_exam_keeps_the_course_open_and_the_blocker_says_so(people, course):
    agent = people["agent"]
    read_all(agent, course, T0)
    sit(agent, course, T0 + timedelta(hours=1), raw=wrong_raw)
    state = state_of(agent, course, T0 + timedelta(days=1))
    exam = state.requirement("exam")
    assert not exam.met and exam.done == 1 and exam.percent == 0 and exam.threshold == 60
    assert [r.kind for r in state.missing] == ["exam", "practical", "evaluation"]


def test_a_correction_that_fails_the_practical_takes_the_completion_back(people, course):
    agent = people["agent"]
    read_all(agent, course, T0)
    sit(agent, course, T0 + timedelta(days=1))
    evaluate(agent, T0 + timedelta(days=1), 95.0)
    practical = observe(people, T0 + timedelta(days=2))
    [entry] = completions(agent)
    certificate = db.session.scalar(select(Certificate))
    assert certificate_status(certificate, T0 + timedelta(days=3)) == "valid"

    ids = criteria_ids(db.session.scalar(select(Scenario)))
    practical = practicals.load_practical_for(people["trainer"], practical.id)
    practicals.correct_practical(people["mentor"], practical, marks={ids["empathy"]: 2, ids["verify"]: 0,
                                                                     ids["escalate"]: 1},
                                 comments={}, reason="录音复核：未核实身份", now=T0 + timedelta(days=4))
    entries = completions(agent)
    assert [(e.passed, e.corrects_id, e.reason) for e in entries] == [
        (True, None, ""), (False, entry.id, "录音复核：未核实身份")]
    assert state_of(agent, course, T0 + timedelta(days=5)).status == completion.IN_PROGRESS
    assert certificate_status(certificate, T0 + timedelta(days=5)) == "withdrawn"

    # a correction back to a pass completes it again, as a new entry
    practical = practicals.load_practical_for(people["trainer"], practical.id)
    practicals.correct_practical(people["mentor"], practical, marks={ids["empathy"]: 2, ids["verify"]: 1,
                                                                     ids["escalate"]: 1},
                                 comments={}, reason="复核有误", now=T0 + timedelta(days=6))
    assert [e.passed for e in completions(agent)] == [True, False, True]


@pytest.fixture
def refresher(course_root):
    write_course(course_root, "0-02-r", slug="refresh", track="refresher", lessons=("only",),
                 extra="valid_months: 12\n")
    sync_courses(db.session, course_root, T0)
    course = db.session.scalar(select(Course).where(Course.slug == "refresh"))
    make_exam([(make_bank("rb", per_type=2, types=("truefalse",)), 2)], slug="refresh-exam", course=course,
              pass_percent=60, attempts_allowed=1)
    return course


def test_a_refresher_is_due_from_the_lead_time_expires_after_its_months_and_a_cycle_has_fresh_attempts(
        people, refresher, app):
    agent = people["agent"]
    read_all(agent, refresher, T0)
    sit(agent, refresher, T0)
    [entry] = completions(agent)
    expires = add_months(T0 + timedelta(minutes=2), 12)
    assert entry.valid_until == expires
    lead = timedelta(days=app.config["LMS_RECERT_LEAD_DAYS"])

    assert state_of(agent, refresher, expires - lead - timedelta(seconds=1)).status == completion.COMPLETE
    due = state_of(agent, refresher, expires - lead)
    assert due.status == completion.DUE and due.counts and due.cycle_start == expires - lead
    assert not due.requirement("lessons").met and not due.requirement("exam").met  # both again in the cycle
    expired = state_of(agent, refresher, expires)
    assert expired.status == completion.EXPIRED and not expired.counts and expired.ever_completed

    exam = completion.load_facts([agent.id]).exams[refresher.id]
    status = exams.exam_status(agent, exam, expires - lead + timedelta(days=1))
    assert status.can_start and status.attempts == [] and len(status.earlier) == 1 and status.attempts_left == 1
    assert status.combined_percent is None
    sit(agent, refresher, expires + timedelta(days=3))  # a late recertification still counts from then...
    assert len(completions(agent)) == 1  # ...but the lessons must be read again first
    read_all(agent, refresher, expires + timedelta(days=3, minutes=5))
    assert [(e.passed, e.details["cycle"]) for e in completions(agent)] == [(True, 1), (True, 2)]
    renewed = state_of(agent, refresher, expires + timedelta(days=4))
    assert renewed.status == completion.COMPLETE
    assert renewed.valid_until == add_months(expires + timedelta(days=3, minutes=5), 12)


def test_standings_load_in_a_fixed_number_of_queries(people, course, make_user):
    from tests.conftest import count_queries

    few = [make_user() for _ in range(2)]
    many = few + [make_user() for _ in range(20)]
    for agent in many:
        add_entry(user=agent, kind="evaluation", title="2026-01", score=90, max_score=100, passed=True)
    db.session.commit()
    ids = [agent.id for agent in many]
    many = list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))  # as pages load them
    few = many[:2]
    courses = completion.live_courses()
    assert count_queries(lambda: completion.load_standings(few, T0, courses)) == \
        count_queries(lambda: completion.load_standings(many, T0, courses))


@pytest.mark.parametrize("start, months, expected", [
    (datetime(2026, 1, 31, tzinfo=timezone.utc), 1, datetime(2026, 2, 28, tzinfo=timezone.utc)),
    (datetime(2024, 1, 31, tzinfo=timezone.utc), 1, datetime(2024, 2, 29, tzinfo=timezone.utc)),
    (datetime(2026, 11, 30, tzinfo=timezone.utc), 3, datetime(2027, 2, 28, tzinfo=timezone.utc)),
    (datetime(2026, 5, 15, tzinfo=timezone.utc), 12, datetime(2027, 5, 15, tzinfo=timezone.utc)),
])
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize("start, end, expected", [
    ((2026, 1, 15), (2026, 2, 14), 0), ((2026, 1, 15), (2026, 2, 15), 1), ((2025, 9, 1), (2026, 11, 27), 14),
    ((2026, 11, 2), (2026, 11, 27), 0),
])
def test_months_between_counts_whole_months(start, end, expected):
    from datetime import date

    assert months_between(date(*start), date(*end)) == expected
