"""Media in lessons through the app: `lms sync` stores a course's media/ folder, the lesson page shows
the picture and the player, and /media/<sha256>.<ext> serves the bytes with caching headers and ranges."""
from __future__ import annotations

import hashlib
import io
import re
import wave
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from lms import clock
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.models import Course, CourseMedia, MediaBlob
from tests.conftest import write_course


@pytest.fixture
def app_config(tmp_path):
    return {"LMS_MEDIA_CACHE_DIR": str(tmp_path / "media-cache")}


def png_bytes(width=640, height=360, color=(20, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def wav_bytes(seconds=2.0, rate=8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(b"\x00\x10" * int(seconds * rate))
    return out.getvalue()


LESSON = """---
title: 听一通账单投诉
minutes: 5
---
## 座席布局

![座席布局图](media/floor.png)

## 录音

![通话录音：账单投诉](media/calls/bill.wav)
"""


def media_course(root: Path, folder="0-01-media", slug="media-course", png=None, wav=None) -> Path:
    course = write_course(root, folder, slug=slug, lessons=("plain",))
    (course / "media" / "calls").mkdir(parents=True, exist_ok=True)
    (course / "media" / "floor.png").write_bytes(png or png_bytes())
    (course / "media" / "calls" / "bill.wav").write_bytes(wav or wav_bytes())
    (course / "02-listen.md").write_text(LESSON, encoding="utf-8")
    return course


@pytest.fixture
def synced(app, course_root):
    media_course(course_root)
    sync_courses(db.session, course_root, clock.utcnow())
    return course_root


def media_urls(html: str) -> list[str]:
    return re.findall(r'src="(/media/[0-9a-f]{64}\.[a-z0-9]+)"', html)


def test_the_lesson_page_shows_the_picture_and_the_player(synced, make_user, login_as):
    client = login_as(make_user())
    page = client.get("/courses/media-course/lessons/listen").get_data(as_text=True)
    png_sha = hashlib.sha256((synced / "0-01-media/media/floor.png").read_bytes()).hexdigest()
    assert re.search(rf'<img alt="座席布局图" decoding="async" height="360" loading="lazy" '
                     rf'src="/media/{png_sha}\.png" width="640">', page)
    assert re.search(r'<figure class="lesson-media audio"><audio aria-label="通话录音：账单投诉" controls '
                     r'preload="metadata" src="/media/[0-9a-f]{64}\.wav"></audio><figcaption>通话录音：账单投诉'
                     r'</figcaption>', page)
    assert "js/media.js" in page and "css/media.css" in page


def test_a_media_file_is_served_whole_with_caching_headers(synced, make_user, login_as):
    client = login_as(make_user())
    data = (synced / "0-01-media/media/floor.png").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    response = client.get(f"/media/{sha}.png")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["ETag"] == f'"{sha}"'
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == "inline"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert client.get(f"/media/{sha}.png", headers={"If-None-Match": f'"{sha}"'}).status_code == 304


def test_byte_ranges_for_seeking(synced, make_user, login_as, app):
    client = login_as(make_user())
    data = (synced / "0-01-media/media/calls/bill.wav").read_bytes()
    url = f"/media/{hashlib.sha256(data).hexdigest()}.wav"
    size = len(data)
    first = client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-99/{size}"
    assert first.data == data[:100]
    assert first.headers["Content-Type"] == "audio/wav"
    middle = client.get(url, headers={"Range": f"bytes={size - 50}-"})
    assert middle.status_code == 206
    assert middle.headers["Content-Range"] == f"bytes {size - 50}-{size - 1}/{size}"
    assert middle.data == data[-50:]
    outside = client.get(url, headers={"Range": f"bytes={size}-"})
    assert outside.status_code == 416
    assert outside.headers["Content-Range"] == f"bytes */{size}"
    # written once to this node's cache, atomically
    cached = list(Path(app.config["LMS_MEDIA_CACHE_DIR"]).rglob("*.wav"))
    assert [path.read_bytes() for path in cached] == [data]


def test_the_cache_is_rebuilt_from_the_database(synced, make_user, login_as, app):
    client = login_as(make_user())
    data = (synced / "0-01-media/media/floor.png").read_bytes()
    url = f"/media/{hashlib.sha256(data).hexdigest()}.png"
    assert client.get(url).data == data
    for path in Path(app.config["LMS_MEDIA_CACHE_DIR"]).rglob("*.png"):
        path.write_bytes(data[:10])  # damaged (another node's half-written disk, say)
    assert client.get(url).data == data


def test_anonymous_visitors_go_to_the_login_page(synced, client):
    sha = hashlib.sha256((synced / "0-01-media/media/floor.png").read_bytes()).hexdigest()
    response = client.get(f"/media/{sha}.png")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("name", ["0" * 64 + ".png", "{sha}.jpg", "{sha}.PNG", "{sha}", "{short}.png",
                                  "../{sha}.png", "{sha}.png.html"])
def test_unknown_hash_or_wrong_extension_is_not_found(synced, make_user, login_as, name):
    client = login_as(make_user())
    sha = hashlib.sha256((synced / "0-01-media/media/floor.png").read_bytes()).hexdigest()
    assert client.get("/media/" + name.format(sha=sha, short=sha[:40])).status_code == 404


def test_the_same_file_in_two_courses_is_stored_once(app, course_root):
    picture = png_bytes(color=(1, 2, 3))
    media_course(course_root, "0-01-one", "course-one", png=picture)
    media_course(course_root, "0-02-two", "course-two", png=picture)
    sync_courses(db.session, course_root, clock.utcnow())
    sha = hashlib.sha256(picture).hexdigest()
    assert db.session.scalar(select(func.count()).select_from(MediaBlob).where(MediaBlob.sha256 == sha)) == 1
    assert db.session.scalar(select(func.count()).select_from(MediaBlob)) == 2  # the picture, the recording
    rows = db.session.scalars(select(CourseMedia).where(CourseMedia.name == "media/floor.png")).all()
    assert len(rows) == 2 and rows[0].blob_id == rows[1].blob_id


def test_a_changed_media_folder_updates_the_course(app, course_root):
    course_folder = media_course(course_root)
    sync_courses(db.session, course_root, clock.utcnow())
    course = db.session.scalar(select(Course).where(Course.slug == "media-course"))
    assert sorted(row.name for row in course.media) == ["media/calls/bill.wav", "media/floor.png"]
    old_url = media_urls(course.lessons[1].body_html)[0]
    new_picture = png_bytes(800, 600, (200, 10, 10))
    (course_folder / "media" / "floor.png").write_bytes(new_picture)
    (course_folder / "media" / "unused.png").write_bytes(png_bytes(10, 10))
    (course_folder / "media" / "calls" / "bill.wav").unlink()
    (course_folder / "02-listen.md").write_text(LESSON.replace("![通话录音：账单投诉](media/calls/bill.wav)", "没有录音"),
                                                encoding="utf-8")
    report = sync_courses(db.session, course_root, clock.utcnow())
    assert report.updated == ["media-course"]
    db.session.expire_all()
    course = db.session.scalar(select(Course).where(Course.slug == "media-course"))
    assert sorted(row.name for row in course.media) == ["media/floor.png", "media/unused.png"]
    lesson = course.lessons[1]
    assert media_urls(lesson.body_html) == [f"/media/{hashlib.sha256(new_picture).hexdigest()}.png"]
    assert re.search(r"height=\"600\".*width=\"800\"", lesson.body_html)
    # the old version still shows the old picture, which stays stored
    assert media_urls(lesson.versions[0].body_html)[0] == old_url
    assert db.session.scalar(select(MediaBlob).where(MediaBlob.sha256 == old_url[7:71])) is not None
