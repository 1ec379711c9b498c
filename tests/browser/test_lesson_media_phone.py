"""An agent on a phone opens a lesson with a call recording and a picture: plays the recording at 1.5x,
seeks in it (byte ranges), and the picture fits the screen with its space kept while it loads."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from lms import clock
from lms.content.sync import sync_courses
from lms.extensions import db
from tests.browser.conftest import horizontal_overflow, log_in
from tests.conftest import write_course
from tests.media_support import tone_wav

pytestmark = pytest.mark.browser

LESSON = """---
title: 听一通账单投诉
minutes: 5
---
## 座席布局

![座席布局图](media/floor.png)

## 录音

先听一遍，再回答问题。

![通话录音：账单投诉](media/calls/bill.wav)
"""


@pytest.fixture
def app_config(tmp_path):
    return {"LMS_MEDIA_CACHE_DIR": str(tmp_path / "media-cache")}


@pytest.fixture
def media_lesson(app, course_root):
    course = write_course(course_root, "0-01-media", slug="media-course", lessons=("plain",))
    (course / "media" / "calls").mkdir(parents=True)
    picture = io.BytesIO()
    Image.new("RGB", (1600, 900), (14, 116, 144)).save(picture, "PNG")
    (course / "media" / "floor.png").write_bytes(picture.getvalue())
    (course / "media" / "calls" / "bill.wav").write_bytes(tone_wav(seconds=40, rate=22050, amplitude=3000))
    (course / "02-listen.md").write_text(LESSON, encoding="utf-8")
    sync_courses(db.session, course_root, clock.utcnow())
    return "/courses/media-course/lessons/listen"


def test_an_agent_listens_at_one_and_a_half_speed_and_seeks(media_lesson, live_server, phone, make_user):
    agent = make_user(star_level=0)
    media_responses = []
    phone.on("response", lambda response: media_responses.append(response) if "/media/" in response.url else None)
    held = []  # the picture's request, answered only after its reserved space is measured
    phone.route("**/media/*.png", lambda route: held.append(route))
    log_in(phone, live_server, agent.employee_no)
    phone.goto(live_server + media_lesson)
    phone.wait_for_function("() => document.documentElement.dataset.mediaReady === 'true'")

    # The picture: its space is kept before it loads, and it fits the phone's width.
    image = phone.locator(".prose img")
    box = image.evaluate("(img) => { const r = img.getBoundingClientRect(); "
                         "return {width: r.width, height: r.height, complete: img.complete && img.naturalWidth > 0}; }")
    assert not box["complete"]
    assert 0 < box["width"] <= 390
    assert box["height"] == pytest.approx(box["width"] * 900 / 1600, abs=2)
    for route in held:
        route.continue_()
    phone.unroute("**/media/*.png")
    phone.wait_for_function("() => { const img = document.querySelector('.prose img'); "
                            "return img.complete && img.naturalWidth === 1600; }")
    loaded = image.bounding_box()
    assert loaded["width"] <= 390 and loaded["height"] == pytest.approx(box["height"], abs=2)
    assert horizontal_overflow(phone) <= 0

    # The speed control: a group of pressed/unpressed buttons; 1.5x applies to the player.
    group = phone.locator(".lesson-media .media-speed")
    assert group.get_attribute("role") == "group" and group.get_attribute("aria-label")
    buttons = group.locator("button")
    assert buttons.count() == 4 and all(buttons.nth(i).get_attribute("aria-label") for i in range(4))
    assert [buttons.nth(i).inner_text() for i in range(4)] == ["1×", "1.25×", "1.5×", "2×"]
    assert group.locator('[data-rate="1"]').get_attribute("aria-pressed") == "true"
    group.locator('[data-rate="1.5"]').tap()
    assert group.locator('[data-rate="1.5"]').get_attribute("aria-pressed") == "true"
    assert group.locator('[data-rate="1"]').get_attribute("aria-pressed") == "false"
    audio = phone.locator(".lesson-media audio")
    assert audio.evaluate("(a) => a.playbackRate") == 1.5

    # Play: time advances.
    audio.evaluate("(a) => { a.muted = true; return a.play(); }")
    phone.wait_for_function("() => document.querySelector('.lesson-media audio').currentTime > 0.3")
    assert audio.evaluate("(a) => a.playbackRate") == 1.5

    # Seek near the end: the server answers byte ranges, so the whole recording is seekable.
    duration = audio.evaluate("(a) => a.duration")
    assert duration == pytest.approx(40, abs=0.5)
    assert audio.evaluate("(a) => a.seekable.length && a.seekable.end(0)") == pytest.approx(duration, abs=0.5)
    audio.evaluate("(a) => { a.currentTime = 30; }")
    phone.wait_for_function("() => { const a = document.querySelector('.lesson-media audio'); "
                            "return !a.seeking && a.currentTime >= 30; }")
    phone.wait_for_function("() => document.querySelector('.lesson-media audio').currentTime > 30.3")
    ranged = [response for response in media_responses if response.url.endswith(".wav") and response.status == 206]
    assert ranged, [(response.url, response.status) for response in media_responses]
    assert ranged[0].headers["content-range"].startswith("bytes ")
    audio.evaluate("(a) => a.pause()")

    # The choice is remembered: the next page load starts at 1.5x.
    phone.reload()
    phone.wait_for_function("() => document.documentElement.dataset.mediaReady === 'true'")
    assert phone.locator(".lesson-media audio").evaluate("(a) => a.playbackRate") == 1.5
    assert phone.locator('.media-speed [data-rate="1.5"]').get_attribute("aria-pressed") == "true"
