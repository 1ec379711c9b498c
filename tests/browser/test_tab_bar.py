"""The navigation in a real browser: on a 390x844 phone the bottom tab bar stays at the bottom, its
tabs navigate, the current one is marked and badges show what waits; at 1366x768 the tab bar is gone
and the header carries the places, its menus open and close. Demo accounts and sample content."""
import pytest
from sqlalchemy import select

from lms import navigation
from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from lms.models import User
from tests.browser.conftest import SAMPLE_DEMO_CONFIG, horizontal_overflow, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return SAMPLE_DEMO_CONFIG


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _tab(page, href: str):
    return page.locator(f".tabbar a[href='{href}']")


def test_the_phone_tab_bar(app, demo, live_server, phone):
    agent = db.session.scalar(select(User).where(User.employee_no == "E1003"))
    with app.test_request_context("/"):
        waiting = navigation.badges_for(agent)["acknowledge"]
    assert waiting > 0, "the demo leaves E1003 results to acknowledge"
    log_in(phone, live_server, "E1003", DEMO_PASSWORD)
    phone.goto(f"{live_server}/")

    bar = phone.locator(".tabbar")
    assert bar.is_visible() and not phone.locator(".mainnav").is_visible()
    assert bar.evaluate("el => getComputedStyle(el).position") == "fixed"
    assert phone.locator(".tabbar a").count() == 5
    box = bar.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(844, abs=1) and box["width"] == pytest.approx(390, abs=1)
    for tab in phone.locator(".tabbar a").all():
        assert tab.bounding_box()["height"] >= 44  # a thumb-sized target
    assert _tab(phone, "/learn").get_attribute("aria-current") == "page"

    # still at the bottom after scrolling, and the end of the page is not hidden behind it
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert bar.bounding_box()["y"] + bar.bounding_box()["height"] == pytest.approx(844, abs=1)
    content_end = phone.evaluate("""() => { const main = document.querySelector('main');
        return main.getBoundingClientRect().bottom - parseFloat(getComputedStyle(main).paddingBottom); }""")
    assert content_end <= bar.bounding_box()["y"]
    assert horizontal_overflow(phone) <= 0

    # the badge says what waits on the Practicals tab
    practicals = _tab(phone, "/practicals/mine")
    assert practicals.locator(".nav-badge").inner_text() == str(waiting)
    practicals.tap()
    phone.wait_for_url(f"{live_server}/practicals/mine")
    assert _tab(phone, "/practicals/mine").get_attribute("aria-current") == "page"
    assert _tab(phone, "/learn").get_attribute("aria-current") is None

    _tab(phone, "/records/me").tap()
    phone.wait_for_url(f"{live_server}/records/E1003")
    assert _tab(phone, "/records/me").get_attribute("aria-current") == "true"  # one's own archive
    # a table wider than the phone scrolls in its box, which the keyboard can reach (static/js/shell.js)
    wraps = phone.evaluate("""() => Array.from(document.querySelectorAll('.table-wrap')).map(
        wrap => [wrap.scrollWidth > wrap.clientWidth + 1, wrap.getAttribute('tabindex')])""")
    assert wraps and all(tabindex == ("0" if overflows else None) for overflows, tabindex in wraps)

    # More: the rest of the places, the language switch and log out
    _tab(phone, "/more").tap()
    phone.wait_for_url(f"{live_server}/more")
    assert _tab(phone, "/more").get_attribute("aria-current") == "page"
    assert phone.locator("main .logout-form button").is_visible()
    with phone.expect_navigation():
        phone.locator("main .language-switch button[value=en]").tap()
    phone.wait_for_load_state("load")
    assert phone.url == f"{live_server}/more" and phone.evaluate("document.documentElement.lang") == "en"
    assert phone.locator(".tabbar a[href='/more'] .nav-text").inner_text() == "More"
    assert horizontal_overflow(phone) <= 0
    phone.locator("main a.nav-row[href='/inbox']").tap()
    phone.wait_for_url(f"{live_server}/inbox")
    assert _tab(phone, "/more").get_attribute("aria-current") == "true"


def test_the_skip_link_moves_focus_to_the_content(demo, live_server, phone):
    log_in(phone, live_server, "E1001", DEMO_PASSWORD)
    phone.goto(f"{live_server}/practicals/mine")
    phone.keyboard.press("Tab")
    skip = phone.locator(".skip-link")
    assert phone.evaluate("document.activeElement.className") == "skip-link" and skip.is_visible()
    phone.keyboard.press("Enter")
    assert phone.evaluate("document.activeElement.id") == "main"


def test_the_desktop_header(demo, live_server, desktop):
    log_in(desktop, live_server, "T0001", DEMO_PASSWORD)
    assert not desktop.locator(".tabbar").is_visible()
    header = desktop.locator(".mainnav")
    assert header.is_visible()
    assert desktop.locator(".mainnav-link[aria-current=page]").count() == 1
    # one row: the header is not a wall of links
    assert desktop.locator(".topbar").bounding_box()["height"] < 80
    assert horizontal_overflow(desktop) <= 0

    menus = desktop.locator(".menu-group")
    first, second = menus.nth(0), menus.nth(1)
    first.locator("summary").click()
    assert first.locator(".menu-panel").is_visible()
    second.locator("summary").click()  # one menu open at a time (closed on the "toggle" event, which comes async)
    desktop.wait_for_function("() => !document.querySelectorAll('.menu-group')[0].open")
    assert second.locator(".menu-panel").is_visible() and not first.locator(".menu-panel").is_visible()
    desktop.keyboard.press("Escape")
    assert not second.locator(".menu-panel").is_visible()
    assert desktop.evaluate("document.activeElement.tagName") == "SUMMARY"
    first.locator("summary").click()
    desktop.locator("main").click(position={"x": 5, "y": 5})  # a click elsewhere closes it
    assert not first.locator(".menu-panel").is_visible()

    first.locator("summary").click()
    link = first.locator(".menu-link").first
    href = link.get_attribute("href")
    link.click()
    desktop.wait_for_url(f"{live_server}{href}")
    assert desktop.locator(f".menu-link[href='{href}']").get_attribute("aria-current") == "page"
    assert "is-current" in desktop.locator(".menu-group summary").first.get_attribute("class")

    desktop.locator(".user-menu summary").click()
    logout = desktop.locator(".user-menu .logout-form button")
    assert logout.is_visible()
    logout.click()
    desktop.wait_for_url(lambda url: "/login" in url)
