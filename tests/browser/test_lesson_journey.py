"""A new hire on a phone: log in, open the continue card, finish a lesson, see the bar move."""
import pytest

from lms.clock import utcnow
from lms.config import PROJECT_ROOT
from lms.content.sync import sync_courses
from lms.extensions import db
from tests.browser.conftest import horizontal_overflow, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"), "WTF_CSRF_ENABLED": True}


@pytest.fixture
def sample_curriculum(app):
    sync_courses(db.session, PROJECT_ROOT / "courses", utcnow())


def progress_of(page, title: str) -> int:
    bar = page.locator(f'.course-card:has-text("{title}") .progress')
    return int(bar.get_attribute("aria-valuenow"))


def test_new_hire_finishes_a_lesson_from_the_continue_card(sample_curriculum, live_server, phone, make_user):
    agent = make_user(star_level=0, name="张晓")
    log_in(phone, live_server, agent.employee_no)
    assert phone.locator("h1").inner_text() == "你好，张晓"
    card = phone.locator("#continue")
    course_title = card.locator(".meta").inner_text().split(" · ")[0]
    assert "分钟" in card.locator("a.button").inner_text()
    before = progress_of(phone, course_title)
    assert before == 0
    first_lesson = card.locator("a.button").get_attribute("href")

    card.locator("a.button").tap()
    phone.wait_for_selector("article.lesson .prose h2")
    assert horizontal_overflow(phone) <= 0
    phone.locator("#mark-complete").tap()
    phone.wait_for_selector(".flash-success")

    phone.goto(f"{live_server}/")
    after = progress_of(phone, course_title)
    assert after > before
    # The card now offers the next lesson of the same course.
    assert phone.locator("#continue .meta").inner_text().startswith(course_title)
    next_lesson = phone.locator("#continue a.button").get_attribute("href")
    assert next_lesson != first_lesson and next_lesson.rsplit("/lessons/", 1)[0] == first_lesson.rsplit("/lessons/", 1)[0]


def test_every_page_fits_a_360px_phone(sample_curriculum, live_server, browser, make_user):
    trainer = make_user(roles=("trainer", "agent"), star_level=0)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, trainer.employee_no)
        page.goto(f"{live_server}/learn")  # a trainer lands on their workspace; their learning is here
        paths = ["/learn"]
        course_links = page.eval_on_selector_all(".course-link", "links => links.map(a => a.getAttribute('href'))")
        assert len(course_links) >= 12
        for href in course_links:
            page.goto(f"{live_server}{href}")
            paths.append(href)
            paths.extend(page.eval_on_selector_all(".lesson-list a", "links => links.map(a => a.getAttribute('href'))"))
        too_wide = []
        for path in paths:
            page.goto(f"{live_server}{path}")
            if horizontal_overflow(page) > 0:
                too_wide.append(path)
        assert too_wide == []
        assert len(paths) > 60
    finally:
        context.close()
