"""Sitting exams without HTTP: starting, drawing, saving, closing on time, grading, marking, record."""
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden, NotFound

from lms.exams import grading, marking, saving, services, timing
from lms.extensions import db
from lms.models import AttemptAnswer, AttemptQuestion, AuditEvent, ExamAttempt, RecordEntry
from lms.questions.types import QUESTION_TYPES, InvalidResponse
from tests.exam_support import answers_for, make_bank, make_exam, right_raw, wrong_raw

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def agent(make_user):
    return make_user(roles=("agent",), name="坐席甲")


@pytest.fixture
def bank(app):
    return make_bank("kb", per_type=2)


def start(user, exam, now=T0, seed=1):
    return services.start_attempt(user, exam, now, rng=random.Random(seed))


def answer_all(user, attempt, now, raw=right_raw):
    for slot, response in answers_for(attempt, raw).items():
        saving.save_answer(user, attempt.id, slot, response, int(now.timestamp() * 1000) + slot, now)


def entries(user):
    return list(db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == user.id)))


# --- starting ------------------------------------------------------------------------------------

def test_start_pins_questions_versions_order_and_deadline(agent, bank):
    exam = make_exam([(bank, 8)], time_limit_minutes=15)
    attempt = start(agent, exam)
    assert attempt.number == 1 and attempt.state == "open"
    assert attempt.deadline == T0 + timedelta(minutes=15)
    assert [aq.position for aq in attempt.questions] == list(range(8))
    assert len({aq.question_id for aq in attempt.questions}) == 8
    for aq in attempt.questions:
        assert aq.question_version_id == aq.version.id and aq.version.question_id == aq.question_id
        expected = QUESTION_TYPES[aq.question_type].option_ids(aq.version.data)
        assert sorted(aq.option_order) == sorted(expected)
    assert attempt.max_score == 8


def test_starting_again_resumes_the_open_attempt(agent, bank):
    exam = make_exam([(bank, 4)])
    first = start(agent, exam)
    again = start(agent, exam, T0 + timedelta(minutes=3))
    assert again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(ExamAttempt)) == 1


def test_two_starts_in_the_same_instant_give_one_attempt(agent, bank, monkeypatch):
    """The other click's insert lands between our check and our commit: the unique constraint
    refuses ours and we return theirs."""
    exam = make_exam([(bank, 4)])
    real_draw = services.draw_questions
    winner_id = {}

    def draw_while_the_other_click_commits(exam_, user_, rng, **options):
        drawn = real_draw(exam_, user_, rng, **options)
        with Session(db.engine) as other:
            other_attempt = ExamAttempt(exam_id=exam.id, user_id=agent.id, number=1, state="open", started_at=T0,
                                        deadline=T0 + timedelta(minutes=20), max_score=0)
            other.add(other_attempt)
            other.commit()
            winner_id["id"] = other_attempt.id
        return drawn

    monkeypatch.setattr(services, "draw_questions", draw_while_the_other_click_commits)
    attempt = start(agent, exam)
    assert attempt.id == winner_id["id"]
    assert db.session.scalar(select(func.count()).select_from(ExamAttempt)) == 1


def test_deadline_is_cut_by_the_close_time(agent, bank):
    exam = make_exam([(bank, 4)], time_limit_minutes=20, closes_at=T0 + timedelta(minutes=5))
    assert start(agent, exam).deadline == T0 + timedelta(minutes=5)


def test_open_and_close_window(agent, bank):
    exam = make_exam([(bank, 4)], opens_at=T0 + timedelta(hours=1), closes_at=T0 + timedelta(hours=2))
    with pytest.raises(services.ExamNotOpenYet) as raised:
        start(agent, exam, T0)
    assert raised.value.opens_at == T0 + timedelta(hours=1)
    with pytest.raises(services.ExamClosed):
        start(agent, exam, T0 + timedelta(hours=2))
    assert start(agent, exam, T0 + timedelta(hours=1)).state == "open"


def test_attempt_limit(agent, bank):
    exam = make_exam([(bank, 2)], attempts_allowed=2)
    for n in range(2):
        attempt = start(agent, exam, T0 + timedelta(hours=n))
        services.submit_attempt(agent, attempt.id, T0 + timedelta(hours=n, minutes=5))
    with pytest.raises(services.AttemptLimitReached):
        start(agent, exam, T0 + timedelta(days=3))
    status = services.exam_status(agent, exam, T0 + timedelta(days=3))
    assert status.attempts_left == 0 and status.blocker == "limit"


def test_retake_delays_before_the_second_and_later_attempts(agent, bank):
    exam = make_exam([(bank, 2)], retake_delay_minutes=30, later_retake_delay_minutes=60)
    first = start(agent, exam, T0)
    services.submit_attempt(agent, first.id, T0 + timedelta(minutes=10))
    with pytest.raises(services.RetakeNotYet) as raised:
        start(agent, exam, T0 + timedelta(minutes=39, seconds=59))
    assert raised.value.allowed_at == T0 + timedelta(minutes=40)
    second = start(agent, exam, T0 + timedelta(minutes=40))
    assert second.number == 2
    services.submit_attempt(agent, second.id, T0 + timedelta(minutes=50))
    with pytest.raises(services.RetakeNotYet) as raised:
        start(agent, exam, T0 + timedelta(minutes=109))
    assert raised.value.allowed_at == T0 + timedelta(minutes=110)
    assert start(agent, exam, T0 + timedelta(minutes=110)).number == 3


def test_a_course_exam_is_locked_while_the_course_is(agent, bank, catalog):
    from lms.models import Course

    level_one = db.session.scalar(select(Course).where(Course.slug == "level-one"))
    exam = make_exam([(bank, 2)], course=level_one)
    with pytest.raises(services.ExamLocked):
        start(agent, exam)


def test_an_empty_exam_cannot_start(agent, app):
    empty = make_bank("empty", per_type=0)
    exam = make_exam([(empty, 3)])
    with pytest.raises(services.ExamEmpty):
        start(agent, exam)


# --- drawing -------------------------------------------------------------------------------------

def test_drawing_prefers_questions_not_seen_in_earlier_attempts(agent, app):
    bank = make_bank("ten", per_type=5, types=("single", "truefalse"))
    exam = make_exam([(bank, 5)])
    seen = []
    for n in range(2):
        attempt = start(agent, exam, T0 + timedelta(hours=n), seed=n)
        seen.append({aq.question_id for aq in attempt.questions})
        services.submit_attempt(agent, attempt.id, T0 + timedelta(hours=n, minutes=1))
    assert seen[0].isdisjoint(seen[1]) and len(seen[0] | seen[1]) == 10
    third = start(agent, exam, T0 + timedelta(hours=5), seed=7)
    assert len({aq.question_id for aq in third.questions}) == 5  # all seen once: any five, none twice


def test_drawing_respects_tags_and_never_repeats_across_pools(agent, app):
    bank = make_bank("tagged", per_type=4, types=("single",),
                     tags_for=lambda kind, n: ["计费"] if n < 2 else ["装机"])
    exam = make_exam([(bank, 2, ["计费"]), (bank, 4)], shuffle_questions=False)
    attempt = start(agent, exam)
    by_position = [aq.question_id for aq in attempt.questions]
    tagged = {q.id for q in bank.questions if "计费" in q.tags}
    assert set(by_position[:2]) == tagged  # the tagged pool first, in bank order
    assert len(set(by_position)) == 4


def test_shuffle_off_keeps_file_order_except_for_matching(agent, app):
    bank = make_bank("plain", per_type=1)
    exam = make_exam([(bank, 6)], shuffle_questions=False, shuffle_options=False)
    shuffled_matching = False
    for seed in range(6):
        attempt = start(agent, exam, T0 + timedelta(hours=seed), seed=seed)
        assert [aq.question_id for aq in attempt.questions] == sorted(q.id for q in bank.questions)
        for aq in attempt.questions:
            file_order = QUESTION_TYPES[aq.question_type].option_ids(aq.version.data)
            if aq.question_type == "matching":
                shuffled_matching |= aq.option_order != file_order
            else:
                assert aq.option_order == file_order
        services.submit_attempt(agent, attempt.id, T0 + timedelta(hours=seed, minutes=1))
    assert shuffled_matching  # always shuffled: choices in file order would line up with the items


def test_shuffle_on_stores_a_shuffled_order(agent, app):
    bank = make_bank("mixed", per_type=3, types=("single", "multi"))
    exam = make_exam([(bank, 6)], attempts_allowed=0)
    attempt = start(agent, exam, seed=3)
    orders = [aq.option_order for aq in attempt.questions]
    files = [QUESTION_TYPES[aq.question_type].option_ids(aq.version.data) for aq in attempt.questions]
    assert orders != files
    db.session.expire_all()
    stored = db.session.get(ExamAttempt, attempt.id)
    assert [aq.option_order for aq in stored.questions] == orders


# --- saving --------------------------------------------------------------------------------------

def stored(attempt, slot):
    return db.session.scalar(select(AttemptAnswer).join(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt.id, AttemptQuestion.position == slot)
        .execution_options(populate_existing=True))


def test_saves_are_idempotent_and_an_older_seq_never_wins(agent, app):
    bank = make_bank("tf", per_type=2, types=("truefalse",))
    attempt = start(agent, make_exam([(bank, 2)]))
    assert saving.save_answer(agent, attempt.id, 0, "true", 5, T0).seq == 5
    assert saving.save_answer(agent, attempt.id, 0, "false", 3, T0).seq == 5  # older: acknowledged, ignored
    assert stored(attempt, 0).response is True
    assert saving.save_answer(agent, attempt.id, 0, "true", 5, T0).seq == 5  # replay
    assert saving.save_answer(agent, attempt.id, 0, "false", 6, T0).seq == 6
    assert stored(attempt, 0).response is False
    # one row per slot, made at start: saves update it, never add another
    assert db.session.scalar(select(func.count()).select_from(AttemptAnswer)) == len(attempt.questions) == 2


def test_save_checks_owner_slot_and_response(agent, make_user, app):
    bank = make_bank("one", per_type=1, types=("single",))
    attempt = start(agent, make_exam([(bank, 1)]))
    with pytest.raises(Forbidden):
        saving.save_answer(make_user(), attempt.id, 0, "0", 1, T0)
    with pytest.raises(NotFound):
        saving.save_answer(agent, attempt.id + 99, 0, "0", 1, T0)
    with pytest.raises(services.UnknownSlot):
        saving.save_answer(agent, attempt.id, 5, "0", 1, T0)
    with pytest.raises(InvalidResponse):
        saving.save_answer(agent, attempt.id, 0, "9", 1, T0)


@pytest.mark.parametrize("after_deadline, accepted", [
    (timedelta(seconds=-1), True), (timedelta(0), True), (timedelta(seconds=30), True),
    (timedelta(seconds=31), False),
])
def test_the_server_checks_the_deadline_on_every_save(agent, app, after_deadline, accepted):
    bank = make_bank("tf", per_type=1, types=("truefalse",))
    attempt = start(agent, make_exam([(bank, 1)], time_limit_minutes=10))
    moment = attempt.deadline + after_deadline
    if accepted:
        saving.save_answer(agent, attempt.id, 0, "true", 1, moment)
        assert stored(attempt, 0).response is True
    else:
        with pytest.raises(services.AttemptFinished) as raised:
            saving.save_answer(agent, attempt.id, 0, "true", 1, moment)
        assert raised.value.overdue
        db.session.expire_all()
        assert db.session.get(ExamAttempt, attempt.id).state == "graded"  # finalized by the late save
        assert stored(attempt, 0).response is None


def test_the_grace_period_is_configurable(agent, app):
    app.config["LMS_EXAM_GRACE_SECONDS"] = 0
    bank = make_bank("tf", per_type=1, types=("truefalse",))
    attempt = start(agent, make_exam([(bank, 1)]))
    with pytest.raises(services.AttemptFinished):
        saving.save_answer(agent, attempt.id, 0, "true", 1, attempt.deadline + timedelta(seconds=1))


def test_no_save_lands_after_submit(agent, bank):
    attempt = start(agent, make_exam([(bank, 3)]))
    services.submit_attempt(agent, attempt.id, T0 + timedelta(minutes=1))
    with pytest.raises(services.AttemptFinished):
        saving.save_answer(agent, attempt.id, 0, None, 99, T0 + timedelta(minutes=2))


def test_a_page_of_answers_without_javascript(agent, app):
    bank = make_bank("page", per_type=1)
    attempt = start(agent, make_exam([(bank, 6)]))
    saving.save_answer(agent, attempt.id, 0, right_raw(attempt.questions[0].question_type,
                                                         attempt.questions[0].version.data,
                                                         attempt.questions[0].option_order),
                         timing.epoch_ms(T0) + services.SEQ_AHEAD_MS, T0)  # the newest a save may be
    raws = answers_for(attempt, right_raw)
    raws[1] = {"bad": "shape"} if attempt.questions[1].question_type != "essay" else 42
    rejected = saving.save_answers(agent, attempt.id, raws, T0 + timedelta(minutes=1))
    assert rejected == [1]
    assert stored(attempt, 2).response is not None


# --- closing and grading -------------------------------------------------------------------------

def test_all_right_is_full_marks_and_lands_in_the_record(agent, app):
    bank = make_bank("auto", per_type=2, types=("single", "multi", "truefalse", "fill", "matching"))
    exam = make_exam([(bank, 10)], pass_percent=80)
    attempt = start(agent, exam)
    answer_all(agent, attempt, T0 + timedelta(minutes=1))
    services.submit_attempt(agent, attempt.id, T0 + timedelta(minutes=7))
    assert attempt.state == "graded"
    assert (attempt.score, attempt.max_score, attempt.percent, attempt.passed, attempt.band) == \
        (10, 10, 100.0, True, "excellent")
    entry = attempt.record_entry
    assert entry.kind == "exam" and entry.user_id == agent.id and entry.passed and entry.band == "excellent"
    assert entry.source_type == "exam_attempt" and entry.source_id == attempt.id
    assert entry.details["attempt_id"] == attempt.id
    assert sorted(entry.details["question_version_ids"]) == sorted(aq.question_version_id for aq in attempt.questions)
    assert entry.occurred_at == T0 + timedelta(minutes=7)


def test_all_wrong_fails_with_needs_improvement(agent, app):
    bank = make_bank("auto", per_type=1, types=("single", "multi", "truefalse", "fill", "matching"))
    attempt = start(agent, make_exam([(bank, 5)]))
    answer_all(agent, attempt, T0, raw=wrong_raw)
    services.submit_attempt(agent, attempt.id, T0 + timedelta(minutes=1))
    assert (attempt.score, attempt.passed, attempt.band) == (0, False, "needs_improvement")
    assert entries(agent)[0].passed is False


def test_pass_mark_is_inclusive(agent, app):
    bank = make_bank("five", per_type=5, types=("truefalse",))
    attempt = start(agent, make_exam([(bank, 5)], pass_percent=60))
    raws = answers_for(attempt, right_raw)
    for slot in (3, 4):
        raws[slot] = "false"
    for slot, raw in raws.items():
        saving.save_answer(agent, attempt.id, slot, raw, 1, T0)
    services.submit_attempt(agent, attempt.id, T0)
    assert attempt.percent == 60.0 and attempt.passed and attempt.band == "pass"


def test_submitting_twice_grades_once(agent, app):
    bank = make_bank("auto", per_type=1, types=("single", "multi", "truefalse", "fill", "matching"))
    attempt = start(agent, make_exam([(bank, 4)], attempts_allowed=1))
    first = services.submit_attempt(agent, attempt.id, T0 + timedelta(minutes=2))
    second = services.submit_attempt(agent, attempt.id, T0 + timedelta(minutes=3))
    assert first.id == second.id and second.submitted_at == T0 + timedelta(minutes=2)
    assert len(entries(agent)) == 1
    assert db.session.scalar(select(func.count()).select_from(ExamAttempt)) == 1


def test_an_overdue_attempt_is_finalized_by_whoever_touches_it(agent, make_user, app):
    bank = make_bank("tf", per_type=2, types=("truefalse",))
    exam = make_exam([(bank, 2)], time_limit_minutes=10)
    attempt = start(agent, exam)
    saving.save_answer(agent, attempt.id, 0, right_raw("truefalse", attempt.questions[0].version.data, []), 1,
                         T0 + timedelta(minutes=2))
    late = attempt.deadline + timedelta(seconds=31)
    trainer = make_user(roles=("trainer",))
    touched = services.load_attempt_for(trainer, attempt.id, late, staff=True)  # a trainer's page
    assert touched.state == "graded" and touched.auto_submitted
    assert touched.submitted_at == attempt.deadline  # it ended when time ran out
    assert touched.score == 1 and len(entries(agent)) == 1


def test_within_the_allowance_the_attempt_stays_open(agent, app):
    bank = make_bank("tf", per_type=1, types=("truefalse",))
    attempt = start(agent, make_exam([(bank, 1)], time_limit_minutes=10))
    touched = services.load_attempt_for(agent, attempt.id, attempt.deadline + timedelta(seconds=30))
    assert touched.state == "open"
    services.submit_attempt(agent, attempt.id, attempt.deadline + timedelta(seconds=30))
    assert attempt.state == "graded" and not attempt.auto_submitted


def test_exam_status_closes_an_overdue_attempt(agent, bank):
    exam = make_exam([(bank, 2)], time_limit_minutes=10)
    attempt = start(agent, exam)
    status = services.exam_status(agent, exam, T0 + timedelta(hours=1))
    assert status.open_attempt is None and status.finished[0].id == attempt.id
    assert status.can_start


def test_close_expired_attempts(make_user, bank):
    exam = make_exam([(bank, 2)], time_limit_minutes=10)
    agents = [make_user() for _ in range(3)]
    for n, agent in enumerate(agents):
        start(agent, exam, T0 + timedelta(minutes=5 * n))
    # at 9:20:30 the first two (deadlines 9:10 and 9:15) are past the allowance, the third (9:20) is not
    assert services.close_expired_attempts(T0 + timedelta(minutes=20, seconds=30)) == 2
    assert services.close_expired_attempts(T0 + timedelta(minutes=20, seconds=30)) == 0
    assert sorted(db.session.scalars(select(ExamAttempt.state))) == ["graded", "graded", "open"]
    assert services.close_expired_attempts(T0 + timedelta(minutes=20, seconds=31)) == 1


def test_load_attempt_for_is_the_one_authorization(agent, make_user, bank):
    attempt = start(agent, make_exam([(bank, 2)]))
    with pytest.raises(NotFound):
        services.load_attempt_for(agent, attempt.id + 1000, T0)
    with pytest.raises(Forbidden):
        services.load_attempt_for(make_user(roles=("mentor",)), attempt.id, T0, staff=True)
    with pytest.raises(Forbidden):
        services.load_attempt_for(make_user(roles=("trainer",)), attempt.id, T0)  # sitting is the owner's
    assert services.load_attempt_for(make_user(roles=("admin",)), attempt.id, T0, staff=True).id == attempt.id


# --- essays --------------------------------------------------------------------------------------

def essay_attempt(agent, *, answered=True):
    bank = make_bank("essays", per_type=1, types=("truefalse", "essay"))
    attempt = start(agent, make_exam([(bank, 2)], shuffle_questions=False, pass_percent=50))
    raws = answers_for(attempt, right_raw)
    if not answered:
        raws = {slot: raw for slot, raw in raws.items() if attempt.questions[slot].question_type != "essay"}
    for slot, raw in raws.items():
        saving.save_answer(agent, attempt.id, slot, raw, 1, T0)
    services.submit_attempt(agent, attempt.id, T0 + timedelta(minutes=3))
    return attempt


def test_an_answered_essay_leaves_the_attempt_pending_until_marked(agent, make_user, app):
    attempt = essay_attempt(agent)
    assert attempt.state == "pending" and attempt.score is None and attempt.passed is None
    assert entries(agent) == []
    essay_slot = next(aq.position for aq in attempt.questions if aq.question_type == "essay")
    assert [item.attempt.id for item in marking.marking_queue()] == [attempt.id]

    trainer = make_user(roles=("trainer",))
    marking.mark_essays(trainer, attempt.id, {essay_slot: marking.Mark(0.5, "要点不全")}, T0 + timedelta(days=1))
    assert attempt.state == "graded" and attempt.score == 1.5 and attempt.percent == 75.0 and attempt.passed
    entry = entries(agent)[0]
    assert entry.recorded_by_id == trainer.id and entry.passed and entry.percent == 75.0
    actions = sorted(db.session.scalars(select(AuditEvent.action)))
    assert actions == ["exam_answer_marked", "exam_graded"]
    assert marking.marking_queue() == []
    with pytest.raises(services.MarkingNotAllowed):
        marking.mark_essays(trainer, attempt.id, {essay_slot: marking.Mark(1)}, T0 + timedelta(days=2))


def test_an_unanswered_essay_scores_nothing_and_needs_no_marker(agent, app):
    attempt = essay_attempt(agent, answered=False)
    assert attempt.state == "graded" and attempt.score == 1 and attempt.passed


def test_marks_are_checked(agent, make_user, app):
    attempt = essay_attempt(agent)
    trainer = make_user(roles=("trainer",))
    essay_slot = next(aq.position for aq in attempt.questions if aq.question_type == "essay")
    other_slot = 1 - essay_slot
    with pytest.raises(services.MarkInvalid):
        marking.mark_essays(trainer, attempt.id, {essay_slot: marking.Mark(1.5)}, T0)
    with pytest.raises(services.MarkInvalid):
        marking.mark_essays(trainer, attempt.id, {other_slot: marking.Mark(1)}, T0)
    with pytest.raises(services.MarkingNotAllowed):
        marking.mark_essays(agent, attempt.id, {essay_slot: marking.Mark(1)}, T0)  # not a marker: own attempt
    assert db.session.get(ExamAttempt, attempt.id).state == "pending"


def test_a_trainer_cannot_mark_their_own_attempt(make_user, app):
    trainer = make_user(roles=("trainer", "agent"))
    attempt = essay_attempt(trainer)
    with pytest.raises(services.MarkingNotAllowed):
        marking.mark_essays(trainer, attempt.id, {0: marking.Mark(1)}, T0)


# --- combining attempts --------------------------------------------------------------------------

@pytest.mark.parametrize("method, percents, expected", [
    ("highest", [40.0, 90.0, 70.0], 90.0),
    ("average", [40.0, 90.0, 70.0], 66.67),
    ("first", [40.0, 90.0, 70.0], 40.0),
    ("last", [40.0, 90.0, 70.0], 70.0),
    ("highest", [None, 50.0], 50.0),   # pending attempts wait
    ("first", [None, 50.0], None),
    ("last", [50.0, None], None),
    ("average", [], None),
])
def test_grading_methods(method, percents, expected):
    assert grading.combine(method, percents) == expected


@pytest.mark.parametrize("method, passed", [("highest", True), ("average", False), ("first", False), ("last", False)])
def test_the_exam_grade_follows_the_grading_method(agent, app, method, passed):
    bank = make_bank("tf", per_type=2, types=("truefalse",))
    exam = make_exam([(bank, 2)], grading_method=method, pass_percent=60)
    for n, raw in enumerate((wrong_raw, right_raw, wrong_raw)):
        attempt = start(agent, exam, T0 + timedelta(hours=n))
        answer_all(agent, attempt, T0 + timedelta(hours=n), raw=raw)
        services.submit_attempt(agent, attempt.id, T0 + timedelta(hours=n, minutes=1))
    status = services.exam_status(agent, exam, T0 + timedelta(days=1))
    assert status.combined_passed is passed
    # a standalone exam completes no course
    assert db.session.scalar(select(func.count()).select_from(RecordEntry).where(RecordEntry.kind == "course")) == 0
