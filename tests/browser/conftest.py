"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against the app served on
localhost from a thread. Skipped where no Chromium is installed, unless LMS_REQUIRE_BROWSER=1
(CI sets it, so a missing browser fails the run instead of hiding the tests)."""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from lms.config import PROJECT_ROOT

CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
# The sample curriculum and the demo accounts as `lms demo` writes them, CSRF on: a module that uses the
# `demo` fixture sets `app_config` to this.
SAMPLE_DEMO_CONFIG = {"LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"),
                      "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks"), "WTF_CSRF_ENABLED": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def pytest_collection_modifyitems(items):
    have_browser = os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)
    if have_browser or os.environ.get("LMS_REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def demo(demo_database):
    """The sample content synced and the demo accounts with their history (needs SAMPLE_DEMO_CONFIG)."""
    return demo_database


@pytest.fixture
def live_server(app):
    """The app under test on a free localhost port, for as long as the test runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def phone(browser):
    """A page in a 390x844 touch-screen phone viewport; the context is closed after the test."""
    context = browser.new_context(**PHONE, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, base_url: str, employee_no: str, password: str = "password123") -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=employee_no]", employee_no)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    # Each role lands on its own page (lms/auth/landing.py): wait until the login page is left.
    page.wait_for_url(lambda url: "/login" not in url)


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the screen (0 when nothing scrolls sideways), once
    the page has loaded (measured mid-navigation, the new document may have no root element yet)."""
    page.wait_for_load_state()
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
