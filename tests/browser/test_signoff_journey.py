"""A mentor on a phone observes a mentee, scores every criterion and signs; the agent then
acknowledges the result on their own phone. Real sample content, CSRF on."""
import re

import pytest
from sqlalchemy import select

from lms.clock import utcnow
from lms.config import PROJECT_ROOT
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.models import AuditEvent, Practical, PracticalAcknowledgement, RecordEntry
from lms.practicals.scripts import sync_scenarios
from tests.browser.conftest import PHONE, horizontal_overflow, log_in

SAMPLE_SCENARIOS = sorted((PROJECT_ROOT / "courses").glob("*/scenarios/*.md"))

pytestmark = pytest.mark.browser

SCENARIO = "repeated-outage-complaint"


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "WTF_CSRF_ENABLED": True}


@pytest.fixture
def sample_content(app):
    sync_courses(db.session, PROJECT_ROOT / "courses", utcnow())
    sync_scenarios(db.session, PROJECT_ROOT / "courses", utcnow())


def test_mentor_signs_on_a_phone_and_the_agent_acknowledges(sample_content, live_server, phone, browser, make_user):
    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="陈刚")
    agent = make_user(star_level=1, mentor=mentor, name="刘洋")

    # the mentor, standing beside the agent
    log_in(phone, live_server, mentor.employee_no)
    phone.locator(".tabbar a[href='/mentoring']").tap()
    phone.locator(f"#mentee-{agent.id} a.observe").tap()
    phone.select_option("select[name=scenario]", SCENARIO)
    phone.locator("#start").tap()
    phone.wait_for_selector("form.signoff")
    assert horizontal_overflow(phone) <= 0

    first_step = phone.locator(".step").first
    calm, angry = first_step.locator(".line.mood-calm"), first_step.locator(".line.mood-angry")
    assert calm.is_visible() and not angry.is_visible()
    phone.locator(".mood-switch label.mood-angry").tap()  # the customer turns angry: no reload, no JavaScript
    assert angry.is_visible() and not calm.is_visible() and "投诉" in angry.inner_text()

    criteria = phone.locator("fieldset.criterion")
    assert criteria.count() == 7
    for index in range(criteria.count()):
        criterion = criteria.nth(index)
        choice = criterion.locator("label.level-choice.na") if criterion.get_attribute("id") == "criterion-compensation" \
            else criterion.locator("label.level-choice:not(.na)").last  # the top level
        choice.scroll_into_view_if_needed()
        box = choice.bounding_box()
        assert box["height"] >= 44  # a thumb can hit it
        choice.tap()
    criteria.first.locator("details.comment summary").tap()
    criteria.first.locator("textarea").fill("先致歉并报工号，客户很快平静下来")
    phone.fill("textarea[name=overall_comment]", "五步法完整，升级话术规范。")
    phone.locator("label.sign-check").tap()
    phone.locator("#sign").tap()
    phone.wait_for_selector(".flash-success")
    assert "100%" in phone.locator(".flash-success").inner_text()
    assert phone.locator("#result .percent").inner_text() == "100%"
    assert horizontal_overflow(phone) <= 0
    practical_url = phone.url

    # the agent, later, on their own phone
    context = browser.new_context(**PHONE, locale="zh-CN")
    try:
        page = context.new_page()
        log_in(page, live_server, agent.employee_no)
        page.locator(".tabbar a[href='/practicals/mine']").tap()
        page.locator(".practical-list a.course-link").first.tap()
        page.wait_for_url(practical_url)
        assert "先致歉并报工号" in page.locator("#result").inner_text()
        page.fill("#acknowledgement textarea[name=comment]", "谢谢陈老师，我会继续保持。")
        page.locator("#acknowledge").tap()
        page.wait_for_selector(".flash-success")
        assert page.locator("#acknowledge").count() == 0
        assert "谢谢陈老师" in page.locator("#acknowledgement").inner_text()
    finally:
        context.close()

    db.session.expire_all()
    practical = db.session.scalar(select(Practical).where(Practical.agent_id == agent.id))
    entry = db.session.get(RecordEntry, practical.record_entry_id)
    assert (entry.kind, entry.user_id, entry.recorded_by_id, entry.passed, entry.band) == (
        "practical", agent.id, mentor.id, True, "excellent")
    assert entry.details["script_version_id"] == practical.script_version_id and entry.details["mood"] == "angry"
    compensation = next(c for c in entry.details["criteria"] if c["key"] == "compensation")
    assert compensation["na"] is True
    assert entry.max_score == 90.0 and entry.percent == 100.0  # the N/A weight left the maximum
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "practical",
                                                                 AuditEvent.subject_id == practical.id)).all()
    assert sorted(actions) == ["practical.acknowledged", "practical.scheduled", "practical.signed"]
    ack = db.session.scalar(select(PracticalAcknowledgement).where(PracticalAcknowledgement.practical_id == practical.id))
    assert ack.comment == "谢谢陈老师，我会继续保持。" and re.search(r"/practicals/\d+$", practical_url)


def test_every_sample_practical_can_be_run_and_signed_on_a_360px_phone(sample_content, live_server, browser,
                                                                        make_user):
    mentor = make_user(roles=("mentor", "agent"), star_level=4)
    agent = make_user(star_level=2, mentor=mentor)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, live_server, mentor.employee_no)
        for path in ("/mentoring", "/practicals/scenarios", "/practicals/new"):
            page.goto(f"{live_server}{path}")
            assert horizontal_overflow(page) <= 0, path
        slugs = page.eval_on_selector_all("select[name=scenario] option", "options => options.map(o => o.value)")
        assert len(slugs) == len(SAMPLE_SCENARIOS)
        for slug in slugs:
            page.goto(f"{live_server}/practicals/new?agent={agent.employee_no}&scenario={slug}")
            page.locator("#start").tap()
            page.wait_for_selector("form.signoff")
            assert horizontal_overflow(page) <= 0, slug
            criteria = page.locator("fieldset.criterion")
            for index in range(criteria.count()):
                criteria.nth(index).locator("label.level-choice:not(.na)").last.tap()
            page.locator("label.sign-check").tap()
            page.locator("#sign").tap()
            page.wait_for_selector("#result")
            assert page.locator("#result .percent").inner_text() == "100%", slug
            assert horizontal_overflow(page) <= 0, slug
            page.goto(f"{live_server}/practicals/scenarios/{slug}")
            assert horizontal_overflow(page) <= 0, slug
    finally:
        context.close()
    db.session.expire_all()
    entries = db.session.scalars(select(RecordEntry).where(RecordEntry.user_id == agent.id)).all()
    assert len(entries) == len(SAMPLE_SCENARIOS) and all(entry.passed and entry.band == "excellent" for entry in entries)
