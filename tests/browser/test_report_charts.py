"""Report charts in real Chromium: the vendored ECharts draws every chart kind of
templates/reports/_chart.html as SVG under the strict Content-Security-Policy, on a desktop and on a
phone, with the data table beside it; on paper the tables stand in for the charts; a chart that
cannot be drawn leaves its table open. The page is a route registered by the test (no test-only
routes in the app) rendering the real macro and a ReportTable."""
from __future__ import annotations

import pytest
from flask import render_template_string, request
from flask_babel import lazy_gettext as _l

from lms.reports.tables import Column, ReportTable
from tests.browser.conftest import PHONE, horizontal_overflow
from tests.browser.test_csp import REPORT_VIOLATIONS

pytestmark = pytest.mark.browser
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
HEAD = """{% block head %}
<script src="{{ url_for('static', filename='vendor/echarts/echarts.min.js') }}" defer></script>
<script src="{{ url_for('static', filename='js/charts.js') }}" defer></script>
{% endblock %}"""
PAGE = """{% extends "base.html" %}{% from "reports/_chart.html" import chart %}
""" + HEAD + """
{% block content %}<section class="card">
{{ chart(months, kind="bar", x="month", series=["completion", "pass_rate"], unit="%") }}
{{ chart(scores, kind="line", x="month", series=["score"]) }}
{{ chart(stages, kind="funnel", x="stage", series=["agents"], height=320) }}
{{ chart(bins, kind="histogram", x="bin", series=["attempts"]) }}
</section>{% endblock %}"""


def tables():
    months = ReportTable("trend-months", _l("Completion by month"), [
        Column("month", _l("Month")), Column("completion", _l("Completion"), "percent"),
        Column("pass_rate", _l("Pass rate"), "percent"), Column("score", _l("Average score"), "number")],
        [{"month": "2026-01", "completion": 40.0, "pass_rate": 71.5, "score": 78.2},
         {"month": "2026-02", "completion": None, "pass_rate": None, "score": None},  # no data: a gap
         {"month": "2026-03", "completion": 65.26, "pass_rate": 80.0, "score": 84.0},
         {"month": "2026-04", "completion": 90.0, "pass_rate": 88.0, "score": 86.5}])
    stages = ReportTable("intake-funnel", _l("Onboarding"), [Column("stage", _l("Stage")), Column("agents", _l("Agents"), "int")],
                         [{"stage": "课程", "agents": 30}, {"stage": "考试", "agents": 24}, {"stage": "实操", "agents": 15},
                          {"stage": "晋级", "agents": 9}])
    bins = ReportTable("score-histogram", _l("Score distribution"), [Column("bin", _l("Score")), Column("attempts", _l("Attempts"), "int")],
                       [{"bin": f"{low}-{low + 9}", "attempts": count} for low, count in zip(range(0, 100, 10), (0, 0, 1, 2, 3, 5, 9, 12, 7, 4))])
    scores = ReportTable("score-months", _l("Average score by month"), months.columns, months.rows)
    return {"months": months, "scores": scores, "stages": stages, "bins": bins}


@pytest.fixture
def chart_page(app):
    @app.get("/__charts")
    def charts():
        return render_template_string(PAGE, **tables())

    @app.get("/__charts-broken")
    def broken():  # one unknown chart kind; with ?nolib=1 also a page that forgot the ECharts script
        page = PAGE.replace('kind="line"', 'kind="radar"')
        if request.args.get("nolib"):
            page = page.replace("<script src=\"{{ url_for('static', filename='vendor/echarts/echarts.min.js') }}\" defer></script>", "")
        return render_template_string(page, **tables())

    return "/__charts"


class Watch:
    """Every CSP violation, console error or warning and script error of one browser context."""

    def __init__(self, browser, base_url: str, options: dict):
        self.base_url = base_url
        self.context = browser.new_context(**options)
        self.context.set_default_timeout(10_000)
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.context.expose_function("__cspViolation", lambda text: self.problems.append(f"csp: {text}"))
        self.context.add_init_script(REPORT_VIOLATIONS)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error {error}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")
        elif message.type == "warning":
            self.warnings.append(message.text)

    def open(self, path: str):
        response = self.page.goto(f"{self.base_url}{path}")
        assert response.status == 200
        self.page.wait_for_load_state("load")
        return self.page


@pytest.fixture
def watch(browser, live_server):
    opened = []

    def open_context(options=DESKTOP) -> Watch:
        opened.append(Watch(browser, live_server, options))
        return opened[-1]

    yield open_context
    for one in opened:
        one.context.close()


def assert_drawn(page) -> None:
    page.wait_for_selector(".chart.chart-drawn svg")
    charts = page.locator(".report-chart .chart")
    assert charts.count() == 4
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert "chart-drawn" in chart.get_attribute("class")
        svg = chart.locator("svg").first
        box = svg.bounding_box()
        assert box["width"] > 200 and box["height"] >= 200, box  # as wide as the card, as tall as data-height
        assert chart.locator("svg path, svg rect").count() > 3  # bars, line, funnel stages, not just axes


@pytest.mark.parametrize("options", [DESKTOP, {**PHONE, "locale": "zh-CN"}], ids=["desktop", "phone"])
def test_every_chart_kind_draws_as_svg_under_the_policy(chart_page, watch, options):
    browser = watch(options)
    page = browser.open(chart_page)
    assert_drawn(page)
    assert page.locator("canvas").count() == 0  # the SVG renderer, as charts.js asks
    # the height comes from data-height: the funnel asked for 320 px
    assert page.locator("#chart-intake-funnel .chart").bounding_box()["height"] == pytest.approx(320, abs=1)
    text = page.locator("#chart-trend-months svg").first.text_content()
    assert "完成率" in text or "Completion" in text  # a legend: two series
    assert "100%" in text  # the axis labels carry the unit
    assert "晋级" in page.locator("#chart-intake-funnel svg").first.text_content()  # funnel stages by label
    # the same data as a table, closed until asked for
    rows = page.locator("#table-trend-months tbody tr")
    assert rows.count() == 4 and "65.3%" in rows.nth(2).text_content() and "—" in rows.nth(1).text_content()
    assert page.locator("#table-score-histogram tbody tr").count() == 10
    assert not page.locator("#chart-trend-months details.chart-data").evaluate("d => d.open")
    assert horizontal_overflow(page) <= 0
    # a tooltip on hover draws inside the SVG (richText: no HTML with style attributes)
    page.locator("#chart-score-histogram .chart").hover()
    page.wait_for_timeout(300)
    assert browser.problems == []


def test_charts_follow_the_window_and_print_as_tables(chart_page, watch):
    browser = watch()
    page = browser.open(chart_page)
    assert_drawn(page)
    wide = page.locator("#chart-trend-months svg").first.bounding_box()["width"]
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function(  # a function, not an expression: Playwright evaluates those without eval (CSP)
        "() => document.querySelector('#chart-trend-months svg').getBoundingClientRect().width < 400")
    assert page.locator("#chart-trend-months svg").first.bounding_box()["width"] < wide

    page.emulate_media(media="print")
    assert not page.locator("#chart-trend-months .chart").is_visible()
    assert page.locator("#table-trend-months").is_visible()  # the closed <details> shows its table on paper
    assert not page.locator("#chart-trend-months summary").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")
    # printing from the browser's menu opens the tables, and closes them again afterwards
    page.emulate_media(media="screen")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details.chart-data[open]").count() == 4
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.locator("details.chart-data[open]").count() == 0
    assert browser.problems == []


def test_a_chart_that_cannot_be_drawn_leaves_its_table(chart_page, watch):
    browser = watch()
    page = browser.open("/__charts-broken")  # one unknown chart kind: that chart alone gives way
    page.wait_for_selector(".chart.chart-drawn svg")
    assert page.locator(".chart.chart-drawn").count() == 3
    assert page.locator(".report-chart .chart[hidden]").count() == 1
    assert page.locator("#chart-score-months details.chart-data").evaluate("d => d.open") is True
    assert any("chart not drawn" in warning for warning in browser.warnings)
    assert browser.problems == []

    without = watch()
    page = without.open("/__charts-broken?nolib=1")  # no ECharts at all: every table is open
    page.wait_for_function("() => document.querySelectorAll('details.chart-data[open]').length === 4")
    assert page.locator(".report-chart .chart[hidden]").count() == 4
    assert page.locator(".chart svg").count() == 0
    assert without.problems == []
