"""The authoring services without HTTP: files composed as `lms sync` reads them, editor line numbers,
lesson ids from titles, the rule in words, the exported folder."""
from __future__ import annotations

import pytest

from lms.authoring import services
from lms.authoring.export import course_files, folder_name
from lms.content.courses import parse_course, parse_lesson
from lms.models import Course, Lesson


def test_lesson_text_is_a_lesson_file_sync_reads():
    text = services.lesson_text("标题: yes", 5, "## 要点\n\n正文。\n")
    spec, errors = parse_lesson(text, "01-x.md", 0, "x")
    assert errors == [] and spec.title == "标题: yes" and spec.minutes == 5 and spec.body == "## 要点\n\n正文。\n"
    assert text.splitlines()[services.LESSON_TITLE_LINE - 1].startswith("title:")
    assert text.splitlines()[services.LESSON_MINUTES_LINE - 1] == "minutes: 5"


def test_course_document_round_trips_through_the_parser():
    values = services.CourseFields(slug="a-b", title="yes", star_level=2, kind="elective", track="refresher",
                                   course_type="norms", summary="一句话: 简介", valid_months=12,
                                   prerequisites=["x", "y"], intro_md="## 介绍\n")
    text = services.compose(services.course_document(values, practicals=["bill-went-up"], evaluation_threshold=85.0),
                            values.intro_md)
    spec, errors, _doc = parse_course(text, "course.md", "", 0, ())
    assert errors == []
    assert (spec.slug, spec.title, spec.star_level, spec.kind, spec.track, spec.course_type, spec.summary,
            spec.valid_months, spec.prerequisites, spec.practicals, spec.evaluation_threshold) == (
        "a-b", "yes", 2, "elective", "refresher", "norms", "一句话: 简介", 12, ("x", "y"), ("bill-went-up",), 85.0)


def test_errors_name_the_editors_lines_and_fields(app):
    course = Course(slug="c", title="c", star_level=0, kind="required", track="onboarding", media=[])
    with pytest.raises(services.AuthoringInvalid) as refused:
        services.check_lesson(course, "x", "", None, "第一行\n\n![图](media/none.png)\n")
    where = {(problem.where, problem.line) for problem in refused.value.problems}
    assert ("body", 3) in where and ("title", None) in where and ("minutes", None) in where
    with pytest.raises(services.AuthoringInvalid) as refused:
        services.check_lesson(course, "x", "标题", 3, "\n \n")
    assert [(p.where, p.line) for p in refused.value.problems] == [("body", 1)]


@pytest.mark.parametrize("title, slug", [("Handling Refunds!", "handling-refunds"), ("处理退费", ""),
                                         ("Café 101", "cafe-101")])
def test_lesson_ids_from_titles(title, slug):
    assert services.slug_from(title) == slug


def test_the_rule_in_words(app):
    from_files = Course(slug="p", source_path="0-03-phone-etiquette")
    assert "courses/0-03-phone-etiquette" in str(services.origin_rule(from_files))
    assert "lms sync" in str(services.origin_rule(from_files))
    assert "browser" in str(services.origin_rule(Course(slug="q", source_path="")))


def test_exported_folder(app):
    course = Course(slug="made", title="做的课", star_level=1, kind="required", track="in-service",
                    course_type="skills", summary="", intro_md="介绍\n", practicals=[], source_path="", media=[],
                    prerequisites=[])
    course.lessons = [Lesson(slug="b", title="二", minutes=3, body_md="二的正文\n", position=1),
                      Lesson(slug="a", title="一", minutes=4, body_md="一的正文\n", position=0)]
    course.lessons.sort(key=lambda lesson: lesson.position)
    assert folder_name(course, 7) == "1-07-made"
    files = course_files(course)
    assert sorted(files) == ["01-a.md", "02-b.md", "course.md"]
    spec, errors = parse_lesson(files["01-a.md"].decode(), "01-a.md", 0, "a")
    assert errors == [] and spec.title == "一" and spec.minutes == 4 and spec.body == "一的正文\n"
