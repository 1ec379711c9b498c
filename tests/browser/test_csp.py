"""Every main page still works in Chromium under the strict Content-Security-Policy: each demo role
opens its pages and nothing is refused (no `securitypolicyviolation` event, no console message about
the policy, no script error); the exam page saves an answer, the progress bars show their width.
Real sample content and the demo accounts as `lms demo` writes them, CSRF on."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from lms.models import Certificate, Exam, ExamAttempt, Question, QuestionBank, User
from lms.models.classroom import ClassSession
from lms.models.plans import TrainingPlan
from tests.browser.conftest import SAMPLE_DEMO_CONFIG, log_in

pytestmark = pytest.mark.browser
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => window.__cspViolation(
    `${event.violatedDirective} refused ${event.blockedURI || "inline code"} at ${event.sourceFile}:${event.lineNumber}`));"""
POLICY_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy", "Permissions policy")


@pytest.fixture
def app_config():
    return SAMPLE_DEMO_CONFIG



class Watched:
    """A browser context that records every policy violation, policy console message and script error."""

    def __init__(self, browser, base_url: str):
        self.base_url = base_url
        self.context = browser.new_context(**DESKTOP)
        self.context.set_default_timeout(10_000)
        self.problems: list[str] = []
        self.context.expose_function("__cspViolation", lambda text: self.problems.append(f"{self.page.url}: {text}"))
        self.context.add_init_script(REPORT_VIOLATIONS)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.page.url}: script error {error}"))

    def _console(self, message) -> None:
        if any(word.lower() in message.text.lower() for word in POLICY_WORDS):
            self.problems.append(f"{self.page.url}: console {message.type}: {message.text}")

    def visit(self, path: str, status: int = 200):
        response = self.page.goto(f"{self.base_url}{path}")
        assert response.status == status, f"{path}: {response.status}"
        self.page.wait_for_load_state("load")
        return self.page

    def log_in(self, employee_no: str) -> None:
        log_in(self.page, self.base_url, employee_no, DEMO_PASSWORD)

    def assert_clean(self) -> None:
        self.page.wait_for_timeout(300)  # violation reports and console messages arrive asynchronously
        assert self.problems == []
        self.context.close()


@pytest.fixture
def watched(browser, live_server):
    contexts = []

    def open_context() -> Watched:
        contexts.append(Watched(browser, live_server))
        return contexts[-1]

    yield open_context
    for watched in contexts:
        watched.context.close()


def filled_fraction(page, bar) -> float:
    """The share of a progress bar's width painted in the fill colour, read from a screenshot of it."""
    png = base64.b64encode(bar.screenshot()).decode()
    return page.evaluate("""async (src) => {
        const image = new Image();
        image.src = src;
        await image.decode();
        const canvas = document.createElement("canvas");
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext("2d");
        context.drawImage(image, 0, 0);
        const row = context.getImageData(0, Math.floor(image.height / 2), image.width, 1).data;
        let filled = 0;
        for (let i = 0; i < row.length; i += 4) {  // var(--ok) is #18794e
            if (Math.abs(row[i] - 0x18) < 40 && Math.abs(row[i + 1] - 0x79) < 40 && Math.abs(row[i + 2] - 0x4e) < 40) filled++;
        }
        return filled / image.width;
    }""", f"data:image/png;base64,{png}")


def test_the_watch_sees_inline_code_refused(app, live_server, watched):
    @app.get("/__inline")
    def inline():
        return '<!doctype html><p style="color: red" onclick="x()">x</p><script>document.title = "ran"</script>'

    browser = watched()
    page = browser.visit("/__inline")
    page.wait_for_timeout(300)
    assert page.title() != "ran"
    assert any("script-src" in problem for problem in browser.problems)
    assert any("style-src" in problem for problem in browser.problems)


def test_agent_pages_work_under_the_policy(demo, watched):
    agent = db.session.scalar(select(User).where(User.employee_no == "E1003"))
    browser = watched()
    browser.log_in("E1003")
    page = browser.page

    # home: the progress bars are drawn as wide as their value says
    bars = page.locator("progress.progress")
    values = [int(bars.nth(i).get_attribute("value")) for i in range(bars.count())]
    assert values and any(0 < value for value in values)
    for i, value in enumerate(values):
        if bars.nth(i).is_visible():
            bars.nth(i).scroll_into_view_if_needed()
            assert abs(filled_fraction(page, bars.nth(i)) - value / 100) < 0.06, (i, value)

    page = browser.visit("/courses/info-security-refresher")
    page.locator(".lesson-list a").first.click()
    page.wait_for_selector("article.lesson")

    # the exam: an answer given is saved by the static script, then the attempt is submitted
    for exam in db.session.scalars(select(Exam).order_by(Exam.id)):  # the first one the agent may start now
        page = browser.visit(f"/exams/{exam.slug}")
        if page.locator("button.start-exam").count():
            break
    page.locator("button.start-exam").click()
    page.wait_for_selector("#exam-form")
    page.locator("#exam-form input[type=radio]").first.check()
    page.wait_for_function("""() => {
        const status = document.getElementById("save-status");
        return !status.hidden && status.textContent === document.getElementById("exam-form").dataset.msgSaved;
    }""")
    attempt = db.session.scalar(select(ExamAttempt).where(ExamAttempt.user_id == agent.id)
                                .order_by(ExamAttempt.id.desc()))
    db.session.refresh(attempt)
    assert any(aq.answer is not None and aq.answer.seq > 0 for aq in attempt.questions)
    page.locator("#finish-attempt").click()
    page.locator("#submit-attempt").click()
    page.wait_for_url(f"**/exams/attempts/{attempt.id}/result")

    page = browser.visit("/practicals/scenarios/bill-went-up")
    page.locator("#rehearse").click()
    page.wait_for_url("**/practicals/rehearsals/**")

    for path in ("/sessions/mine", "/surveys/", "/inbox"):  # the programme's agent pages
        browser.visit(path)

    page = browser.visit("/records/me")
    page.locator(".certificate-list a").first.click()
    page.wait_for_selector("#certificate")
    browser.assert_clean()

    code = db.session.scalars(select(Certificate.code).where(Certificate.user_id == agent.id)).first()
    anonymous = watched()
    for path in ("/login", "/verify", f"/verify/{code}"):
        anonymous.visit(path)
    assert agent.name in anonymous.page.content()
    anonymous.visit("/no/such/page", status=404)
    anonymous.assert_clean()


def test_staff_pages_work_under_the_policy(demo, watched):
    mentor = watched()
    mentor.log_in("M0001")
    page = mentor.visit("/mentoring")
    page.locator("a.mentee-name").first.click()
    page.wait_for_url("**/mentoring/mentees/*")
    page = mentor.visit("/practicals/new?agent=E1001")
    page.select_option("select[name=scenario]", "bill-went-up")
    page.locator("#start").click()
    page.wait_for_selector("form.signoff")  # the observation form
    for path in ("/sessions/", "/kpi"):  # the sessions they teach, their mentees' training index
        mentor.visit(path)
    mentor.assert_clean()

    bank = db.session.scalar(select(QuestionBank).order_by(QuestionBank.slug))
    key = db.session.scalar(select(Question.key).where(Question.bank_id == bank.id).order_by(Question.key))
    trainer = watched()
    trainer.log_in("T0001")
    for path in ("/banks/", f"/banks/{bank.slug}", f"/banks/{bank.slug}/questions/{key}/edit", "/banks/import",
                 "/exams/manage", "/exams/manage/new", "/exams/marking", "/practicals/scenarios",
                 "/practicals/scenarios/bill-went-up/edit", "/promotions", "/evaluations/import", "/records",
                 "/plans", "/plans/overdue", "/plans/cohorts", "/plans/onboarding", "/sessions/", "/sessions/calendar",
                 "/sessions/calendar?view=week", "/sessions/new", "/kpi", "/surveys/results", "/surveys/templates"):
        trainer.visit(path)
    plan_id = db.session.scalar(select(TrainingPlan.id).order_by(TrainingPlan.id))
    past = db.session.scalar(select(ClassSession.id).order_by(ClassSession.starts_at))
    for path in (f"/plans/{plan_id}", f"/plans/{plan_id}/import", f"/sessions/{past}", f"/sessions/{past}/sheet",
                 f"/surveys/results/session/{past}"):
        trainer.visit(path)
    page = trainer.visit("/exams/manage")
    page.locator("a[href$='/edit']").first.click()
    page.wait_for_url("**/exams/manage/*/edit")
    trainer.assert_clean()

    agent = db.session.scalar(select(User).where(User.employee_no == "E1002"))
    admin = watched()
    admin.log_in("A0001")
    for path in ("/admin/users", "/admin/users/new", "/admin/users/import", f"/admin/users/{agent.id}/edit",
                 "/records/E1002", "/records/export"):
        admin.visit(path)
    admin.assert_clean()
