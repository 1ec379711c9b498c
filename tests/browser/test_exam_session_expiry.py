"""The login ends in the middle of an exam (the session cookie is lost, or the session is ended from
elsewhere): the page says the agent is logged out, keeps every answer on the phone, and once the
agent has logged in again in another tab it takes a fresh token and sends them, without a reload.
If someone else logs in instead, nothing is sent to their account."""
import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import ExamAttempt, User
from tests.browser.conftest import PHONE, horizontal_overflow, log_in
from tests.browser.test_exam_sheet import give, stored, wait_saved
from tests.exam_support import answers_for, make_bank, make_exam, right_raw

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def phone_context(browser):
    context = browser.new_context(**PHONE, locale="en-US")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def start(page, live_server, agent):
    bank = make_bank("kb", per_type=4, types=("truefalse", "single"))
    exam = make_exam([(bank, 8)], attempts_allowed=1)
    log_in(page, live_server, agent.employee_no)
    page.goto(f"{live_server}/exams/{exam.slug}")
    page.locator("button.start-exam").click()
    page.wait_for_selector("#exam-form")
    attempt = db.session.scalar(select(ExamAttempt).where(ExamAttempt.user_id == agent.id))
    return attempt, sorted(attempt.questions, key=lambda aq: aq.position), answers_for(attempt, right_raw)


def end_session(context, agent, how: str) -> None:
    if how == "cookie lost":
        context.clear_cookies()
    else:  # ended from elsewhere: a logout on another device, a new password
        db.session.get(User, agent.id).end_sessions()
        db.session.commit()


def wait_logged_out(page) -> None:
    page.wait_for_function("() => !document.getElementById('login-needed').hidden")


@pytest.mark.parametrize("how", ["cookie lost", "ended elsewhere"])
def test_answers_given_while_logged_out_are_sent_after_a_login_in_another_tab(live_server, phone_context, make_user,
                                                                              app, how):
    page = phone_context.new_page()
    agent = make_user(name="张晓")
    attempt, questions, answers = start(page, live_server, agent)
    for aq in questions[:3]:
        give(page, aq, answers[aq.position])
    wait_saved(page)
    assert set(stored(attempt.id)) == {0, 1, 2}
    page.evaluate("() => { window.notReloaded = true; }")
    refused = []
    page.on("response", lambda r: r.url.endswith("/save") and r.status != 200 and refused.append(r.status))

    end_session(phone_context, agent, how)
    for aq in questions[3:6]:
        give(page, aq, answers[aq.position])
    wait_logged_out(page)
    status = page.locator("#save-status")
    assert status.get_attribute("data-state") == "problem"
    assert status.inner_text().startswith("Logged out")
    banner = page.locator("#login-needed").inner_text()
    assert "You are logged out" in banner and "did not answer" not in banner + status.inner_text()
    assert refused and set(refused) == {401}  # a lost login, never a CSRF 400
    link = page.locator("#login-again")
    assert link.get_attribute("target") == "_blank" and "/login" in link.get_attribute("href")
    assert horizontal_overflow(page) <= 0
    page.wait_for_function("() => Object.keys(JSON.parse(localStorage.getItem('lms-exam-' +"
                           " document.getElementById('exam-form').dataset.attempt) || '{}')).length === 3")
    assert set(stored(attempt.id)) == {0, 1, 2}

    # Logged in again in another tab of the same browser: the first page sends what waits.
    other_tab = phone_context.new_page()
    log_in(other_tab, live_server, agent.employee_no)
    other_tab.close()
    give(page, questions[6], answers[questions[6].position])  # one more, given right after
    wait_saved(page)
    assert page.locator("#login-needed").is_hidden()
    assert page.evaluate("() => window.notReloaded === true")  # no reload
    for aq in questions[7:]:
        give(page, aq, answers[aq.position])
    wait_saved(page)
    saved = stored(attempt.id)
    assert set(saved) == set(range(8))  # none lost
    for aq in questions:
        assert saved[aq.position] is not None

    # The new token also reaches the form: finishing works without a reload.
    page.locator("#finish-attempt").tap()
    page.wait_for_selector("#submit-attempt")
    page.locator("#submit-attempt").tap()
    page.wait_for_selector("#exam-done")
    db.session.expire_all()
    assert db.session.get(ExamAttempt, attempt.id).score == 8


def test_nothing_is_sent_while_someone_else_is_logged_in(live_server, phone_context, make_user, app):
    page = phone_context.new_page()
    agent = make_user(name="张晓")
    colleague = make_user(name="刘洋")
    attempt, questions, answers = start(page, live_server, agent)
    give(page, questions[0], answers[questions[0].position])
    wait_saved(page)

    phone_context.clear_cookies()
    give(page, questions[1], answers[questions[1].position])
    wait_logged_out(page)
    other_tab = phone_context.new_page()
    log_in(other_tab, live_server, colleague.employee_no)
    page.bring_to_front()
    page.wait_for_function("() => document.getElementById('login-needed-text').textContent"
                           ".startsWith('Another account is logged in')")
    assert "张晓" in page.locator("#login-needed-text").inner_text()
    assert set(stored(attempt.id)) == {0}  # not sent as the colleague

    # The colleague is gone (their session with them), the agent logs in: the answer goes to the agent.
    phone_context.clear_cookies()
    log_in(other_tab, live_server, agent.employee_no)
    wait_saved(page)
    assert set(stored(attempt.id)) == {0, 1}
