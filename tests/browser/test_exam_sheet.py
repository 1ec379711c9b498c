"""The exam sheet on a 390x844 phone and a 1366x768 desk: no site menu while sitting, the answered
count and the question navigator (jump, next unanswered), a calm save state, no sideways scroll,
and answering with the keyboard alone."""
import re

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import ExamAttempt
from tests.browser.conftest import PHONE, horizontal_overflow, log_in
from tests.exam_support import answers_for, make_bank, make_exam, right_raw
from tests.browser.test_exam_offline import give

pytestmark = pytest.mark.browser
AUTO = ("single", "multi", "truefalse", "fill", "matching")
DANGER = "rgb(180, 35, 24)"  # --danger in static/css/app.css


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def english_phone(browser):
    context = browser.new_context(**PHONE, locale="en-US")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sit(page, live_server, make_user, count=10):
    """Log in a new agent, start a `count`-question exam; returns (attempt, questions by position)."""
    bank = make_bank("kb", per_type=2, types=AUTO)
    exam = make_exam([(bank, count)], attempts_allowed=1)
    agent = make_user(name="张晓")
    log_in(page, live_server, agent.employee_no)
    page.goto(f"{live_server}/exams/{exam.slug}")
    page.locator("button.start-exam").click()
    page.wait_for_selector("#exam-form")
    attempt = db.session.scalar(select(ExamAttempt).where(ExamAttempt.user_id == agent.id))
    # The sheet answered the Start POST itself; once its script has run, the address bar names the
    # sheet, so a reload asks for the sheet (a GET), not for another start.
    page.wait_for_function("id => location.pathname === '/exams/attempts/' + id", arg=attempt.id)
    assert page.url == f"{live_server}/exams/attempts/{attempt.id}", page.url
    page.reload()
    page.wait_for_selector("#exam-form")
    assert db.session.scalar(select(func.count()).select_from(ExamAttempt).where(ExamAttempt.user_id == agent.id)) == 1
    return attempt, sorted(attempt.questions, key=lambda aq: aq.position)


def wait_saved(page) -> None:
    page.wait_for_function("""() => {
        const status = document.getElementById('save-status');
        return !status.hidden && status.dataset.state === 'saved'
            && status.textContent === document.getElementById('exam-form').dataset.msgSaved;
    }""")


def stored(attempt_id) -> dict:
    db.session.expire_all()
    attempt = db.session.get(ExamAttempt, attempt_id)
    return {aq.position: aq.answer.response for aq in attempt.questions if aq.answer is not None and aq.answer.seq > 0}


def count_text(page) -> str:
    return page.locator("#exam-bar .js-answered-count").inner_text()


def wait_in_view_below_bar(page, slot) -> None:
    """Question `slot` scrolled to the top of the screen, just below the sticky bar."""
    page.wait_for_function("""(slot) => {
        const box = document.getElementById('q' + slot).getBoundingClientRect();
        const bar = document.getElementById('exam-bar').getBoundingClientRect();
        return box.top >= bar.bottom - 1 && box.top < window.innerHeight / 2;
    }""", arg=slot)


def no_site_menu(page) -> bool:
    return page.evaluate("""() => !document.querySelector(
        '.topbar, .tabbar, .mainnav, form[action="/logout"], a[href="/more"]')""")


def test_the_sheet_on_a_phone_counts_jumps_and_hides_the_site_menu(live_server, english_phone, make_user, app):
    page = english_phone
    attempt, questions = sit(page, live_server, make_user)
    answers = answers_for(attempt, right_raw)
    assert no_site_menu(page)
    assert horizontal_overflow(page) <= 0
    assert count_text(page) == "0 of 10 answered"
    bar = page.locator("#exam-bar")
    assert bar.locator("#time-left").is_visible() and bar.locator(".exam-bar-title").inner_text()

    # The count follows the answers; each chip says whether its question is answered.
    give(page, questions[0], answers[0])
    assert count_text(page) == "1 of 10 answered"
    wait_saved(page)
    assert page.locator("#save-status").evaluate("el => getComputedStyle(el).color") != DANGER
    give(page, questions[1], answers[1])
    assert count_text(page) == "2 of 10 answered"
    assert page.locator(".q-chip.answered").count() == 2

    # The navigator is a bottom sheet: closed, it is out of sight; a chip jumps to its question.
    assert not page.locator("#exam-nav").is_visible()
    page.locator("#exam-nav-toggle").tap()
    assert page.locator("#exam-nav-toggle").get_attribute("aria-expanded") == "true"
    page.wait_for_function("() => document.getElementById('exam-nav').getBoundingClientRect().bottom"
                           " <= innerHeight + 1")
    chip = page.locator('.q-chip[data-slot="6"]')
    assert "not answered" in chip.inner_text()
    chip.tap()
    page.wait_for_function("() => !document.getElementById('exam-nav').classList.contains('open')")
    wait_in_view_below_bar(page, 6)
    assert page.evaluate("() => document.activeElement.closest('.question').id") == "q6"
    assert bar.is_visible() and bar.bounding_box()["y"] == 0  # the countdown stays at the top

    # Next unanswered: from question 7, the next one without an answer is 8; from the last, the first gap.
    page.locator("#exam-nav-toggle").tap()
    page.locator("#next-unanswered").tap()
    page.wait_for_function("() => document.activeElement.closest('.question') &&"
                           " document.activeElement.closest('.question').id === 'q7'")
    for aq in questions[2:]:
        give(page, aq, answers[aq.position])
    assert count_text(page) == "10 of 10 answered"
    page.locator("#exam-nav-toggle").tap()
    page.locator("#next-unanswered").tap()
    assert page.locator("#all-answered").inner_text().startswith("Every question is answered")

    # While a save is on its way the state is neutral, not red.
    held = []
    page.route("**/save", lambda route: held.append(route))
    page.locator("#exam-nav-close").tap()
    give_other(page, questions, answers)
    page.wait_for_function("() => document.getElementById('save-status').dataset.state === 'saving'")
    assert page.locator("#save-status").evaluate("el => getComputedStyle(el).color") != DANGER
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the save never left the page"
    for route in held:
        route.continue_()
    page.unroute("**/save")
    wait_saved(page)
    assert len(stored(attempt.id)) == 10
    assert horizontal_overflow(page) <= 0

    # The confirmation keeps the site menu hidden too.
    page.locator("#finish-attempt").tap()
    page.wait_for_selector("#submit-attempt")
    assert no_site_menu(page) and horizontal_overflow(page) <= 0
    assert "10 of 10 answered" in page.locator("#exam-bar").inner_text()


def give_other(page, questions, answers) -> None:
    """Change one answer (a true/false flipped), so there is something to save."""
    aq = next(aq for aq in questions if aq.question_type == "truefalse")
    other = "false" if answers[aq.position] == "true" else "true"
    page.locator(f'input[name="q{aq.position}"][value="{other}"]').check()


def test_answering_with_the_keyboard_alone(live_server, english_phone, make_user, app):
    page = english_phone
    attempt, questions = sit(page, live_server, make_user)
    single = next(aq for aq in questions if aq.question_type == "single")
    multi = next(aq for aq in questions if aq.question_type == "multi")
    url = page.url

    def tab_to(selector, limit=80):
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        pytest.fail(f"Tab never reached {selector}")

    # Each question is a group named by its heading (the legend, drawn inside the card).
    assert page.get_by_role("group", name=re.compile(rf"^Question {single.position + 1}\b")).count() == 1
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    tab_to(f'input[name="q{single.position}"]')
    first = page.evaluate("() => document.activeElement.value")
    # The focused option's whole row shows the focus ring.
    outline = page.evaluate("() => getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("ArrowDown")  # moves to the next option and selects it
    chosen = page.evaluate(f"() => document.querySelector('input[name=\"q{single.position}\"]:checked').value")
    assert chosen != first
    page.keyboard.press("Enter")  # does not send the sheet
    tab_to(f'input[name="q{multi.position}"]')
    ticked = page.evaluate("() => document.activeElement.value")
    page.keyboard.press("Space")
    assert page.evaluate("() => document.activeElement.checked")
    page.keyboard.press("Enter")
    wait_saved(page)
    assert page.url == url
    saved = stored(attempt.id)
    assert set(saved) == {single.position, multi.position}
    assert saved[single.position] == single.option_order[int(chosen)]
    assert saved[multi.position] == [multi.option_order[int(ticked)]]
    assert page.locator(".q-chip.answered").count() == 2


def test_the_sheet_on_a_desk_shows_the_navigator_beside_the_questions(live_server, desk, make_user, app):
    page = desk
    attempt, questions = sit(page, live_server, make_user, count=10)
    assert no_site_menu(page) and horizontal_overflow(page) <= 0
    nav = page.locator("#exam-nav")
    assert nav.is_visible() and page.locator("#exam-nav-toggle").is_hidden()
    form_box, nav_box = page.locator("#exam-form").bounding_box(), nav.bounding_box()
    assert nav_box["x"] >= form_box["x"] + form_box["width"]  # a column to the right
    page.locator('.q-chip[data-slot="5"]').click()
    wait_in_view_below_bar(page, 5)
    assert nav.is_visible()  # sticky: still beside question 6
    page.wait_for_function("() => document.querySelector('.q-chip[data-slot=\"5\"]')"
                           ".getAttribute('aria-current') === 'step'")
    assert page.evaluate("() => document.activeElement.closest('.question').id") == "q5"


AXE = """() => axe.run(document, {resultTypes: ['violations']}).then(result => result.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""


@pytest.mark.parametrize("width", [360, 1366])
def test_the_sheet_and_its_confirmation_pass_axe_and_fit_the_screen(live_server, browser, make_user, app, width):
    """exams.take and exams.confirm need an open attempt, so the whole-site crawl leaves them here."""
    size = {"width": width, "height": 740 if width == 360 else 768}
    context = browser.new_context(viewport=size, is_mobile=width == 360, has_touch=width == 360, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        attempt, questions = sit(page, live_server, make_user)
        give(page, questions[0], answers_for(attempt, right_raw)[questions[0].position])
        wait_saved(page)
        for step in ("sheet", "navigator", "confirmation"):
            if step == "navigator" and width == 360:
                page.locator("#exam-nav-toggle").tap()
                page.wait_for_function("() => document.getElementById('exam-nav').getBoundingClientRect().bottom"
                                       " <= innerHeight + 1")
            elif step == "confirmation":
                if width == 360:
                    page.locator("#exam-nav-close").tap()
                page.locator("#finish-attempt").click()
                page.wait_for_selector("#submit-attempt")
            assert horizontal_overflow(page) <= 0, step
            page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
            assert page.evaluate(AXE) == [], step
    finally:
        context.close()
