"""The agent home on a phone (issue 12): the demo new hire's home fits in about two screens at
390x844, today's things come first, the level's ring shows its share; at 360 px nothing scrolls
sideways, no date breaks over two lines, and a course page's lesson rows keep the title on the left
and the minutes and read mark on the right. Real sample content and demo accounts, CSRF on."""
import re

import pytest

from lms.demo import DEMO_PASSWORD
from tests.browser.conftest import PHONE, SAMPLE_DEMO_CONFIG, horizontal_overflow, log_in

pytestmark = pytest.mark.browser

# Every date in the page's text (zh-CN short "2026/11/30", en "11/30/26", medium "2026年11月30日"): how many
# lines each one takes.
DATES_ON_MORE_THAN_ONE_LINE = r"""() => {
  const pattern = /\d{1,4}[\/\-.]\d{1,2}[\/\-.]\d{1,4}|\d{4}年\d{1,2}月\d{1,2}日/g;
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  const broken = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.offsetParent) continue;  // not shown (a closed <details>, hidden text)
    for (const match of node.data.matchAll(pattern)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


@pytest.fixture
def app_config():
    return SAMPLE_DEMO_CONFIG


def top_of(page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["y"]


def test_the_new_hires_home_fits_in_about_two_phone_screens(demo, live_server, phone):
    log_in(phone, live_server, "E1001", DEMO_PASSWORD)
    phone.goto(f"{live_server}/learn")
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 2000, f"the new hire's home is {height} px tall"
    assert horizontal_overflow(phone) <= 0
    # what matters today first: continue, then what is due, then the level's progress, then its courses
    tops = [top_of(phone, selector) for selector in ("#continue", "#agenda", "#level-progress", ".course-card")]
    assert tops == sorted(tops)
    assert top_of(phone, "#continue a.button.primary") < 844  # the big button is on the first screen
    ring = phone.locator("#level-progress svg.ring")
    assert ring.is_visible() and ring.bounding_box()["width"] >= 60
    summary = phone.locator("#level-progress .level-summary").inner_text()  # "3 of 6 required courses complete"
    done, total = (int(n) for n in re.findall(r"\d+", summary)[:2])
    assert ring.get_attribute("data-percent") == str(round(100 * done / total))
    # other levels: one line, opened with a tap
    higher = phone.locator("#higher-levels")
    assert not higher.locator(".course-card").first.is_visible()
    higher.locator("summary").tap()
    assert higher.locator(".course-card").first.is_visible()


@pytest.mark.parametrize("employee_no", ["E1001", "E1003"])
def test_at_360_px_nothing_scrolls_sideways_and_no_date_breaks(demo, live_server, browser, employee_no):
    context = browser.new_context(**{**PHONE, "viewport": {"width": 360, "height": 740}}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, live_server, employee_no, DEMO_PASSWORD)
        page.goto(f"{live_server}/learn")
        queue = ["/learn"] + page.eval_on_selector_all(
            ".level-group.current .course-link", "links => links.map(a => a.getAttribute('href'))")
        seen, problems = set(), {}
        while queue:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            page.goto(f"{live_server}{path}")
            if horizontal_overflow(page) > 0:
                problems[path] = "scrolls sideways"
            broken = page.evaluate(DATES_ON_MORE_THAN_ONE_LINE)
            if broken:
                problems[path] = broken
            if path.startswith("/courses/") and "/lessons/" not in path:
                for row in page.locator("ol.lesson-list > li").all():
                    title = row.locator(".lesson-title").bounding_box()
                    meta = row.locator(".lesson-meta").bounding_box()
                    if not (meta["x"] >= title["x"] + title["width"] - 1 and meta["y"] < title["y"] + title["height"]):
                        problems[path] = "a lesson row wraps its minutes under the title"
                queue += page.eval_on_selector_all(".lesson-list a", "links => links.map(a => a.getAttribute('href'))")
        assert len(seen) > 10 and any("/lessons/" in path for path in seen)
        assert problems == {}
    finally:
        context.close()
