"""A training manager opens the programme overview on a desktop and on a phone, in real Chromium with
the demo's data and CSRF on: the charts are drawn (SVG, no console error, nothing refused by the
Content-Security-Policy), the overdue figure drills down to the agents behind it, and the Excel export
downloads a real workbook whose figures match the page."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from lms.demo import DEMO_PASSWORD
from tests.browser.conftest import PHONE, SAMPLE_DEMO_CONFIG, horizontal_overflow, log_in

pytestmark = pytest.mark.browser
POLICY_WORDS = ("content security policy", "content-security-policy")


@pytest.fixture
def app_config():
    return SAMPLE_DEMO_CONFIG



def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error {error}"))
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" or any(w in message.text.lower() for w in POLICY_WORDS) else None)
    return problems


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_manager_reads_the_overview_drills_down_and_downloads_the_workbook(demo, live_server, browser, device):
    options = PHONE if device == "phone" else {"viewport": {"width": 1366, "height": 768}}
    context = browser.new_context(**options, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = watch(page)
    log_in(page, live_server, "T0001", DEMO_PASSWORD)

    page.goto(f"{live_server}/reports")
    page.wait_for_selector(".report-chart .chart svg")  # drawn by ECharts in the browser
    assert page.locator(".report-chart .chart svg").count() >= 2
    assert page.locator(".report-chart details.chart-data table").count() >= 2  # the same data as tables
    if device == "phone":
        assert horizontal_overflow(page) == 0

    overdue = page.locator("a.drill[href*='metric=overdue']").first
    shown = int(overdue.inner_text())
    assert shown >= 1  # the demo's plans have overdue items
    overdue.click()
    page.wait_for_url("**/reports/agents?*metric=overdue*")
    values = [int(v) for v in re.findall(r"\d+", " ".join(
        page.locator("table.report-table tbody tr td:last-child").all_inner_texts()))]
    assert sum(values) == shown  # the list behind the number adds up to it

    page.goto(f"{live_server}/reports")
    with page.expect_download() as download:
        page.locator("a[href*='/reports/overview.xlsx']").first.click()
    workbook = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    sheet = workbook.active
    assert sheet.max_row >= 2 and sheet["A1"].font.bold
    assert any(isinstance(c.value, (int, float)) for row in sheet.iter_rows(min_row=2) for c in row)
    assert problems == []
    context.close()
