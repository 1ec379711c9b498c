"""Search in Chromium on the sample content: a new hire on a phone taps the search icon in the top
bar, finds 首问负责 in a lesson with the word highlighted and opens it; on a desktop the header's box
searches from any page. The results page fits the phone and passes axe-core. CSRF on."""
from __future__ import annotations

import pytest

from tests.browser.conftest import SAMPLE_DEMO_CONFIG, horizontal_overflow, log_in
from tests.browser.test_every_page import AXE

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return SAMPLE_DEMO_CONFIG


def test_a_new_hire_finds_first_contact_ownership_on_a_phone(demo, live_server, phone):
    log_in(phone, live_server, "E1001", "demo1234")
    phone.click("a.search-link")
    phone.wait_for_url("**/search")
    assert phone.evaluate("document.activeElement && document.activeElement.id") == "search-q"
    phone.fill("#search-q", "首问负责")
    phone.press("#search-q", "Enter")
    phone.wait_for_selector(".search-hit")
    marks = phone.locator(".search-hit mark").all_inner_texts()
    assert marks and set(marks) == {"首问负责"}
    assert horizontal_overflow(phone) == 0
    phone.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    assert phone.evaluate(AXE) == []
    phone.locator(".search-hit.kind-lesson .search-title a").first.click()
    phone.wait_for_url("**/lessons/**")
    assert "首问负责" in phone.locator("main").inner_text()


def test_the_header_box_searches_from_any_page_on_a_desktop(demo, live_server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, live_server, "T0001", "demo1234")
        assert page.is_visible(".topbar-search input") and not page.is_visible("a.search-link")
        assert horizontal_overflow(page) == 0
        page.fill(".topbar-search input", "投诉")
        page.press(".topbar-search input", "Enter")
        page.wait_for_selector(".search-hit")
        assert page.locator(".search-hit.kind-question").count() >= 1  # a trainer also finds questions
        assert page.input_value("#search-q") == "投诉"
    finally:
        context.close()
