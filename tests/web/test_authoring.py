"""Browser editing of courses and lessons (lms/authoring): who may, the same parser and errors as
`lms sync`, versions and progress, the file-wins rule, reorder, uploads, export, CSRF."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select

from lms import clock
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.models import AuditEvent, Course, Lesson, LessonProgress, LessonVersion
from tests.conftest import assert_access

ROLES = ("anonymous", "agent", "mentor", "trainer", "admin")
AUTHORS = {"trainer", "admin"}


# the first lesson of basics-a (every catalog course has a lesson "one")
_LESSON_ONE = select(Lesson).join(Course).where(Course.slug == "basics-a", Lesson.slug == "one")


def png_bytes(width=40, height=30, colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def trainer(make_user):
    return make_user(roles=("trainer",), name="李静", preferred_language="en")


def _login_role(role, make_user, login_as, client):
    if role == "anonymous":
        return client
    return login_as(make_user(roles=(role,), star_level=5 if role == "agent" else 0))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", [
    "/author/courses", "/author/courses/new", "/author/courses/basics-a",
    "/author/courses/basics-a/lessons/one", "/author/courses/basics-a/lessons/new",
    "/author/courses/basics-a/lessons/one/versions/1", "/author/courses/basics-a/export.zip",
])
def test_only_trainers_and_admins_author(role, path, catalog, make_user, login_as, client):
    response = _login_role(role, make_user, login_as, client).get(path)
    assert_access(response, role, AUTHORS)


@pytest.mark.parametrize("role", ROLES)
def test_posts_are_refused_to_learners(role, catalog, make_user, login_as, client):
    client = _login_role(role, make_user, login_as, client)
    before = db.session.scalar(_LESSON_ONE).body_md
    response = client.post("/author/courses/basics-a/lessons/one",
                           data={"title": "x", "minutes": "3", "body": "改掉了"})
    if role in AUTHORS:
        assert response.status_code == 302
    else:
        assert_access(response, role, AUTHORS)
        db.session.expire_all()
        assert db.session.scalar(_LESSON_ONE).body_md == before
    preview = client.post("/author/preview", json={"course": "basics-a", "markdown": "# x"})
    assert preview.status_code == (200 if role in AUTHORS else 302 if role == "anonymous" else 403)


def test_course_list_shows_every_course_with_origin(catalog, trainer, login_as):
    page = login_as(trainer).get("/author/courses").get_data(as_text=True)
    for slug in ("basics-a", "basics-b", "elective-e", "level-one", "refresh"):
        assert f"/author/courses/{slug}" in page
    assert "courses/0-01-a" in page


def _course_form(**changes):
    data = {"slug": "new-course", "title": "新课程", "star_level": "1", "kind": "required", "track": "in-service",
            "course_type": "skills", "summary": "简介", "valid_months": "", "intro_md": "## 欢迎\n\n本课程介绍。"}
    data.update(changes)
    return data


def test_create_course_is_checked_by_the_parser_and_keeps_what_was_typed(catalog, trainer, login_as):
    client = login_as(trainer)
    response = client.post("/author/courses/new", data=_course_form(slug="Bad Slug", title="我的新课"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bad Slug" in page and "我的新课" in page  # what was typed stays
    assert "may hold only lowercase letters" in page
    assert db.session.scalar(select(Course).where(Course.title == "我的新课")) is None

    response = client.post("/author/courses/new", data={**_course_form(star_level="0"), "prerequisites": ["level-one"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "the prerequisite &#39;level-one&#39; is at star level 1" in page or "level-one" in page
    assert "above this course" in page

    response = client.post("/author/courses/new", data=_course_form(track="refresher"))
    assert "a refresher course needs" in response.get_data(as_text=True)

    response = client.post("/author/courses/new", data=_course_form(slug="basics-a"))
    assert "already used" in response.get_data(as_text=True)


def test_form_errors_speak_the_readers_language(catalog, make_user, login_as):
    client = login_as(make_user(roles=("trainer",), preferred_language="zh_CN"))
    page = client.post("/author/courses/new", data=_course_form(track="refresher")).get_data(as_text=True)
    assert "复训" in page or "有效" in page
    assert "a refresher course needs" not in page


def test_create_course_then_publish(catalog, trainer, login_as, frozen_now):
    frozen_now()
    client = login_as(trainer)
    response = client.post("/author/courses/new", data={**_course_form(), "prerequisites": ["basics-a"]})
    assert response.status_code == 302 and response.location.endswith("/author/courses/new-course")
    course = db.session.scalar(select(Course).where(Course.slug == "new-course"))
    assert course.source_path == "" and not course.from_files
    assert course.course_type == "skills" and course.star_level == 1
    assert [other.slug for other in course.prerequisites] == ["basics-a"]
    assert course.position > max(c.position for c in db.session.scalars(select(Course)) if c.from_files)
    assert "<h2>欢迎</h2>" in course.intro_html
    assert course.retired_at is not None  # hidden until published
    # publishing an empty course is refused
    client.post("/author/courses/new-course/publish", data={"visible": "1"})
    db.session.expire_all()
    assert db.session.get(Course, course.id).retired_at is not None
    response = client.post("/author/courses/new-course/lessons/new",
                           data={"title": "第一课", "minutes": "4", "slug": "", "body": "## 开场白\n\n您好。"})
    assert response.status_code == 302
    client.post("/author/courses/new-course/publish", data={"visible": "1"})
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.retired_at is None and course.minutes == 4
    lesson = course.lessons[0]
    assert lesson.slug == "lesson-1" and lesson.source_hash == "" and lesson.versions[0].origin == "browser"
    # the rule in words for a course made here
    page = client.get("/author/courses/new-course").get_data(as_text=True)
    assert "made in the browser" in page
    # the course's sync leaves a browser course alone
    sync_courses(db.session, catalog, clock.utcnow())
    assert db.session.scalar(select(Course).where(Course.slug == "new-course")).retired_at is None


def test_edit_preview_save_new_version_progress_kept(catalog, trainer, make_user, login_as, frozen_now):
    from lms.media.store import render_lesson

    frozen_now()
    agent = make_user(star_level=0)
    lesson = db.session.scalar(_LESSON_ONE)
    db.session.add(LessonProgress(user_id=agent.id, lesson_id=lesson.id, opened_at=clock.utcnow(),
                                  completed_at=clock.utcnow()))
    db.session.commit()
    client = login_as(trainer)
    page = client.get("/author/courses/basics-a/lessons/one").get_data(as_text=True)
    assert 'data-editor="lesson"' in page and "the course files" in page and "0-01-a" in page

    markdown = "## 新的要点\n\n- 第一条\n- 第二条 <script>alert(1)</script>\n"
    reply = client.post("/author/preview", json={"course": "basics-a", "markdown": markdown})
    assert reply.status_code == 200
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    assert reply.json["html"] == str(render_lesson(course, markdown))
    assert "<script>" not in reply.json["html"] and reply.json["errors"] == []

    response = client.post("/author/courses/basics-a/lessons/one",
                           data={"title": "改过的第一课", "minutes": "6", "body": markdown})
    assert response.status_code == 302
    db.session.expire_all()
    lesson = db.session.get(Lesson, lesson.id)
    assert lesson.version == 2 and lesson.title == "改过的第一课" and lesson.minutes == 6
    assert [v.origin for v in lesson.versions] == ["file", "browser"]
    assert lesson.versions[-1].author_id == trainer.id
    assert "<h2>新的要点</h2>" in lesson.body_html
    assert db.session.scalar(select(LessonProgress).where(LessonProgress.lesson_id == lesson.id)).completed_at
    assert lesson.course.edited_at is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lesson.saved")) is not None
    # learners see the new text
    agent_page = login_as(agent).get("/courses/basics-a/lessons/one").get_data(as_text=True)
    assert "新的要点" in agent_page


def test_save_errors_are_the_parsers_with_editor_lines(catalog, trainer, login_as):
    client = login_as(trainer)
    body = "第一行\n\n![图](media/missing.png)\n"
    response = client.post("/author/courses/basics-a/lessons/one", data={"title": "", "minutes": "99", "body": body})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-error-lines="3"' in page  # the editor's own line of the reference
    assert "media/missing.png" in page
    assert "must be given" in page or "title" in page  # the title's problem, on its field
    assert "between 1 and 60" in page or "60" in page
    assert body.strip() in page  # what was typed is kept
    reply = client.post("/author/preview", json={"course": "basics-a", "markdown": body})
    assert reply.json["errors"][0]["line"] == 3
    db.session.expire_all()
    assert db.session.scalar(_LESSON_ONE).version == 1


def test_empty_lesson_refused_as_sync_does(catalog, trainer, login_as):
    response = login_as(trainer).post("/author/courses/basics-a/lessons/one",
                                      data={"title": "标题", "minutes": "3", "body": "  \n"})
    assert response.status_code == 422
    assert "no text after its front matter" in response.get_data(as_text=True)


def test_file_wins_once_its_folder_changes(catalog, trainer, login_as, frozen_now):
    frozen_now()
    client = login_as(trainer)
    client.post("/author/courses/basics-a/lessons/one", data={"title": "浏览器版", "minutes": "3", "body": "浏览器里改的。"})
    page = client.get("/author/courses/basics-a").get_data(as_text=True)
    assert "courses/0-01-a" in page and "lms sync" in page and "edited here" in page

    # the folder is unchanged: sync keeps the browser's edit
    sync_courses(db.session, catalog, clock.utcnow())
    db.session.expire_all()
    lesson = db.session.scalar(_LESSON_ONE)
    assert lesson.body_md.strip() == "浏览器里改的。" and lesson.version == 2

    # a file of the folder changes: the files win, every version stays
    frozen_now(clock.utcnow().replace(hour=10))
    (catalog / "0-01-a" / "01-one.md").write_text("---\ntitle: 文件版\nminutes: 3\n---\n文件里改的。\n", encoding="utf-8")
    sync_courses(db.session, catalog, clock.utcnow())
    db.session.expire_all()
    lesson = db.session.scalar(_LESSON_ONE)
    assert lesson.title == "文件版" and lesson.body_md.strip() == "文件里改的。"
    versions = db.session.scalars(select(LessonVersion).where(LessonVersion.lesson_id == lesson.id)
                                  .order_by(LessonVersion.number)).all()
    assert [(v.number, v.origin) for v in versions] == [(1, "file"), (2, "browser"), (3, "file")]
    assert versions[1].body_md.strip() == "浏览器里改的。"
    assert lesson.course.edited_at is None


def test_view_and_restore_an_old_version(catalog, trainer, login_as):
    client = login_as(trainer)
    original = db.session.scalar(_LESSON_ONE).body_md
    client.post("/author/courses/basics-a/lessons/one", data={"title": "新", "minutes": "3", "body": "新的正文"})
    page = client.get("/author/courses/basics-a/lessons/one/versions/1").get_data(as_text=True)
    assert "basics-a 的第 1 课正文" in page and "Restore this version" in page
    response = client.post("/author/courses/basics-a/lessons/one/versions/1/restore")
    assert response.status_code == 302
    db.session.expire_all()
    lesson = db.session.scalar(_LESSON_ONE)
    assert lesson.version == 3 and lesson.body_md == original and lesson.versions[-1].origin == "browser"
    assert client.get("/author/courses/basics-a/lessons/one/versions/9").status_code == 404


def test_reorder_lessons(catalog, trainer, login_as):
    client = login_as(trainer)

    def order():
        db.session.expire_all()
        course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
        return [(lesson.slug, lesson.position) for lesson in course.live_lessons]

    assert order() == [("one", 0), ("two", 1), ("three", 2)]
    client.post("/author/courses/basics-a/lessons/three/move", data={"direction": "up"})
    assert order() == [("one", 0), ("three", 1), ("two", 2)]
    client.post("/author/courses/basics-a/lessons/one/move", data={"direction": "down"})
    assert order() == [("three", 0), ("one", 1), ("two", 2)]
    client.post("/author/courses/basics-a/lessons/three/move", data={"direction": "up"})  # already first
    assert order() == [("three", 0), ("one", 1), ("two", 2)]
    page = client.get("/author/courses/basics-a").get_data(as_text=True)
    assert page.index("lesson-three") < page.index("lesson-one") < page.index("lesson-two")
    assert "Move" in page and "disabled" in page


def test_new_lesson_ids(catalog, trainer, login_as):
    client = login_as(trainer)
    bad = client.post("/author/courses/basics-a/lessons/new", data={"title": "x", "minutes": "3", "slug": "Not OK",
                                                                     "body": "正文"})
    assert bad.status_code == 422 and "lowercase letters" in bad.get_data(as_text=True)
    taken = client.post("/author/courses/basics-a/lessons/new", data={"title": "x", "minutes": "3", "slug": "two",
                                                                       "body": "正文"})
    assert taken.status_code == 422 and "already uses" in taken.get_data(as_text=True)
    ok = client.post("/author/courses/basics-a/lessons/new", data={"title": "Handling Refunds", "minutes": "3",
                                                                    "slug": "", "body": "正文"})
    assert ok.status_code == 302 and ok.location.endswith("/lessons/handling-refunds")
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "handling-refunds"))
    assert lesson.position == 3 and lesson.source_hash == ""


def test_upload_media_ok_bad_and_too_big(catalog, trainer, login_as, app):
    client = login_as(trainer)
    ok = client.post("/author/courses/basics-a/media", data={"file": (io.BytesIO(png_bytes()), "Call Flow.png")},
                     content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    name = ok.json["name"]
    assert name.startswith("media/") and name.endswith(".png") and ok.json["markdown"].endswith(f"]({name})")
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    assert [item.name for item in course.media] == [name]
    assert course.media[0].blob.width == 40

    # now a lesson may show it, and the preview resolves it
    reply = client.post("/author/preview", json={"course": "basics-a", "markdown": f"![流程]({name})"})
    assert re.search(r'<img [^>]*src="/media/[0-9a-f]{64}\.png"', reply.json["html"]) and reply.json["errors"] == []

    fake = client.post("/author/courses/basics-a/media", data={"file": (io.BytesIO(b"not a picture"), "x.png")},
                       content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert fake.status_code == 400 and fake.json["error"]
    wrong = client.post("/author/courses/basics-a/media", data={"file": (io.BytesIO(b"hello"), "notes.txt")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert "Nothing was uploaded" in wrong.get_data(as_text=True)

    app.config["LMS_MEDIA_MAX_IMAGE_MB"] = 0.001  # about 1 KB
    big = png_bytes(400, 400, (1, 2, 3))
    big = Image.effect_noise((300, 300), 80)
    buffer = io.BytesIO()
    big.convert("RGB").save(buffer, format="PNG")
    too_big = client.post("/author/courses/basics-a/media",
                          data={"file": (io.BytesIO(buffer.getvalue()), "big.png")},
                          content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert too_big.status_code == 400 and "MB" in too_big.json["error"]
    db.session.expire_all()
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    assert [item.name for item in course.media] == [name]  # nothing else stored


def test_upload_larger_than_the_app_limit_is_accepted_for_media(catalog, trainer, login_as, app):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # a small app-wide limit; uploads get the media limits
    client = login_as(trainer)
    noise = Image.effect_noise((400, 400), 90).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 64 * 1024
    reply = client.post("/author/courses/basics-a/media", data={"file": (io.BytesIO(buffer.getvalue()), "noise.png")},
                        content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]


def test_edit_course_settings(catalog, trainer, login_as):
    client = login_as(trainer)
    response = client.post("/author/courses/basics-b", data=_course_form(
        title="改名的课程", star_level="0", track="onboarding", course_type="norms", prerequisites=["basics-a"]))
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.slug == "basics-b"))
    assert course.title == "改名的课程" and course.course_type == "norms" and course.edited_at is not None
    # a cycle is refused
    response = client.post("/author/courses/basics-a", data=_course_form(
        title="A", star_level="0", track="onboarding", prerequisites=["basics-b"]))
    assert response.status_code == 422 and "cycle" in response.get_data(as_text=True)


def test_export_round_trip(catalog, trainer, login_as, tmp_path, app):
    client = login_as(trainer)
    client.post("/author/courses/new", data=_course_form(slug="made-here", star_level="0", track="onboarding"))
    image = png_bytes(20, 10)
    name = client.post("/author/courses/made-here/media", data={"file": (io.BytesIO(image), "chart.png")},
                       content_type="multipart/form-data", headers={"Accept": "application/json"}).json["name"]
    client.post("/author/courses/made-here/lessons/new",
                data={"title": "看图", "minutes": "5", "slug": "look", "body": f"## 图\n\n![流程图]({name})\n"})
    client.post("/author/courses/made-here/lessons/new",
                data={"title": "第二课", "minutes": "3", "slug": "second", "body": "第二课正文。"})
    client.post("/author/courses/made-here/lessons/second/move", data={"direction": "up"})
    response = client.get("/author/courses/made-here/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = sorted(archive.namelist())
    folder = names[0].split("/")[0]
    assert re.match(r"^0-\d\d-made-here$", folder)
    assert names == sorted([f"{folder}/course.md", f"{folder}/01-second.md", f"{folder}/02-look.md",
                            f"{folder}/{name}"])

    # re-import into an empty database from a fresh courses folder: the same course
    before = db.session.scalar(select(Course).where(Course.slug == "made-here"))
    expected = (before.title, before.star_level, before.kind, before.track, before.course_type, before.summary,
                before.intro_md.strip(), [(l.slug, l.title, l.minutes, l.body_md.strip()) for l in before.live_lessons])
    for course in db.session.scalars(select(Course)).all():
        db.session.delete(course)
    db.session.commit()
    root = tmp_path / "exported" / "courses"
    root.mkdir(parents=True)
    archive.extractall(root)
    sync_courses(db.session, root, clock.utcnow())
    after = db.session.scalar(select(Course).where(Course.slug == "made-here"))
    got = (after.title, after.star_level, after.kind, after.track, after.course_type, after.summary,
           after.intro_md.strip(), [(l.slug, l.title, l.minutes, l.body_md.strip()) for l in after.live_lessons])
    assert got == expected
    assert after.source_path == folder
    assert {item.name: item.blob.data for item in after.media} == {name: image}
    assert "/media/" in after.live_lessons[1].body_html


def test_course_page_queries_are_bounded(catalog, trainer, login_as):
    from tests.conftest import count_queries

    client = login_as(trainer)
    client.get("/author/courses")
    small = count_queries(lambda: client.get("/author/courses"))
    for number in range(8):
        client.post("/author/courses/new", data=_course_form(slug=f"extra-{number}", title=f"额外 {number}"))
    assert count_queries(lambda: client.get("/author/courses")) == small


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_posts_need_the_token(self, catalog, trainer, client):
        login = client.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.get_data(as_text=True))
        token = token.group(1) if token else re.search(r'name="csrf_token" value="([^"]+)"',
                                                       login.get_data(as_text=True)).group(1)
        assert client.post("/login", data={"employee_no": trainer.employee_no, "password": "password123",
                                           "csrf_token": token}).status_code == 302
        assert client.post("/author/courses/basics-a/lessons/one",
                           data={"title": "x", "minutes": "3", "body": "正文"}).status_code == 400
        assert client.post("/author/preview", json={"course": "basics-a", "markdown": "x"}).status_code == 400
        upload = client.post("/author/courses/basics-a/media", data={"file": (io.BytesIO(png_bytes()), "a.png")},
                             content_type="multipart/form-data")
        assert upload.status_code == 400
        page = client.get("/author/courses/basics-a/lessons/one").get_data(as_text=True)
        token = re.search(r'data-csrf="([^"]+)"', page).group(1)
        reply = client.post("/author/preview", json={"course": "basics-a", "markdown": "**粗**"},
                            headers={"X-CSRFToken": token})
        assert reply.status_code == 200 and "<strong>粗</strong>" in reply.json["html"]
        db.session.expire_all()
        assert db.session.scalars(select(Course).where(Course.slug == "basics-a")).one().media == []
