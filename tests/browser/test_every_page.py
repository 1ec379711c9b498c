"""Every page of every role, on a 360 px phone, in Chinese and in English: it answers 200, nothing
scrolls sideways, and axe-core (vendored, static/vendor/axe-core) finds no serious or critical
accessibility violation.

The pages are found the way a person finds them: each demo account starts on its landing page and
follows the links it is shown (every link must open: a link to a 403 or a 500 is a dead end). Then
every page the app can render (each GET route that returns HTML) must have been reached by some
role, or be listed in NOT_CRAWLED with the reason, so a new page cannot slip past these checks.
"""
from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from lms.demo import DEMO_PASSWORD
from tests.browser.conftest import SAMPLE_DEMO_CONFIG, horizontal_overflow, log_in

pytestmark = pytest.mark.browser

ROLES = {"A0001": "admin", "T0001": "trainer", "M0001": "mentor", "E1001": "new hire", "E1004": "agent"}
# Pages a link crawl cannot reach, each with where it is checked instead.
NOT_CRAWLED = {
    "auth.health": "JSON for the load balancer: tests/web/test_multinode.py",
    "exams.take": "needs an open attempt: tests/browser/test_exam_sheet.py",
    "exams.confirm": "needs an open attempt: tests/browser/test_exam_sheet.py",
    "auth.activate": "anonymous, with a one-time code: crawled as anonymous below",
    "practicals.rehearsal_step": "needs a rehearsal started by a POST",
    "practicals.rate_rehearsal": "needs a rehearsal started by a POST",
    "practicals.rehearsal": "needs a rehearsal started by a POST",
    "classroom.checkin": "the agent's check-in form, opened from the code shown in the room: test_classroom_journey.py",
    "practicals.correct": "a correction of a signed result: test_signoff_journey.py",
    "auth.token": "JSON for the exam page after a new login: tests/web/test_session_expiry.py",
    "exams.mark": "an essay waiting for marking: the demo's trainer has marked every one; tests/web/test_exams.py",
    "jobs.show": "the progress of an import, opened by the upload's POST: tests/web/test_jobs.py",
    "classroom.code": "the code shown in the room while check-in is open: test_classroom_journey.py",
    "certificates.verify": "anonymous, with a certificate's code: crawled as anonymous below",
}
SKIP_LINK = re.compile(r"\.(csv|xlsx|json|ics|svg|zip|xapi|pdf|md|txt|yaml|gift)(\?|$)|/static/|/logout|/export|/template\.")
PER_ENDPOINT = {"zh-CN": 2, "en": 1}  # pages of one kind (two attempts, two lessons) say as much as fifty
AXE = """() => axe.run(document, {resultTypes: ['violations']}).then(result => result.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""


@pytest.fixture
def app_config():
    return SAMPLE_DEMO_CONFIG


def _endpoint(app, path: str) -> str | None:
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return None
    return endpoint


def html_endpoints(app) -> set[str]:
    """Every GET route that renders a page (not a download, a JSON answer or an image)."""
    pages = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if re.search(r"\.<|\.(json|ics|svg)$|/status$|/export", rule.rule):
            continue
        pages.add(rule.endpoint)
    return pages


class Crawl:
    """One browser context crawling as one person; problems are collected, not raised one by one."""

    def __init__(self, app, page, base_url: str, who: str, check_axe: bool, per_endpoint: int):
        self.app, self.page, self.base_url, self.who, self.check_axe = app, page, base_url, who, check_axe
        self.per_endpoint = per_endpoint
        self.visited: dict[str, list[str]] = defaultdict(list)
        self.problems: list[str] = []
        self.console: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.console.append(message.text))

    def run(self, start: str, limit: int = 400) -> None:
        queue, seen = [start], {start}
        while queue and limit:
            path = queue.pop(0)
            endpoint = _endpoint(self.app, urlsplit(path).path)
            if endpoint is None or len(self.visited[endpoint]) >= self.per_endpoint:
                continue
            limit -= 1
            self.visited[endpoint].append(path)
            for link in self.check(path):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)

    def check(self, path: str) -> list[str]:
        page, where = self.page, f"{self.who} {path}"
        self.console.clear()
        response = page.goto(self.base_url + path)
        if response is None or response.status != 200:
            self.problems.append(f"{where}: HTTP {response.status if response else 'no response'}")
            return []
        overflow = horizontal_overflow(page)
        if overflow > 1:
            wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
              .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
              .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : ''))""")
            self.problems.append(f"{where}: scrolls sideways by {overflow}px ({', '.join(wide)})")
        if self.check_axe:
            page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
            for violation in page.evaluate(AXE):
                self.problems.append(f"{where}: axe {violation}")
        if self.console:
            self.problems.append(f"{where}: console error {self.console[0]}")
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
        links = []
        for href in hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/") or SKIP_LINK.search(href):
                continue
            links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        return links


def _crawl_as(app, browser, live_server, employee_no: str | None, language: str) -> Crawl:
    context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True,
                                  locale=language)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        who = f"{ROLES.get(employee_no, 'anonymous')} ({language})"
        crawl = Crawl(app, page, live_server, who, check_axe=language == "zh-CN", per_endpoint=PER_ENDPOINT[language])
        if employee_no is None:
            for path in ("/login", "/activate", "/verify"):
                crawl.run(path, limit=3)
            return crawl
        log_in(page, live_server, employee_no, DEMO_PASSWORD)
        if page.evaluate("document.documentElement.lang") != language:
            # the switch may sit folded in a menu on a phone: press it as the form's own button would
            with page.expect_navigation():
                page.eval_on_selector(f"button[name=language][value={language.replace('-', '_')}]", "b => b.click()")
            page.wait_for_function(f"() => document.documentElement.lang === '{language}'")
        crawl.run(urlsplit(page.url).path)
        if len(crawl.visited) < 5:
            crawl.problems.append(f"{who} reached only {sorted(crawl.visited)}")
        return crawl
    finally:
        context.close()


def test_every_page_of_every_role(app, demo, live_server, browser):
    """One demo, every role in both languages: the axe checks and two pages of each kind in Chinese, the
    layout of one page of each kind in English."""
    problems, reached = [], set()
    for language in ("zh-CN", "en"):
        for employee_no in [*ROLES, None]:
            crawl = _crawl_as(app, browser, live_server, employee_no, language)
            problems += crawl.problems
            reached.update(crawl.visited)
    missing = html_endpoints(app) - reached - set(NOT_CRAWLED)
    if missing:
        problems.append(f"pages no role reached by following links (link them, or say why in NOT_CRAWLED): "
                        f"{sorted(missing)}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
