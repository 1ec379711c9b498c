"""The scenario editor in Chromium: CodeMirror (vendored) replaces the textarea with line numbers; a
bad save highlights the problem lines and each problem's line button puts the cursor on its line;
Tab leaves the editor; nothing breaks the Content-Security-Policy; the form saves a valid scenario.
On a phone the editor fits the screen. Real sample courses, CSRF on."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.config import PROJECT_ROOT
from lms.extensions import db
from lms.models import Scenario
from tests.browser.conftest import PHONE, horizontal_overflow, log_in
from tests.practicals_support import SCENARIO
from tests.browser.test_signoff_journey import sample_content  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}
# title emptied (line 2) and a weight that is not a number (line 8)
BAD = SCENARIO.replace("title: 测试场景", "title:").replace("weight: 2", "weight: lots")
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => window.__cspViolation(
    `${event.violatedDirective} refused ${event.blockedURI || "inline code"} at ${event.sourceFile}:${event.lineNumber}`));"""
POLICY_WORDS = ("content security policy", "content-security-policy", "refused to")


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "WTF_CSRF_ENABLED": True}




def watch(context, page, problems: list[str]) -> None:
    """Collect every policy violation, policy console message and script error of the page."""
    context.expose_function("__cspViolation", lambda text: problems.append(f"violation: {text}"))
    context.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if any(word in message.text.lower() for word in POLICY_WORDS) else None)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))


def editor_state(page) -> dict:
    return page.evaluate("""() => {
        const cm = document.querySelector(".CodeMirror").CodeMirror;
        const marked = [];
        for (let line = 0; line < cm.lineCount(); line++) {
            const info = cm.lineInfo(line);
            if ((info.bgClass || "").includes("cm-error-line")) marked.push(line + 1);
        }
        return {marked, cursor: cm.getCursor().line + 1, focused: cm.hasFocus(), lines: cm.lineCount()};
    }""")


def set_text(page, text: str) -> None:
    page.evaluate("(text) => document.querySelector('.CodeMirror').CodeMirror.setValue(text)", text)


def test_the_editor_numbers_lines_marks_problems_and_saves(sample_content, live_server, browser, make_user):
    trainer = make_user(roles=("trainer",), name="李静")
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    watch(context, page, problems)
    log_in(page, live_server, trainer.employee_no)

    page.goto(f"{live_server}/practicals/scenarios/new")
    editor = page.locator(".CodeMirror.source-editor")
    editor.wait_for()
    assert not page.locator("textarea#text").is_visible()  # the editor took the textarea's place
    numbers = page.locator(".CodeMirror-code .CodeMirror-linenumber")
    assert numbers.first.is_visible() and numbers.all_inner_texts()[:3] == ["1", "2", "3"]
    assert page.locator(".CodeMirror-code .CodeMirror-line").first.inner_text() == "---"  # the template
    assert page.locator(".CodeMirror [contenteditable=true]").get_attribute("aria-label") == page.locator("label[for=text]").inner_text()

    # Tab leaves the editor: a keyboard user is never trapped in it
    editor.click()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.CodeMirror') === null")

    page.fill("input[name=slug]", "browser-call")
    set_text(page, BAD)
    page.locator(".scenario-form button[type=submit].primary").click()
    page.wait_for_selector("#source-errors")
    # the re-rendered page's deferred script builds the editor after the server's error list is there
    page.wait_for_function("() => document.querySelector('.CodeMirror.source-editor')?.CodeMirror?.lineCount() > 1")
    assert db.session.scalar(select(Scenario).where(Scenario.slug == "browser-call")) is None

    state = editor_state(page)
    assert state["marked"] == [2, 8] and state["lines"] == BAD.count("\n") + 1  # the text came back as typed
    gutter = page.locator(".cm-error-gutter .CodeMirror-linenumber")
    assert sorted(gutter.all_inner_texts()) == ["2", "8"]
    assert page.locator(".line-jump").all_inner_texts() == ["第 2 行", "第 8 行"] or \
        page.locator(".line-jump").all_inner_texts() == ["Line 2", "Line 8"]  # until the catalog is compiled

    page.locator('.line-jump[data-line="8"]').click()
    state = editor_state(page)
    assert state["cursor"] == 8 and state["focused"]
    page.keyboard.type("2")  # typing goes where the cursor jumped: the end of "weight: lots"
    assert page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getLine(7)").strip() == "weight: lots2"
    assert editor_state(page)["marked"] == [2]  # an edited problem line loses its mark

    page.locator('.line-jump[data-line="2"]').click()
    assert editor_state(page)["cursor"] == 2
    page.keyboard.type(" 浏览器写的场景")
    # the editable area is read back by the editor on its next input event: wait for it to see the text
    page.wait_for_function("() => document.querySelector('.CodeMirror').CodeMirror.getValue().includes('浏览器写的场景')")
    fixed = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()").replace("weight: lots2",
                                                                                                  "weight: 2")
    set_text(page, fixed)
    page.locator(".scenario-form button[type=submit].primary").click()
    page.wait_for_url("**/practicals/scenarios/browser-call")
    assert "浏览器写的场景" in page.locator("h1").inner_text()
    created = db.session.scalar(select(Scenario).where(Scenario.slug == "browser-call"))
    assert created is not None and created.title == "浏览器写的场景"

    page.wait_for_timeout(300)  # violation reports arrive asynchronously
    assert problems == []
    context.close()


def test_the_editor_fits_a_phone(sample_content, live_server, browser, make_user):
    trainer = make_user(roles=("trainer",), name="李静")
    context = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 780}}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    watch(context, page, problems)
    log_in(page, live_server, trainer.employee_no)
    page.goto(f"{live_server}/practicals/scenarios/repeated-outage-complaint/edit")
    page.locator(".CodeMirror.source-editor").wait_for()
    assert page.locator("p.from-files").is_visible()
    set_text(page, BAD)
    page.locator(".scenario-form button[type=submit].primary").click()
    page.wait_for_selector("#source-errors")
    assert horizontal_overflow(page) <= 0
    box = page.locator(".line-jump").first.bounding_box()
    assert box["height"] >= 44  # a thumb can hit it
    page.locator("#writing-help summary").click()
    assert page.locator(".help-example").is_visible() and horizontal_overflow(page) <= 0
    page.locator('.line-jump[data-line="8"]').tap()
    assert editor_state(page)["cursor"] == 8
    assert problems == []
    context.close()
