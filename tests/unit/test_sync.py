"""`lms sync` into the database: idempotent, all-or-nothing, retire instead of delete once used."""
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.content.errors import ContentInvalid
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.lessons.services import complete_lesson
from lms.models import Course, Lesson, LessonProgress
from tests.conftest import write_course

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)



def course(slug):
    return db.session.scalar(select(Course).where(Course.slug == slug))


def test_first_sync_creates_everything_and_second_writes_nothing(course_root, writes):
    write_course(course_root, "0-01-a", slug="a")
    write_course(course_root, "0-02-b", slug="b", prerequisites=["a"])
    report = sync_courses(db.session, course_root, NOW)
    assert report.created == ["a", "b"]
    assert [c.slug for c in course("b").prerequisites] == ["a"]
    assert len(course("a").live_lessons) == 3
    writes.clear()
    db.session.expire_all()
    again = sync_courses(db.session, course_root, NOW + timedelta(hours=1))
    assert again.unchanged == ["a", "b"] and not again.changed
    assert writes == []


def test_edited_lesson_is_updated_and_rendered_safely(course_root):
    folder = write_course(course_root, "0-01-a", slug="a")
    sync_courses(db.session, course_root, NOW)
    (folder / "02-two.md").write_text(
        "---\ntitle: 新标题\nminutes: 4\n---\n## 小节\n\n<script>alert(1)</script>"
        "<a href=\"javascript:alert(2)\">x</a>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", encoding="utf-8")
    report = sync_courses(db.session, course_root, NOW)
    assert report.updated == ["a"]
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "two"))
    assert lesson.title == "新标题" and lesson.minutes == 4
    assert "<script" not in lesson.body_html and "javascript:" not in lesson.body_html
    assert "<h2>小节</h2>" in lesson.body_html and "<table>" in lesson.body_html


def test_one_bad_file_changes_nothing(course_root, writes):
    write_course(course_root, "0-01-a", slug="a")
    sync_courses(db.session, course_root, NOW)
    write_course(course_root, "0-02-b", slug="b")
    (course_root / "0-01-a" / "01-one.md").write_text("---\ntitle: 改了\nminutes: 2\n---\n正文\n", encoding="utf-8")
    (course_root / "0-02-b" / "02-two.md").write_text("---\ntitle: x\nminutes: lots\n---\n正文\n", encoding="utf-8")
    writes.clear()
    with pytest.raises(ContentInvalid) as caught:
        sync_courses(db.session, course_root, NOW)
    assert [str(e) for e in caught.value.errors] == [
        "courses/0-02-b/02-two.md:3: the length in minutes ('minutes') must be a whole number from 1 to 60, not 'lots'"]
    assert writes == []
    assert course("b") is None
    assert db.session.scalar(select(Lesson.title).where(Lesson.slug == "one")) == "a 第1课"


def test_removed_course_is_deleted_when_unused_and_retired_when_used(course_root, make_user):
    write_course(course_root, "0-01-used", slug="used")
    write_course(course_root, "0-02-unused", slug="unused")
    sync_courses(db.session, course_root, NOW)
    agent = make_user()
    complete_lesson(agent, course("used").live_lessons[0])
    shutil.rmtree(course_root / "0-01-used")
    shutil.rmtree(course_root / "0-02-unused")
    report = sync_courses(db.session, course_root, NOW)
    assert report.retired == ["used"] and report.deleted == ["unused"]
    assert course("unused") is None
    assert course("used").retired_at == NOW
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
    # Putting the folder back brings the same course (and the agent's progress) back.
    write_course(course_root, "0-01-used", slug="used")
    restored = sync_courses(db.session, course_root, NOW)
    assert restored.updated == ["used"] and course("used").retired_at is None


def test_removed_lesson_is_retired_when_read_and_deleted_when_not(course_root, make_user):
    folder = write_course(course_root, "0-01-a", slug="a", lessons=("one", "two", "three"))
    sync_courses(db.session, course_root, NOW)
    agent = make_user()
    complete_lesson(agent, course("a").live_lessons[0])
    (folder / "01-one.md").unlink()
    (folder / "03-three.md").unlink()
    sync_courses(db.session, course_root, NOW)
    lessons = {lesson.slug: lesson for lesson in course("a").lessons}
    assert set(lessons) == {"one", "two"}
    assert lessons["one"].retired_at == NOW
    assert [lesson.slug for lesson in course("a").live_lessons] == ["two"]


def test_prerequisite_changes_are_applied(course_root):
    write_course(course_root, "0-01-a", slug="a")
    write_course(course_root, "0-02-b", slug="b", prerequisites=["a"])
    sync_courses(db.session, course_root, NOW)
    write_course(course_root, "0-02-b", slug="b")
    report = sync_courses(db.session, course_root, NOW)
    assert report.updated == ["b"]
    assert course("b").prerequisites == []


def lesson(course_slug, slug):
    return db.session.scalar(select(Lesson).join(Course).where(Course.slug == course_slug, Lesson.slug == slug))


def test_every_change_of_a_lesson_is_a_version_and_an_unchanged_file_adds_none(course_root):
    folder = write_course(course_root, "0-01-a", slug="a")
    sync_courses(db.session, course_root, NOW)
    first = lesson("a", "two")
    assert first.version == 1 and [v.number for v in first.versions] == [1]
    assert first.versions[0].origin == "file" and "第2课正文" in first.body_md.replace(" ", "")
    (folder / "02-two.md").write_text("---\ntitle: 新标题\nminutes: 4\n---\n新的正文。\n", encoding="utf-8")
    sync_courses(db.session, course_root, NOW + timedelta(hours=1))
    db.session.expire_all()
    edited = lesson("a", "two")
    assert edited.version == 2 and [(v.number, v.title) for v in edited.versions] == [(1, "a 第2课"), (2, "新标题")]
    assert edited.versions[-1].body_md.strip() == "新的正文。" and edited.body_md.strip() == "新的正文。"
    assert [v.number for v in lesson("a", "one").versions] == [1]  # the untouched lesson of the same course


def test_browser_edits_stay_until_a_file_of_the_folder_changes(course_root, make_user):
    from lms.content.lesson_versions import save_lesson

    trainer = make_user(roles=("trainer",))
    folder = write_course(course_root, "0-01-a", slug="a")
    sync_courses(db.session, course_root, NOW)
    reader = make_user()
    complete_lesson(reader, lesson("a", "one"))
    save_lesson(lesson("a", "one"), title="浏览器改的标题", minutes=5, body_md="浏览器写的正文。",
                body_html="<p>浏览器写的正文。</p>", origin="browser", now=NOW, author_id=trainer.id)
    course("a").edited_at = NOW
    db.session.commit()

    report = sync_courses(db.session, course_root, NOW + timedelta(hours=1))  # the folder is unchanged
    assert report.unchanged == ["a"]
    db.session.expire_all()
    assert lesson("a", "one").title == "浏览器改的标题" and lesson("a", "one").version == 2
    assert course("a").edited_at is not None

    # another file of the folder changes: the folder wins for the whole course, history kept
    (folder / "03-three.md").write_text("---\ntitle: 第三课新版\nminutes: 3\n---\n改过的第三课。\n", encoding="utf-8")
    sync_courses(db.session, course_root, NOW + timedelta(hours=2))
    db.session.expire_all()
    restored = lesson("a", "one")
    assert restored.title == "a 第1课"
    assert [(v.number, v.origin) for v in restored.versions] == [(1, "file"), (2, "browser"), (3, "file")]
    assert restored.versions[1].author_id == trainer.id and restored.versions[1].body_md == "浏览器写的正文。"
    assert course("a").edited_at is None
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)
                             .where(LessonProgress.lesson_id == restored.id)) == 1  # progress kept


def test_a_course_made_in_the_browser_is_never_retired_by_sync(course_root):
    write_course(course_root, "0-01-a", slug="a")
    made = Course(slug="browser-made", title="浏览器课程", star_level=0, kind="elective", track="in-service",
                  source_path="")
    db.session.add(made)
    db.session.commit()
    report = sync_courses(db.session, course_root, NOW)
    assert "browser-made" not in report.retired + report.deleted
    assert course("browser-made") is not None and course("browser-made").retired_at is None
