"""exam.yaml in course folders: parsing with `path:line` errors, and `lms sync` importing them."""
import random
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lms.config import PROJECT_ROOT
from lms.content.errors import ContentInvalid
from lms.content.exams import load_exam_files, parse_exam, parse_moment
from lms.content.frontmatter import parse_yaml_file
from lms.content.sync import IMPORTERS, sync_content
from lms.exams import authoring, services
from lms.extensions import db
from lms.models import Course, Exam, ExamAttempt
from tests.conftest import write_course
from tests.exam_support import make_bank

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
GOOD = """\
slug: final-exam
title: 结业考试
description: |
  说明文字。
time_limit_minutes: 15
pass_percent: 70
attempts_allowed: 3
retake_delay_minutes: 10
later_retake_delay_minutes: 60
grading_method: average
review_policy: immediately
pools:
  - bank: kb
    tags: [开场白, 转接]
    count: 2
  - bank: kb
    count: 3
"""


def parse(text, banks=("kb",)):
    return parse_exam(text, "courses/0-01-a/exam.yaml", course_slug="a", known_banks=set(banks))


def messages(errors):
    return [str(error) for error in errors]


def test_a_good_file():
    spec, errors = parse(GOOD)
    assert errors == []
    assert (spec.slug, spec.course_slug, spec.time_limit_minutes, spec.pass_percent, spec.attempts_allowed) == \
        ("final-exam", "a", 15, 70.0, 3)
    assert (spec.retake_delay_minutes, spec.later_retake_delay_minutes) == (10, 60)
    assert (spec.grading_method, spec.review_policy, spec.shuffle_questions, spec.shuffle_options) == \
        ("average", "immediately", True, True)
    assert [(p.bank, p.tags, p.count, p.line) for p in spec.pools] == [("kb", ("开场白", "转接"), 2, 13),
                                                                      ("kb", (), 3, 16)]
    assert spec.description == "说明文字。\n"


def test_defaults_for_optional_keys():
    spec, errors = parse("slug: x\ntitle: 考试\ntime_limit_minutes: 10\npass_percent: 60\n"
                         "pools:\n  - bank: kb\n    count: 1\n")
    assert errors == []
    assert (spec.attempts_allowed, spec.grading_method, spec.review_policy, spec.opens_at) == \
        (0, "highest", "after_close", None)


@pytest.mark.parametrize("change, expected", [
    (("time_limit_minutes: 15", "time_limit_minutes: 0"), ":5: the time limit ('time_limit_minutes') must be a whole number from 1 to 600"),
    (("pass_percent: 70", "pass_percent: 170"), ":6: the pass mark ('pass_percent') must be a number from 0 to 100"),
    (("grading_method: average", "grading_method: best"), ":10: the grading method ('grading_method') must be 'highest', 'average'"),
    (("review_policy: immediately", "review_policy: sometimes"), ":11: the review policy ('review_policy') must be 'after_close'"),
    (("attempts_allowed: 3", "attempts_allowed: many"), ":7: the attempts allowed ('attempts_allowed') must be a whole number"),
    (("slug: final-exam", "slug: Final Exam"), ":1: the id ('slug') 'Final Exam' may hold only lowercase"),
    (("slug: final-exam", "slug: manage"), ":1: the id 'manage' is reserved"),
    (("  - bank: kb\n    count: 3", "  - bank: nope\n    count: 3"), ":16: unknown question bank 'nope'"),
    (("    count: 3", "    count: -3"), ":17: the number of questions ('count') must be a whole number from 1 to 200"),
    (("    count: 2\n", "    count: 2\n    weight: 5\n"), ":16: unknown key 'weight' in a pool"),
    (("    tags: [开场白, 转接]", "    tags: {a: 1}"), ":14: the tags ('tags') must be a list of tags"),
    (("  - bank: kb\n    count: 3", "  - count: 3"), ":16: each pool names its question bank"),
    (("review_policy: immediately", "review_policy: immediately\ncolour: blue"), ":12: unknown key 'colour'"),
    (("pass_percent: 70", "pass_percent: 70\npass_percent: 80"),
     ":7: the pass mark ('pass_percent') cannot be given twice (first on line 6)"),
    (("title: 结业考试", "title: [结业考试"), "not valid YAML"),
    (("pools:", "opens_at: someday\npools:"), ":12: the opening time ('opens_at') must be a date and time"),
    (("pools:", "opens_at: 2027-02-01 09:00\ncloses_at: 2027-01-01 09:00\npools:"),
     ":13: the closing time ('closes_at') must come after the opening time ('opens_at')"),
])
def test_errors_name_the_line(change, expected):
    old, new = change
    assert old in GOOD
    spec, errors = parse(GOOD.replace(old, new))
    assert spec is None
    assert any(expected in message for message in messages(errors)), messages(errors)
    assert all(message.startswith("courses/0-01-a/exam.yaml:") for message in messages(errors))


def test_missing_required_keys():
    spec, errors = parse("title: 考试\n")
    assert spec is None
    assert {"courses/0-01-a/exam.yaml:1: the id ('slug') must be given",
            "courses/0-01-a/exam.yaml:1: the question pools ('pools') must be given"} \
        <= set(messages(errors))


def test_a_file_that_is_not_a_mapping():
    assert "an exam file is a list of 'key: value' lines" in messages(parse("- a\n- b\n")[1])[0]


def test_times_without_an_offset_are_local_to_the_timezone():
    assert parse_moment("2027-01-31 18:00", "Asia/Shanghai") == datetime(2027, 1, 31, 10, 0, tzinfo=timezone.utc)
    assert parse_moment("2027-01-31T18:00:00+00:00", "Asia/Shanghai") == datetime(2027, 1, 31, 18, 0,
                                                                                   tzinfo=timezone.utc)
    assert parse_moment(datetime(2027, 1, 31, 18, 0), "UTC") == datetime(2027, 1, 31, 18, 0, tzinfo=timezone.utc)
    assert parse_moment("tomorrow", "UTC") is None


def test_yaml_file_lines_nested_and_duplicates():
    parsed = parse_yaml_file("a: 1\nb:\n  - x: 1\n    x: 2\n", "f.yaml")
    assert parsed.lines[("b", 0, "x")] == 3
    assert messages(parsed.errors) == ["f.yaml:4: 'x' cannot be given twice (first on line 3)"]
    assert parsed.line_of("b", 7, "zz") == 2  # an unknown path falls back to its nearest parent


def test_load_exam_files_reads_course_folders(tmp_path):
    root = tmp_path / "courses"
    write_course(root, "0-01-a", slug="course-a")
    write_course(root, "0-02-b", slug="course-b")
    write_course(root, "0-03-c", slug="course-c")
    (root / "0-01-a" / "exam.yaml").write_text(GOOD, encoding="utf-8")
    (root / "0-02-b" / "exam.yaml").write_text(GOOD, encoding="utf-8")
    specs, errors = load_exam_files(root, known_banks={"kb"})
    assert [spec.course_slug for spec in specs] == ["course-a", "course-b"]
    assert messages(errors) == ["courses/0-02-b/exam.yaml:1: the exam id 'final-exam' is already used by "
                                "courses/0-01-a/exam.yaml"]


# --- lms sync ------------------------------------------------------------------------------------

@pytest.fixture
def app_config(tmp_path):
    return {"LMS_BANKS_DIR": str(tmp_path / "no-banks")}


@pytest.fixture
def course_with_exam(course_root):
    write_course(course_root, "0-01-a", slug="course-a")
    make_bank("kb", per_type=2, tags_for=lambda kind, n: ["开场白", "转接"] if n == 0 else [])
    (course_root / "0-01-a" / "exam.yaml").write_text(GOOD, encoding="utf-8")
    return course_root


def sync(app):
    return sync_content(db.session, app.config, NOW)


def exam():
    return db.session.scalar(select(Exam).where(Exam.slug == "final-exam"))


def test_sync_imports_the_exam_and_a_second_run_changes_nothing(app, course_with_exam):
    assert "exams: 1 created" in sync(app)[-1]
    imported = exam()
    assert imported.course.slug == "course-a" and imported.source_path == "courses/0-01-a/exam.yaml"
    assert [(p.bank.slug, p.tags, p.count) for p in imported.pools] == [("kb", ["开场白", "转接"], 2), ("kb", [], 3)]
    assert "<p>说明文字。</p>" in imported.description_html
    assert "exams: 0 created, 0 updated, 1 unchanged" in sync(app)[-1]


def test_sync_updates_a_changed_file(app, course_with_exam):
    sync(app)
    path = course_with_exam / "0-01-a" / "exam.yaml"
    path.write_text(GOOD.replace("pass_percent: 70", "pass_percent: 75"), encoding="utf-8")
    assert "exams: 0 created, 1 updated" in sync(app)[-1]
    assert exam().pass_percent == 75


def test_a_pool_naming_an_unknown_bank_imports_nothing(app, course_with_exam):
    (course_with_exam / "0-01-a" / "exam.yaml").write_text(GOOD.replace("  - bank: kb\n    count: 3",
                                                                        "  - bank: ghost\n    count: 3"))
    with pytest.raises(ContentInvalid) as raised:
        sync(app)
    assert messages(raised.value.errors) == ["courses/0-01-a/exam.yaml:16: unknown question bank 'ghost'"]
    assert exam() is None


def test_a_pool_asking_for_more_questions_than_the_bank_has(app, course_with_exam):
    (course_with_exam / "0-01-a" / "exam.yaml").write_text(GOOD.replace("    count: 2\n", "    count: 9\n"))
    with pytest.raises(ContentInvalid) as raised:
        sync(app)
    assert messages(raised.value.errors) == [
        "courses/0-01-a/exam.yaml:13: the pool asks for 9 questions but the bank 'kb' has 6 with the tags 开场白 and 转接"]
    assert exam() is None


def test_an_exam_file_gone_is_deleted_or_retired_once_sat(app, course_with_exam, make_user):
    sync(app)
    path = course_with_exam / "0-01-a" / "exam.yaml"
    path.unlink()
    assert "1 deleted" in sync(app)[-1] and exam() is None
    path.write_text(GOOD, encoding="utf-8")
    sync(app)
    agent = make_user(roles=("trainer",))
    services.start_attempt(agent, exam(), NOW, rng=random.Random(1))
    path.unlink()
    assert "1 retired" in sync(app)[-1]
    retired = exam()
    assert retired.retired_at is not None and retired.course_id is None
    assert db.session.scalar(select(ExamAttempt).where(ExamAttempt.exam_id == retired.id)) is not None
    path.write_text(GOOD, encoding="utf-8")
    assert "1 updated" in sync(app)[-1]
    assert exam().retired_at is None and exam().course.slug == "course-a"


def test_an_exam_made_in_the_browser_keeps_its_slug(app, course_with_exam, make_user):
    from lms.models import QuestionBank

    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.slug == "kb"))
    authoring.save_exam(make_user(roles=("trainer",)), None, authoring.ExamSettings(
        slug="final-exam", title="网页上建的", pools=[authoring.PoolSettings(bank.id, [], 1)]), NOW)
    with pytest.raises(ContentInvalid) as raised:
        sync(app)
    assert messages(raised.value.errors) == [
        "courses/0-01-a/exam.yaml:1: the exam id 'final-exam' is taken by an exam made in the browser"]
    assert exam().title == "网页上建的"


@pytest.mark.skipif(not any(importer.name == "question banks" for importer in IMPORTERS),
                    reason="the `question banks` content importer is not registered yet")
def test_the_sample_exams_import_and_every_one_can_be_sat(app, make_user):
    config = {**app.config, "LMS_COURSES_DIR": str(PROJECT_ROOT / "courses"),
              "LMS_BANKS_DIR": str(PROJECT_ROOT / "question_banks")}
    lines = sync_content(db.session, config, NOW)
    exam_files = sorted((PROJECT_ROOT / "courses").glob("*/exam.yaml"))
    assert f"exams: {len(exam_files)} created" in lines[-1]
    trainer = make_user(roles=("trainer", "agent"), star_level=5)
    exams = list(db.session.scalars(select(Exam)))
    required = set(db.session.scalars(select(Course.slug).where(Course.kind == "required")))
    assert required <= {e.course.slug for e in exams}  # every required course ends in an exam
    for sample in exams:
        assert 10 <= sample.time_limit_minutes <= 30 and sample.attempts_allowed == 3, sample.slug
        assert 60 <= sample.pass_percent <= 80 and sample.shuffle_questions and sample.shuffle_options
        attempt = services.start_attempt(trainer, sample, NOW, rng=random.Random(5))
        assert len(attempt.questions) == sample.question_count >= 8, sample.slug
        assert len({aq.question_type for aq in attempt.questions}) >= 3, sample.slug
