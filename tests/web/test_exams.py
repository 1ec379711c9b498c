"""Exams through the test client: an agent's whole sitting, the plain-form path, no key in anything
served during an attempt, late saves, results and review, trainer authoring, marking, permissions,
CSRF on the JSON save, and a bounded number of queries per page."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.catalog.services import load_progress
from lms.exams import services
from lms.extensions import db
from lms.lessons.services import complete_lesson
from lms.models import AuditEvent, Course, Exam, ExamAttempt, RecordEntry
from tests.exam_support import (SECRETS, answers_for, make_bank, make_exam, right_raw, sheet_url, started_attempt_id, wrong_raw)
from tests.conftest import assert_access, count_queries

EN = {"Accept-Language": "en"}
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
AUTO = ("single", "multi", "truefalse", "fill", "matching")  # graded without a marker


@pytest.fixture
def agent(make_user):
    return make_user(roles=("agent",), name="坐席甲")


@pytest.fixture
def exam(app):
    bank = make_bank("kb", per_type=3, types=AUTO)
    return make_exam([(bank, 12)], attempts_allowed=3, pass_percent=60)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def start(client, exam) -> ExamAttempt:
    return db.session.get(ExamAttempt, started_attempt_id(client.post(f"/exams/{exam.slug}/start")))


def save(client, attempt, slot, response, seq):
    return client.post(f"/exams/attempts/{attempt.id}/save", json={"slot": slot, "response": response, "seq": seq})


def record_entries(user):
    return list(db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == user.id)))


# --- sitting -------------------------------------------------------------------------------------

def test_an_agent_sits_an_exam_start_save_resume_submit_result(client, login_as, agent, exam, frozen_now):
    frozen_now(T0)
    login_as(agent)
    landing = client.get(f"/exams/{exam.slug}", headers=EN)
    assert "Start the exam" in landing.get_data(as_text=True)
    assert "12 questions" in text_of(landing) and "3 attempts allowed" in text_of(landing)

    attempt = start(client, exam)
    page = client.get(f"/exams/attempts/{attempt.id}", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('class="question card"') == 12
    assert f'data-deadline="{int((T0 + timedelta(minutes=20)).timestamp() * 1000)}"' in html
    assert f'data-server-now="{int(T0.timestamp() * 1000)}"' in html
    assert "20:00" in html  # the countdown as served

    answers = answers_for(attempt, right_raw)
    for slot, raw in answers.items():
        frozen_now(T0 + timedelta(seconds=10 + slot))
        reply = save(client, attempt, slot, raw, 1000 + slot)
        assert reply.status_code == 200
        assert reply.get_json() == {"saved": True, "slot": slot, "seq": 1000 + slot,
                                    "server_now": int((T0 + timedelta(seconds=10 + slot)).timestamp() * 1000)}

    # A reload (or another device) shows every saved answer.
    html = client.get(f"/exams/attempts/{attempt.id}").get_data(as_text=True)
    for aq in attempt.questions:
        raw = answers[aq.position]
        if aq.question_type in ("single", "truefalse"):
            assert re.search(rf'name="q{aq.position}" value="{raw}" checked', html)
        elif aq.question_type == "multi":
            for position in raw:
                assert re.search(rf'name="q{aq.position}" value="{position}" checked', html)
        elif aq.question_type == "fill":
            assert f'name="q{aq.position}" value="{raw}"' in html
        elif aq.question_type == "matching":
            for item, choice in raw.items():
                select_html = re.search(rf'name="q{aq.position}-{item}".*?</select>', html, re.S).group(0)
                assert f'value="{choice}" selected' in select_html
    assert f'data-max-seq="{1000 + 11}"' in html

    frozen_now(T0 + timedelta(minutes=5))
    finish = client.post(f"/exams/attempts/{attempt.id}/finish", data={"saved_by_script": "1", "action": "finish"})
    assert finish.location.endswith(f"/exams/attempts/{attempt.id}/confirm")
    confirm = client.get(finish.location, headers=EN)
    assert "You answered 12 of 12 questions." in text_of(confirm)
    submitted = client.post(f"/exams/attempts/{attempt.id}/submit")
    assert submitted.location.endswith(f"/exams/attempts/{attempt.id}/result")
    again = client.post(f"/exams/attempts/{attempt.id}/submit")  # a double tap changes nothing
    assert again.location == submitted.location

    result = text_of(client.get(submitted.location, headers=EN))
    assert "Passed" in result and "12 / 12" in result and "100%" in result and "Excellent" in result
    assert "Time used: 5:00" in result
    assert "Attempts left: 2 of 3" in result and "You may try again now." in result
    entries = record_entries(agent)
    assert len(entries) == 1 and entries[0].passed and entries[0].percent == 100.0
    # The sheet now leads to the result.
    assert client.get(f"/exams/attempts/{attempt.id}").location.endswith("/result")


def test_without_javascript_the_plain_form_saves_and_submits(client, login_as, agent, exam):
    login_as(agent)
    attempt = start(client, exam)
    form = {"action": "save"}
    for aq in attempt.questions:
        raw = right_raw(aq.question_type, aq.version.data, aq.option_order)
        if aq.question_type == "matching":
            form.update({f"q{aq.position}-{item}": choice for item, choice in raw.items()})
        elif aq.question_type == "multi":
            form[f"q{aq.position}"] = raw
        else:
            form[f"q{aq.position}"] = raw
    saved = client.post(f"/exams/attempts/{attempt.id}/finish", data=form, headers=EN)
    assert saved.location.endswith(f"/exams/attempts/{attempt.id}")
    assert "Your answers are saved." in client.get(saved.location, headers=EN).get_data(as_text=True)
    form["action"] = "finish"
    assert client.post(f"/exams/attempts/{attempt.id}/finish", data=form).location.endswith("/confirm")
    client.post(f"/exams/attempts/{attempt.id}/submit")
    db.session.expire_all()
    graded = db.session.get(ExamAttempt, attempt.id)
    assert graded.state == "graded" and graded.score == 12


def test_the_script_submit_keeps_the_saved_answers(client, login_as, agent, exam):
    login_as(agent)
    attempt = start(client, exam)
    first = attempt.questions[0]
    save(client, attempt, 0, right_raw(first.question_type, first.version.data, first.option_order), 5)
    # The page's form still holds no answer for slot 0: with saved_by_script it must not count.
    client.post(f"/exams/attempts/{attempt.id}/finish", data={"saved_by_script": "1", "action": "finish"})
    client.post(f"/exams/attempts/{attempt.id}/submit")
    db.session.expire_all()
    assert db.session.get(ExamAttempt, attempt.id).score == 1


def test_no_key_reaches_the_browser_while_the_attempt_is_open(client, login_as, agent, app):
    bank = make_bank("kb", per_type=2)
    exam = make_exam([(bank, 12)], attempts_allowed=1, review_policy="immediately")
    login_as(agent)
    bodies = [client.get(f"/exams/{exam.slug}").get_data(as_text=True)]
    response = client.post(f"/exams/{exam.slug}/start")
    bodies.append(response.get_data(as_text=True))
    attempt = db.session.scalar(select(ExamAttempt))
    bodies.append(client.get(sheet_url(response)).get_data(as_text=True))
    for slot, raw in answers_for(attempt, right_raw).items():
        bodies.append(save(client, attempt, slot, raw, 10 + slot).get_data(as_text=True))
    bodies.append(client.get(f"/exams/attempts/{attempt.id}").get_data(as_text=True))
    bodies.append(client.post(f"/exams/attempts/{attempt.id}/finish",
                              data={"saved_by_script": "1", "action": "finish"}).get_data(as_text=True))
    bodies.append(client.get(f"/exams/attempts/{attempt.id}/confirm").get_data(as_text=True))
    served = "\n".join(bodies)
    assert "题目 kb-single-0" in served or "题目 kb-single-1" in served  # the scan reads real pages
    for secret in SECRETS:
        assert secret not in served, secret
    # Once the review policy allows it, the same markers do reach the review page.
    client.post(f"/exams/attempts/{attempt.id}/submit")
    review = client.get(f"/exams/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "EXPLANATION-SECRET" in review


def test_the_result_page_shows_no_key_until_review_opens(client, login_as, agent, app):
    bank = make_bank("kb", per_type=2, types=AUTO)
    exam = make_exam([(bank, 5)], attempts_allowed=2)  # after_close, no close time: after the last attempt
    login_as(agent)
    first = start(client, exam)
    client.post(f"/exams/attempts/{first.id}/submit")
    result = client.get(f"/exams/attempts/{first.id}/result", headers=EN).get_data(as_text=True)
    assert "SECRET" not in result and "shown once your last attempt is finished" in result
    blocked = client.get(f"/exams/attempts/{first.id}/review")
    assert blocked.status_code == 302 and blocked.location.endswith("/result")
    second = start(client, exam)
    client.post(f"/exams/attempts/{second.id}/submit")
    review = client.get(f"/exams/attempts/{first.id}/review", headers=EN)
    assert review.status_code == 200 and "EXPLANATION-SECRET" in review.get_data(as_text=True)


def test_never_means_never(client, login_as, agent, app):
    bank = make_bank("kb", per_type=1, types=AUTO)
    exam = make_exam([(bank, 3)], attempts_allowed=1, review_policy="never")
    login_as(agent)
    attempt = start(client, exam)
    client.post(f"/exams/attempts/{attempt.id}/submit")
    assert client.get(f"/exams/attempts/{attempt.id}/review").status_code == 302
    assert "are not shown" in client.get(f"/exams/attempts/{attempt.id}/result", headers=EN).get_data(as_text=True)


def test_save_endpoint_errors(client, login_as, agent, make_user, exam, frozen_now):
    frozen_now(T0)
    login_as(agent)
    attempt = start(client, exam)
    bad = client.post(f"/exams/attempts/{attempt.id}/save", data="not json", content_type="application/json")
    assert bad.status_code == 400 and bad.get_json()["saved"] is False
    assert save(client, attempt, 0, "0", 0).status_code == 400  # seq must be positive
    assert save(client, attempt, 99, "0", 1).status_code == 400
    assert client.post(f"/exams/attempts/{attempt.id + 50}/save",
                       json={"slot": 0, "response": None, "seq": 1}).status_code == 404
    frozen_now(attempt.deadline + timedelta(seconds=30))
    assert save(client, attempt, 0, None, 2).status_code == 200  # inside the allowance
    frozen_now(attempt.deadline + timedelta(seconds=31))
    late = save(client, attempt, 0, None, 3)
    assert late.status_code == 409
    assert late.get_json()["finished"] and late.get_json()["result_url"].endswith(f"/{attempt.id}/result")
    db.session.expire_all()
    assert db.session.get(ExamAttempt, attempt.id).state == "graded"

    other = make_user()
    client.post("/logout")
    login_as(other)
    assert save(client, attempt, 0, None, 9).status_code == 403
    client.post("/logout")
    assert save(client, attempt, 0, None, 9).status_code == 401


@pytest.mark.parametrize("after_deadline, status", [
    (timedelta(seconds=-1), 200), (timedelta(0), 200), (timedelta(seconds=1), 200), (timedelta(seconds=30), 200),
    (timedelta(seconds=31), 409),
])
def test_the_deadline_with_a_frozen_clock(client, login_as, agent, exam, frozen_now, after_deadline, status):
    frozen_now(T0)
    login_as(agent)
    attempt = start(client, exam)
    frozen_now(attempt.deadline + after_deadline)
    assert save(client, attempt, 0, None, 5).status_code == status
    submitted = client.post(f"/exams/attempts/{attempt.id}/submit", follow_redirects=True, headers=EN)
    db.session.expire_all()
    closed = db.session.get(ExamAttempt, attempt.id)
    assert closed.state == "graded" and closed.auto_submitted is (status == 409)
    expected_end = attempt.deadline + after_deadline if status == 200 else attempt.deadline
    assert closed.submitted_at == expected_end
    assert "Not passed" in submitted.get_data(as_text=True)


@pytest.mark.parametrize("after_deadline, still_open", [(timedelta(seconds=30), True), (timedelta(seconds=31), False)])
def test_the_heartbeat_at_the_allowance_second(client, login_as, agent, exam, frozen_now, after_deadline, still_open):
    """The heartbeat reads one row: open up to deadline + allowance; one second later it closes and
    grades the attempt itself (nobody else may have touched it) and points to the result."""
    frozen_now(T0)
    login_as(agent)
    attempt = start(client, exam)
    frozen_now(attempt.deadline + after_deadline)
    beat = client.post(f"/exams/attempts/{attempt.id}/heartbeat")
    db.session.expire_all()
    state = db.session.get(ExamAttempt, attempt.id).state
    if still_open:
        assert beat.status_code == 200 and beat.get_json()["open"] is True and state == "open"
    else:
        assert beat.status_code == 409 and beat.get_json()["result_url"].endswith(f"/{attempt.id}/result")
        assert state == "graded"


def test_finishing_after_the_allowance_says_time_is_up(client, login_as, agent, exam, frozen_now):
    frozen_now(T0)
    login_as(agent)
    attempt = start(client, exam)
    frozen_now(attempt.deadline + timedelta(minutes=2))
    response = client.post(f"/exams/attempts/{attempt.id}/finish", data={"action": "finish"}, headers=EN,
                           follow_redirects=True)
    assert "Time is up: the answers saved in time were graded." in response.get_data(as_text=True)


def test_an_expired_attempt_is_closed_when_its_page_is_opened(client, login_as, agent, exam, frozen_now):
    frozen_now(T0)
    login_as(agent)
    attempt = start(client, exam)
    frozen_now(T0 + timedelta(minutes=50))  # past deadline + allowance, within the idle timeout
    page = client.get(f"/exams/attempts/{attempt.id}")
    assert page.location.endswith("/result")
    result = text_of(client.get(page.location, headers=EN))
    assert "Not passed" in result and "closed when time ran out" in result and "Time used: 20:00" in result


def test_start_refusals_become_messages(client, login_as, agent, app, frozen_now):
    frozen_now(T0)
    bank = make_bank("kb", per_type=1, types=AUTO)
    exam = make_exam([(bank, 2)], attempts_allowed=2, retake_delay_minutes=30)
    login_as(agent)
    attempt = start(client, exam)
    assert start(client, exam).id == attempt.id  # a second Start resumes
    client.post(f"/exams/attempts/{attempt.id}/submit")
    refused = client.post(f"/exams/{exam.slug}/start", headers=EN, follow_redirects=True)
    assert "You may try again from" in refused.get_data(as_text=True)
    result = text_of(client.get(f"/exams/attempts/{attempt.id}/result", headers=EN))
    assert "Another attempt is allowed from" in result and "Attempts left: 1 of 2" in result


# --- the course page and course completion ------------------------------------------------------

def test_course_exam_card_and_completion(catalog, client, login_as, agent):
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    bank = make_bank("kb", per_type=2, types=AUTO)
    exam = make_exam([(bank, 4)], course=course, attempts_allowed=2, pass_percent=50)
    login_as(agent)
    page = text_of(client.get("/courses/basics-a", headers=EN))
    assert exam.title in page and "Start the exam" in page and "4 questions" in page
    for lesson in course.live_lessons:
        complete_lesson(agent, lesson)
    assert not load_progress(agent).is_complete(course)
    page = text_of(client.get("/courses/basics-a", headers=EN))
    assert "Lessons read" in page and f"Exam to pass: {exam.title}" in page and "Complete" not in page

    attempt = start(client, exam)
    assert "Resume the exam" in text_of(client.get("/courses/basics-a", headers=EN))
    for slot, raw in answers_for(attempt, right_raw).items():
        save(client, attempt, slot, raw, 1)
    client.post(f"/exams/attempts/{attempt.id}/submit")
    page = text_of(client.get("/courses/basics-a", headers=EN))
    assert "Your grade: 100%" in page and "Attempts left: 1 of 2" in page and "Try again" in page
    assert f"Exam passed: {exam.title}" in page and "Complete" in page
    progress = load_progress(agent)
    assert progress.is_complete(course) and progress.card(course).complete
    entries = db.session.scalars(select(RecordEntry).where(RecordEntry.kind == "course")).all()
    assert [(e.user_id, e.course_id, e.passed) for e in entries] == [(agent.id, course.id, True)]
    assert entries[0].occurred_at == db.session.get(ExamAttempt, attempt.id).submitted_at  # when the last one was met
    # basics-b needed basics-a complete: it opens now
    assert progress.access(db.session.scalar(select(Course).where(Course.slug == "basics-b"))).is_open


def test_a_failed_exam_keeps_the_course_incomplete(catalog, client, login_as, agent):
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    bank = make_bank("kb", per_type=2, types=AUTO)
    exam = make_exam([(bank, 4)], course=course, pass_percent=50)
    for lesson in course.live_lessons:
        complete_lesson(agent, lesson)
    login_as(agent)
    attempt = start(client, exam)
    for slot, raw in answers_for(attempt, wrong_raw).items():
        save(client, attempt, slot, raw, 1)
    client.post(f"/exams/attempts/{attempt.id}/submit")
    assert not load_progress(agent).is_complete(course)


# --- marking -------------------------------------------------------------------------------------

def test_essays_wait_in_the_marking_queue_then_reach_the_record(client, login_as, agent, make_user, app):
    bank = make_bank("kb", per_type=1, types=("truefalse", "essay"))
    exam = make_exam([(bank, 2)], pass_percent=50, review_policy="immediately")
    login_as(agent)
    attempt = start(client, exam)
    for slot, raw in answers_for(attempt, right_raw).items():
        save(client, attempt, slot, raw, 1)
    client.post(f"/exams/attempts/{attempt.id}/submit")
    assert "Waiting for marking" in text_of(client.get(f"/exams/attempts/{attempt.id}/result", headers=EN))
    assert record_entries(agent) == []
    client.post("/logout")

    trainer = make_user(roles=("trainer",))
    login_as(trainer)
    queue = client.get("/exams/marking", headers=EN).get_data(as_text=True)
    assert agent.name in queue and f"/exams/marking/{attempt.id}" in queue
    sheet = client.get(f"/exams/marking/{attempt.id}", headers=EN).get_data(as_text=True)
    assert "GUIDANCE-SECRET" in sheet and "先安抚客户情绪" in sheet
    essay_slot = next(aq.position for aq in attempt.questions if aq.question_type == "essay")
    too_many = client.post(f"/exams/marking/{attempt.id}", data={f"points-{essay_slot}": "7"}, headers=EN)
    assert "Points run from 0" in too_many.get_data(as_text=True)
    marked = client.post(f"/exams/marking/{attempt.id}", data={f"points-{essay_slot}": "0.5",
                                                              f"comment-{essay_slot}": "要点基本齐全"})
    assert marked.location.endswith("/exams/marking")
    assert "Nothing to mark." in client.get("/exams/marking", headers=EN).get_data(as_text=True)
    entries = record_entries(agent)
    assert len(entries) == 1 and entries[0].percent == 75.0 and entries[0].recorded_by_id == trainer.id
    assert {e.action for e in db.session.scalars(select(AuditEvent))} >= {"exam_answer_marked", "exam_graded"}
    client.post("/logout")
    login_as(agent)
    assert "Passed" in text_of(client.get(f"/exams/attempts/{attempt.id}/result", headers=EN))
    assert "要点基本齐全" in client.get(f"/exams/attempts/{attempt.id}/review").get_data(as_text=True)


# --- authoring -----------------------------------------------------------------------------------

def exam_form(bank, **changes):
    form = {"slug": "new-exam", "title": "新考试", "description": "**说明**", "course_id": "0",
            "time_limit_minutes": "15", "opens_at": "", "closes_at": "2027-01-31T18:00", "pass_percent": "70",
            "attempts_allowed": "3", "retake_delay_minutes": "10", "later_retake_delay_minutes": "60",
            "shuffle_questions": "y", "grading_method": "average", "review_policy": "after_close",
            "pools-0-bank_id": str(bank.id), "pools-0-tags": "开场白，转接", "pools-0-count": "1",
            "pools-1-bank_id": str(bank.id), "pools-1-tags": "", "pools-1-count": "4",
            "pools-2-bank_id": "0", "pools-2-tags": "", "pools-2-count": ""}
    form.update(changes)
    return form


def test_a_trainer_creates_and_edits_an_exam(client, login_as, make_user, app):
    bank = make_bank("kb", per_type=1, tags_for=lambda kind, n: ["开场白", "转接"] if kind == "single" else [])
    trainer = make_user(roles=("trainer",))
    login_as(trainer)
    form_page = client.get("/exams/manage/new", headers=EN).get_data(as_text=True)
    assert "Question pools" in form_page and bank.title in form_page
    created = client.post("/exams/manage/new", data=exam_form(bank), headers=EN)
    assert created.status_code == 302, text_of(created)
    exam = db.session.scalar(select(Exam).where(Exam.slug == "new-exam"))
    assert (exam.title, exam.time_limit_minutes, exam.pass_percent, exam.grading_method) == ("新考试", 15, 70, "average")
    assert exam.closes_at == datetime(2027, 1, 31, 10, 0, tzinfo=timezone.utc)  # entered in Asia/Shanghai
    assert exam.shuffle_questions and not exam.shuffle_options
    assert [(p.tags, p.count) for p in exam.pools] == [(["开场白", "转接"], 1), ([], 4)]
    assert "<strong>说明</strong>" in exam.description_html
    listing = client.get("/exams/manage", headers=EN).get_data(as_text=True)
    assert "新考试" in listing and f"/exams/manage/{exam.id}/edit" in listing

    edit_page = client.get(f"/exams/manage/{exam.id}/edit").get_data(as_text=True)
    assert 'value="2027-01-31T18:00"' in edit_page and 'value="开场白, 转接"' in edit_page
    edited = client.post(f"/exams/manage/{exam.id}/edit", data=exam_form(
        bank, title="改过的考试", **{"pools-1-bank_id": "0", "pools-1-count": ""}))
    assert edited.status_code == 302
    db.session.expire_all()
    exam = db.session.get(Exam, exam.id)
    assert exam.title == "改过的考试" and [(p.tags, p.count) for p in exam.pools] == [(["开场白", "转接"], 1)]
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == \
        ["exam_created", "exam_updated"]


@pytest.mark.parametrize("changes, message", [
    ({"pools-0-count": "2"}, "Only 1 questions of this bank match."),
    ({"pools-1-count": "6"}, "The pools of this bank ask for 7 questions; it has 6 that match."),
    ({"pools-0-bank_id": "0", "pools-1-bank_id": "0"}, "Add at least one pool of questions."),
    ({"pools-1-count": ""}, "How many questions to draw from this bank?"),
    ({"slug": "marking"}, "This id is reserved"),
    ({"opens_at": "2027-02-01T09:00"}, "The close time must come after the open time."),
    ({"slug": "Bad Slug"}, "Lowercase letters, digits and single hyphens"),
])
def test_exam_settings_are_validated(client, login_as, make_user, app, changes, message):
    bank = make_bank("kb", per_type=1, tags_for=lambda kind, n: ["开场白", "转接"] if kind == "single" else [])
    login_as(make_user(roles=("admin",)))
    response = client.post("/exams/manage/new", data=exam_form(bank, **changes), headers=EN)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Exam)) is None


def test_the_attempts_overview_closes_expired_attempts(client, login_as, make_user, agent, exam, frozen_now):
    frozen_now(T0)
    attempt = services.start_attempt(agent, exam, T0)
    frozen_now(T0 + timedelta(hours=1))
    login_as(make_user(roles=("trainer",)))
    page = text_of(client.get(f"/exams/manage/{exam.id}/attempts", headers=EN))
    assert agent.name in page and "Not passed" in page and "time ran out" in page
    db.session.expire_all()
    assert db.session.get(ExamAttempt, attempt.id).state == "graded"
    staff_view = client.get(f"/exams/attempts/{attempt.id}/result", headers=EN)
    assert staff_view.status_code == 200 and agent.name in staff_view.get_data(as_text=True)


def test_close_expired_command(app, agent, exam):
    services.start_attempt(agent, exam, T0)
    result = app.test_cli_runner().invoke(args=["exams", "close-expired"])
    assert result.exit_code == 0 and "Closed 1 expired attempt." in result.output
    assert db.session.scalar(select(ExamAttempt.state)) == "graded"


# --- permissions ---------------------------------------------------------------------------------

ROLES = ["anonymous", "agent", "mentor", "trainer", "admin"]
EVERYONE = {"agent", "mentor", "trainer", "admin"}
ROUTES = [  # {attempt} is an attempt of another agent
    ("GET", "/exams/final", EVERYONE),
    ("POST", "/exams/final/start", EVERYONE),
    ("GET", "/exams/attempts/{attempt}", set()),           # sitting is the owner's alone
    ("POST", "/exams/attempts/{attempt}/finish", set()),
    ("GET", "/exams/attempts/{attempt}/confirm", set()),
    ("POST", "/exams/attempts/{attempt}/submit", set()),
    ("GET", "/exams/attempts/{attempt}/result", {"trainer", "admin"}),
    ("GET", "/exams/marking", {"trainer", "admin"}),
    ("GET", "/exams/marking/{attempt}", {"trainer", "admin"}),
    ("GET", "/exams/manage", {"trainer", "admin"}),
    ("GET", "/exams/manage/new", {"trainer", "admin"}),
    ("GET", "/exams/manage/{exam}/edit", {"trainer", "admin"}),
    ("GET", "/exams/manage/{exam}/attempts", {"trainer", "admin"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, path, allowed", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_role_route_matrix(client, make_user, login_as, exam, role, method, path, allowed):
    owner = make_user(roles=("agent",))
    attempt = services.start_attempt(owner, exam, T0 + timedelta(days=3650))
    if role != "anonymous":
        login_as(make_user(roles=(role,)))
    response = client.open(path.format(attempt=attempt.id, exam=exam.id), method=method)
    assert_access(response, role, allowed)


def test_the_nav_links(client, make_user, login_as, exam):
    login_as(make_user(roles=("trainer",)))
    html = client.get("/", headers=EN, follow_redirects=True).get_data(as_text=True)
    assert 'href="/exams/manage"' in html and 'href="/exams/marking"' in html
    client.post("/logout")
    login_as(make_user(roles=("agent",)))
    html = client.get("/", headers=EN, follow_redirects=True).get_data(as_text=True)
    assert "/exams/manage" not in html and "/exams/marking" not in html


# --- CSRF ----------------------------------------------------------------------------------------

class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_json_save_takes_the_token_from_the_header(self, client, make_user, exam):
        agent = make_user()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"employee_no": agent.employee_no, "password": "password123",
                                    "csrf_token": token})
        landing = client.get(f"/exams/{exam.slug}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', landing).group(1)
        started = client.post(f"/exams/{exam.slug}/start", data={"csrf_token": token})
        attempt = db.session.scalar(select(ExamAttempt))
        assert started_attempt_id(started) == attempt.id
        page = started.get_data(as_text=True)  # the answer to Start is the sheet
        header_token = re.search(r'data-csrf="([^"]+)"', page).group(1)
        body = {"slot": 0, "response": None, "seq": 1}
        refused = client.post(f"/exams/attempts/{attempt.id}/save", json=body)
        assert refused.status_code == 400
        accepted = client.post(f"/exams/attempts/{attempt.id}/save", json=body,
                               headers={"X-CSRFToken": header_token})
        assert accepted.status_code == 200 and accepted.get_json()["saved"]
        assert client.post(f"/exams/attempts/{attempt.id}/submit").status_code == 400  # forms need the token


# --- queries -------------------------------------------------------------------------------------

def page_queries(client, path) -> int:
    return count_queries(lambda: client.get(path).status_code == 200 or pytest.fail(path))


@pytest.mark.parametrize("page", ["take", "result", "review", "confirm", "show"])
def test_exam_pages_run_the_same_number_of_queries_whatever_the_size(client, login_as, make_user, app, page):
    counts = []
    for size, per_type in ((3, 1), (40, 8)):
        agent = make_user()
        bank = make_bank(f"bank-{size}", per_type=per_type, types=AUTO)
        exam = make_exam([(bank, size)], slug=f"exam-{size}", review_policy="immediately")
        client.post("/logout")
        login_as(agent)
        attempt = start(client, exam)
        for slot, raw in answers_for(attempt, right_raw).items():
            save(client, attempt, slot, raw, 1)
        if page in ("result", "review"):
            client.post(f"/exams/attempts/{attempt.id}/submit")
        path = {"take": f"/exams/attempts/{attempt.id}", "result": f"/exams/attempts/{attempt.id}/result",
                "review": f"/exams/attempts/{attempt.id}/review",
                "confirm": f"/exams/attempts/{attempt.id}/confirm", "show": f"/exams/{exam.slug}"}[page]
        client.get(path)
        counts.append(page_queries(client, path))
    assert counts[0] == counts[1] and counts[0] <= 16, counts
