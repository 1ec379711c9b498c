"""An agent sits an exam on a phone through a dropped connection: answers given offline wait on the
phone, go out when the connection returns, survive a reload, and every one of them is graded."""
import pytest
from sqlalchemy import select

from lms.clock import utcnow
from lms.config import PROJECT_ROOT
from lms.content.sync import IMPORTERS, sync_content
from lms.extensions import db
from lms.models import Exam, ExamAttempt
from tests.browser.conftest import horizontal_overflow, log_in
from tests.exam_support import answers_for, make_bank, make_exam, right_raw

pytestmark = pytest.mark.browser
AUTO = ("single", "multi", "truefalse", "fill", "matching")


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def give(page, aq, raw) -> None:
    """Answer one question the way a person does, by tapping and typing."""
    slot = aq.position
    if aq.question_type in ("single", "truefalse"):
        page.locator(f'input[name="q{slot}"][value="{raw}"]').check()
    elif aq.question_type == "multi":
        for position in raw:
            page.locator(f'input[name="q{slot}"][value="{position}"]').check()
    elif aq.question_type == "fill":
        page.locator(f'input[name="q{slot}"]').fill(raw)
    elif aq.question_type == "matching":
        for item, choice in raw.items():
            page.locator(f'select[name="q{slot}-{item}"]').select_option(choice)


def shows(page, aq, raw) -> bool:
    slot = aq.position
    if aq.question_type in ("single", "truefalse"):
        return page.locator(f'input[name="q{slot}"][value="{raw}"]').is_checked()
    if aq.question_type == "multi":
        return all(page.locator(f'input[name="q{slot}"][value="{p}"]').is_checked() for p in raw)
    if aq.question_type == "fill":
        return page.locator(f'input[name="q{slot}"]').input_value() == raw
    return all(page.locator(f'select[name="q{slot}-{item}"]').input_value() == choice for item, choice in raw.items())


def wait_saved(page) -> None:
    page.wait_for_function("""() => {
        const status = document.getElementById('save-status');
        const form = document.getElementById('exam-form');
        return !status.hidden && !status.classList.contains('waiting')
            && status.textContent === form.dataset.msgSaved;
    }""")


def stored_responses(attempt_id) -> dict:
    db.session.expire_all()
    attempt = db.session.get(ExamAttempt, attempt_id)
    return {aq.position: aq.answer.response for aq in attempt.questions if aq.answer is not None and aq.answer.seq > 0}


def test_answers_given_offline_are_kept_sent_and_graded(live_server, phone, make_user, app):
    bank = make_bank("kb", per_type=2, types=AUTO)
    exam = make_exam([(bank, 10)], attempts_allowed=1, pass_percent=60)
    agent = make_user(name="张晓")
    log_in(phone, live_server, agent.employee_no)
    context = phone.context

    phone.goto(f"{live_server}/exams/{exam.slug}")
    phone.locator("button.start-exam").tap()
    phone.wait_for_selector("#exam-form")
    assert horizontal_overflow(phone) <= 0
    # answers save themselves: the script hides the button for it once it runs (deferred: wait for it)
    phone.locator("#save-answers").wait_for(state="hidden")
    attempt = db.session.scalar(select(ExamAttempt))
    questions = sorted(attempt.questions, key=lambda aq: aq.position)
    answers = answers_for(attempt, right_raw)
    clock = phone.locator("#time-left").inner_text()
    assert clock.startswith(("20:00", "19:5")), clock

    # Online: the first three go straight to the server.
    for aq in questions[:3]:
        give(phone, aq, answers[aq.position])
    wait_saved(phone)
    assert set(stored_responses(attempt.id)) == {0, 1, 2}

    # Offline: the next ones wait on the phone, and the page says so.
    context.set_offline(True)
    for aq in questions[3:7]:
        give(phone, aq, answers[aq.position])
    phone.wait_for_function("document.getElementById('save-status').classList.contains('waiting')")
    status = phone.locator("#save-status").inner_text()
    assert "4" in status, status
    waiting = phone.evaluate(f"Object.keys(JSON.parse(localStorage.getItem('lms-exam-{attempt.id}')))")
    assert sorted(int(slot) for slot in waiting) == [3, 4, 5, 6]
    assert set(stored_responses(attempt.id)) == {0, 1, 2}

    # Back online: they are sent without anyone pressing anything; a reload shows all of them.
    context.set_offline(False)
    wait_saved(phone)
    assert set(stored_responses(attempt.id)) == set(range(7))
    phone.reload()
    phone.wait_for_selector("#exam-form")
    for aq in questions[:7]:
        assert shows(phone, aq, answers[aq.position]), aq.position

    # The server cannot be reached while the page reloads: the answer kept on the phone comes back.
    phone.route("**/save", lambda route: route.abort())
    give(phone, questions[7], answers[7])
    phone.wait_for_function("document.getElementById('save-status').classList.contains('waiting')")
    phone.reload()
    phone.wait_for_selector("#exam-form")
    assert shows(phone, questions[7], answers[7])
    phone.unroute("**/save")
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    wait_saved(phone)

    # Offline again for the last answers, then online, then submit.
    context.set_offline(True)
    for aq in questions[8:]:
        give(phone, aq, answers[aq.position])
    phone.wait_for_function("document.getElementById('save-status').classList.contains('waiting')")
    context.set_offline(False)
    wait_saved(phone)
    assert set(stored_responses(attempt.id)) == set(range(10))

    phone.locator("#finish-attempt").tap()
    phone.wait_for_selector("#submit-attempt")
    assert horizontal_overflow(phone) <= 0
    phone.locator("#submit-attempt").tap()
    phone.wait_for_selector("#exam-done")
    assert phone.locator("#score").inner_text() == "10 / 10"
    assert horizontal_overflow(phone) <= 0

    db.session.expire_all()
    graded = db.session.get(ExamAttempt, attempt.id)
    assert graded.state == "graded" and graded.passed
    assert all(aq.answer.points == aq.points for aq in graded.questions)
    assert graded.record_entry is not None
    assert phone.evaluate(f"localStorage.getItem('lms-exam-{attempt.id}')") is None


@pytest.mark.skipif(not any(importer.name == "question banks" for importer in IMPORTERS),
                    reason="the `question banks` content importer is not registered yet")
def test_every_sample_exam_can_be_sat_on_a_360px_phone(live_server, browser, make_user, app):
    config = {**app.config, "LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"),
              "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}
    sync_content(db.session, config, utcnow())
    exams = list(db.session.scalars(select(Exam).order_by(Exam.slug)))
    assert len(exams) == len(list((PROJECT_ROOT / "courses").glob("*/exam.yaml")))  # every one of them
    # A trainer may open every course whatever the level, so one account sits them all.
    agent = make_user(roles=("agent", "trainer"), star_level=2, name="孙悦")
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, live_server, agent.employee_no)
        for exam in exams:
            page.goto(f"{live_server}/courses/{exam.course.slug}")
            assert horizontal_overflow(page) <= 0, exam.slug
            page.locator("#exam button.start-exam").tap()
            page.wait_for_selector("#exam-form")
            assert horizontal_overflow(page) <= 0, exam.slug
            attempt = db.session.scalar(select(ExamAttempt).where(ExamAttempt.exam_id == exam.id))
            answers = answers_for(attempt, right_raw)
            for aq in attempt.questions:
                if aq.question_type == "essay":
                    page.locator(f'textarea[name="q{aq.position}"]').fill(answers[aq.position])
                else:
                    give(page, aq, answers[aq.position])
            wait_saved(page)
            page.locator("#finish-attempt").tap()
            page.locator("#submit-attempt").tap()
            page.wait_for_selector("#exam-done")
            assert horizontal_overflow(page) <= 0, exam.slug
            db.session.expire_all()
            done = db.session.get(ExamAttempt, attempt.id)
            assert done.state in ("graded", "pending"), exam.slug
            if done.state == "graded":
                assert done.passed and done.record_entry is not None, exam.slug
    finally:
        context.close()


def test_when_the_countdown_ends_the_page_sends_the_answers_and_submits(live_server, phone, make_user, app):
    from datetime import timedelta

    from lms.exams import services

    bank = make_bank("kb", per_type=1, types=("truefalse",))
    exam = make_exam([(bank, 1)], attempts_allowed=1)
    agent = make_user()
    attempt = services.start_attempt(agent, exam, utcnow())
    attempt.deadline = utcnow() + timedelta(seconds=4)  # a four-second exam
    db.session.commit()
    log_in(phone, live_server, agent.employee_no)
    phone.goto(f"{live_server}/exams/attempts/{attempt.id}")
    aq = attempt.questions[0]
    give(phone, aq, right_raw(aq.question_type, aq.version.data, aq.option_order))
    assert phone.locator("#time-left").inner_text() in ("0:04", "0:03", "0:02")
    phone.wait_for_selector("#exam-done", timeout=15_000)
    db.session.expire_all()
    closed = db.session.get(ExamAttempt, attempt.id)
    assert closed.state == "graded" and closed.auto_submitted and closed.score == 1


def test_a_clock_that_jumps_ahead_does_not_lose_an_answer(live_server, phone, make_user, app):
    """The server refuses a seq far ahead of its clock (it could pin the slot); the page then takes
    the server's time from the refusal, numbers the answer afresh and sends it again."""
    bank = make_bank("kb", per_type=1, types=("truefalse", "single"))
    exam = make_exam([(bank, 2)], attempts_allowed=1)
    agent = make_user(name="张晓")
    log_in(phone, live_server, agent.employee_no)
    phone.clock.install()
    phone.goto(f"{live_server}/exams/{exam.slug}")
    phone.locator("button.start-exam").tap()
    phone.wait_for_selector("#exam-form")
    # The page's script has run (it put the sheet's own address in the history, and in the same
    # step took its offset to the server's clock): a jump before that would be measured as the
    # server's time, and no save would run ahead (seen once under a loaded CI run).
    phone.wait_for_function("() => location.pathname === document.getElementById('exam-form').dataset.pageUrl")
    attempt = db.session.scalar(select(ExamAttempt))
    questions = sorted(attempt.questions, key=lambda aq: aq.position)
    answers = answers_for(attempt, right_raw)
    refusals = []
    phone.on("response", lambda r: refusals.append(r.status) if r.url.endswith("/save") and r.status == 400 else None)
    phone.clock.fast_forward("05:00")  # this device's clock now runs five minutes ahead of the server's
    # wait for the refusal itself, not only for the "saved" it ends in: its event may be handed to
    # this side after the page has already shown "saved"
    with phone.expect_response(lambda r: r.url.endswith("/save") and r.status == 400):
        give(phone, questions[0], answers[questions[0].position])
    wait_saved(phone)
    assert refusals == [400]
    assert set(stored_responses(attempt.id)) == {questions[0].position}
    db.session.expire_all()
    assert db.session.get(ExamAttempt, attempt.id).questions[0].answer.seq <= int(utcnow().timestamp() * 1000) + 60_000
