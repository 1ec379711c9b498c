"""A trainer builds a course in Chromium, on a desktop and on a phone: creates it, writes a lesson in the
CodeMirror editor, uploads a picture (a PNG made by Pillow) and a call recording (a WAV made by the wave
module) that go in at the cursor, sees them in the live preview, saves, publishes; an agent opens the
lesson as learners see it, picture loaded, recording playable with its speed control. CSRF on, nothing
breaks the Content-Security-Policy, nothing scrolls sideways on the phone."""
from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from lms.extensions import db
from lms.models import Course
from tests.browser.conftest import PHONE, horizontal_overflow, log_in
from tests.browser.test_scenario_editor import watch
from tests.media_support import tone_wav

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def diagram_png() -> bytes:
    image = Image.new("RGB", (640, 360), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 600, 320), outline=(11, 110, 79), width=8)
    draw.line((40, 180, 600, 180), fill=(200, 40, 40), width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_trainer_builds_a_course_with_a_picture(device, catalog, live_server, browser, make_user):
    trainer = make_user(roles=("trainer",), name="李静")
    agent = make_user(roles=("agent",), star_level=0, name="张晓")
    slug = f"picture-course-{device}"
    context = browser.new_context(**(DESKTOP if device == "desktop" else {**PHONE, "locale": "zh-CN"}))
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    watch(context, page, problems)
    log_in(page, live_server, trainer.employee_no)

    # the list of courses, then a new one
    page.goto(f"{live_server}/author/courses")
    page.click("#new-course")
    page.fill("input[name=slug]", slug)
    page.fill("input[name=title]", "看图学流程")
    page.select_option("select[name=star_level]", "0")
    page.select_option("select[name=track]", "onboarding")
    page.select_option("select[name=course_type]", "skills")
    page.click("form.course-form button[type=submit]")
    page.wait_for_url(f"**/author/courses/{slug}")
    assert "made in the browser" in page.inner_text("#origin-rule") or "浏览器" in page.inner_text("#origin-rule")

    # a lesson, written in the editor, with a picture uploaded from it
    page.click("#add-lesson")
    page.wait_for_function("() => document.querySelector('.CodeMirror') && document.querySelector('.CodeMirror').CodeMirror")
    page.fill("input[name=title]", "受理流程图")
    page.fill("input[name=minutes]", "4")
    page.fill("input[name=slug]", "flow")
    page.evaluate("""() => { const cm = document.querySelector('.CodeMirror').CodeMirror;
        cm.setValue('## 受理流程\\n\\n先听清诉求，再按图办理。\\n'); cm.setCursor(cm.lineCount() - 1, 0); }""")
    page.set_input_files("#media-file", files=[{"name": "flow-chart.png", "mimeType": "image/png",
                                                 "buffer": diagram_png()}])
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('.CodeMirror').CodeMirror.getValue().includes('](media/flow-chart.png)')")
    page.evaluate("() => { const cm = document.querySelector('.CodeMirror').CodeMirror; cm.setCursor(cm.lineCount() - 1, 0); }")
    page.set_input_files("#media-file", files=[{"name": "call.wav", "mimeType": "audio/wav", "buffer": tone_wav()}])
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('.CodeMirror').CodeMirror.getValue().includes('](media/call.wav)')")

    if device == "phone":
        assert not page.is_visible("#pane-preview")  # one pane at a time on a phone
        page.click("#tab-preview")
        assert page.get_attribute("#tab-preview", "aria-selected") == "true"
        assert not page.is_visible(".CodeMirror")
    else:
        assert page.is_visible("#pane-preview") and page.is_visible(".CodeMirror")  # side by side
        assert not page.is_visible("#tab-preview")
    # the live preview shows the picture, served by the app
    page.wait_for_function("""() => { const img = document.querySelector('#preview img');
        return img && /^\\/media\\/[0-9a-f]{64}\\.png$/.test(img.getAttribute('src')) && img.complete && img.naturalWidth > 0; }""")
    assert "受理流程" in page.inner_text("#preview")
    page.wait_for_function("""() => { const audio = document.querySelector('#preview audio');
        return audio && /^\\/media\\/[0-9a-f]{64}\\.wav$/.test(audio.getAttribute('src')); }""")
    if device == "phone":
        assert horizontal_overflow(page) == 0
        page.click("#tab-edit")

    page.click("#save-lesson")
    page.wait_for_url(f"**/author/courses/{slug}/lessons/flow")
    page.wait_for_function("() => document.querySelector('.CodeMirror')")
    assert "1" in page.inner_text("#versions")
    if device == "phone":
        assert horizontal_overflow(page) == 0

    # publish, then an agent reads it as learners do
    page.goto(f"{live_server}/author/courses/{slug}")
    page.click("#publish")
    page.wait_for_selector("#view-as-learner")
    if device == "phone":
        assert horizontal_overflow(page) == 0
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    db.session.refresh(course)
    assert course.retired_at is None and course.live_lessons[0].version == 1

    learner_context = browser.new_context(**(DESKTOP if device == "desktop" else {**PHONE, "locale": "zh-CN"}))
    learner = learner_context.new_page()
    log_in(learner, live_server, agent.employee_no)
    learner.goto(f"{live_server}/courses/{slug}/lessons/flow")
    learner.wait_for_function("() => { const img = document.querySelector('.prose img'); "
                              "return img && img.complete && img.naturalWidth === 640; }")
    width = learner.evaluate("document.querySelector('.prose img').getBoundingClientRect().width")
    learner.wait_for_function("() => { const audio = document.querySelector('.prose audio'); "
                              "return audio && audio.readyState >= 1 && Math.round(audio.duration) === 2; }")
    learner.locator('.media-speed-button[data-rate="1.5"]').first.click()
    assert learner.evaluate("document.querySelector('.prose audio').playbackRate") == 1.5
    assert width <= learner.viewport_size["width"]
    assert "受理流程" in learner.inner_text("h1") + learner.inner_text(".prose")
    learner_context.close()
    context.close()
    assert problems == []
