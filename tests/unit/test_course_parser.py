"""The course folder parser: valid folders, and every kind of malformed file with its line."""
from pathlib import Path

import pytest

from lms.config import PROJECT_ROOT
from lms.content.courses import load_course_tree, parse_lesson
from lms.content.frontmatter import parse_document
from tests.conftest import write_course


def messages(errors):
    return [str(error) for error in errors]


def test_valid_tree_gives_courses_in_folder_order_and_lessons_in_file_order(tmp_path):
    root = tmp_path / "courses"
    write_course(root, "0-02-second", slug="second", prerequisites=["first"])
    write_course(root, "0-01-first", slug="first", lessons=("welcome", "rules"))
    specs, errors = load_course_tree(root)
    assert errors == []
    assert [spec.slug for spec in specs] == ["first", "second"]
    first = specs[0]
    assert [lesson.slug for lesson in first.lessons] == ["welcome", "rules"]
    assert first.minutes == 6  # summed from the lessons when course.md does not say
    assert specs[1].prerequisites == ("first",)
    assert first.intro.strip() == "课程 first 的介绍。"


def test_the_sample_curriculum_is_valid_and_big_enough():
    specs, errors = load_course_tree(PROJECT_ROOT / "courses")
    assert messages(errors) == []
    assert len(specs) >= 12
    levels = {spec.star_level for spec in specs}
    assert {0, 1, 2, 3} <= levels
    for level in (0, 1, 2, 3):
        kinds = {spec.kind for spec in specs if spec.star_level == level}
        assert kinds == {"required", "elective"}, f"level {level} needs required and elective courses"
    assert any(spec.track == "refresher" and spec.valid_months for spec in specs)
    for spec in specs:
        assert 3 <= len(spec.lessons) <= 6, spec.slug
        for lesson in spec.lessons:
            assert 2 <= lesson.minutes <= 5, f"{spec.slug}/{lesson.slug}"


@pytest.mark.parametrize("text, line, fragment", [
    ("title: x\n", 1, "must start with a '---' line"),
    ("---\ntitle: x\nminutes: 3\n", 1, "never closed"),
    ("---\ntitle: x\nminutes: [3\n---\nbody\n", 4, "not valid YAML"),
    ("---\ntitle: x\nminutes: 3\ntitle: y\n---\nbody\n", 4, "the title ('title') cannot be given twice (first on line 2)"),
    ("---\ntitle: x\nminutes: many\n---\nbody\n", 3, "the length in minutes ('minutes') must be a whole number"),
    ("---\ntitle: x\n---\nbody\n", 1, "the length in minutes ('minutes') must be given"),
    ("---\ntitle: x\nminutes: 3\ncolour: red\n---\nbody\n", 4, "unknown key 'colour'"),
    ("---\ntitle: x\nminutes: 3\n---\n\n   \n", 5, "no text after its front matter"),
    ("---\n- a\n- b\n---\nbody\n", 2, "must be a list of 'key: value' lines"),
])
def test_malformed_lesson_names_its_line(text, line, fragment):
    lesson, errors = parse_lesson(text, "courses/x/01-a.md", 0, "a")
    assert lesson is None
    assert any(error.line == line and fragment in error.message for error in errors), messages(errors)
    assert all(str(error).startswith(f"courses/x/01-a.md:{error.line}: ") for error in errors)


def course_md(**overrides) -> str:
    fields = {"slug": "demo", "title": "演示", "star_level": "0", "kind": "required", "track": "onboarding",
              "prerequisites": "[]"}
    fields.update(overrides)
    lines = [f"{key}: {value}" for key, value in fields.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\n介绍\n"


@pytest.mark.parametrize("overrides, key_line, fragment", [
    ({"star_level": "6"}, 4, "the star level ('star_level') must be a whole number from 0 to 5"),
    ({"star_level": "true"}, 4, "the star level ('star_level') must be a whole number"),
    ({"kind": "optional"}, 5, "the kind ('kind') must be 'required' or 'elective'"),
    ({"track": "induction"}, 6, "the track ('track') must be 'onboarding', 'in-service', or 'refresher'"),
    ({"slug": "Bad Slug"}, 2, "may hold only lowercase letters"),
    ({"title": None}, 1, "the title ('title') must be given"),
    ({"prerequisites": "basics"}, 7, "must be a list of course ids"),
    ({"prerequisites": "[demo]"}, 7, "cannot be its own prerequisite"),
    ({"track": "refresher"}, 6, "a refresher course needs the validity in months ('valid_months')"),
    ({"valid_months": "12"}, 8, "the validity in months ('valid_months') is for refresher courses only"),
])
def test_malformed_course_names_its_line(tmp_path, overrides, key_line, fragment):
    root = tmp_path / "courses"
    folder = write_course(root, "0-01-demo", slug="demo")
    (folder / "course.md").write_text(course_md(**overrides), encoding="utf-8")
    specs, errors = load_course_tree(root)
    assert specs == []
    assert [(e.path, e.line) for e in errors if fragment in e.message] == [("courses/0-01-demo/course.md", key_line)], \
        messages(errors)


def test_cross_course_rules(tmp_path):
    root = tmp_path / "courses"
    write_course(root, "0-01-a", slug="a", prerequisites=["b"])
    write_course(root, "0-02-b", slug="b", prerequisites=["a"])
    write_course(root, "0-03-c", slug="c", prerequisites=["missing"])
    write_course(root, "0-04-d", slug="d", prerequisites=["high"])
    write_course(root, "1-01-high", slug="high", level=1)
    write_course(root, "1-02-dup", slug="high", level=1)
    _specs, errors = load_course_tree(root)
    found = messages(errors)
    assert "courses/0-01-a/course.md:8: the prerequisites form a cycle" in found
    assert "courses/0-02-b/course.md:8: the prerequisites form a cycle" in found
    assert "courses/0-03-c/course.md:8: unknown prerequisite 'missing'" in found
    assert any(m.startswith("courses/0-04-d/course.md:8: the prerequisite 'high' is at star level 1") for m in found)
    assert "courses/1-02-dup/course.md:2: the id 'high' is already used by courses/1-01-high/course.md" in found


def test_folder_level_problems(tmp_path):
    root = tmp_path / "courses"
    (root / "0-01-empty").mkdir(parents=True)
    folder = write_course(root, "0-02-x", slug="x", lessons=())
    bad = write_course(root, "0-03-y", slug="y")
    (bad / "Lesson One.md").write_text("---\ntitle: a\nminutes: 2\n---\ntext\n", encoding="utf-8")
    (bad / "09-latin.md").write_bytes("---\ntitle: ok\nminutes: 2\n---\n\xff\xfe".encode("latin-1"))
    _specs, errors = load_course_tree(root)
    found = messages(errors)
    assert "courses/0-01-empty/course.md:1: the course folder has no course.md" in found
    assert f"courses/{folder.name}/course.md:1: the course has no lesson files" in found
    assert any(m.startswith("courses/0-03-y/Lesson One.md:1: lesson file names look like") for m in found)
    assert "courses/0-03-y/09-latin.md:5: the file is not UTF-8 text" in found


def test_front_matter_lines_survive_blank_lines_and_bom():
    doc = parse_document("\ufeff---\n\ntitle: x\n\nminutes: 3\n---\n\nbody\n", "f.md")
    assert doc.errors == []
    assert doc.key_lines == {"title": 3, "minutes": 5}
    assert doc.body == "body\n"


def test_missing_root_is_an_error(tmp_path):
    specs, errors = load_course_tree(Path(tmp_path / "nowhere"))
    assert specs == [] and "does not exist" in errors[0].message
