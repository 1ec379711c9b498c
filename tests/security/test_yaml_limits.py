"""Issue 8, items 5-7: every content format is read by one YAML loader with limits (no anchors or
aliases, bounded depth, size and numbers, plain types only) and every key is type-checked, with
`path:line` errors and never a hang, a traceback or a silent coercion."""
import time

import pytest
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.content.banks import parse_bank
from lms.content.courses import parse_course, parse_lesson
from lms.content.exams import parse_exam
from lms.content.scenarios import parse_scenario
from lms.content.yaml_loader import MAX_BYTES, NO_ALIASES
from lms.extensions import db
from lms.models import Course, QuestionBank, Scenario
from lms.records.ladder_file import parse_ladder
from tests.conftest import write_course
from tests.practicals_support import SCENARIO

# Nine nested anchors of nine aliases: about 1 KB that a plain YAML loader expands to 9^9 items.
BOMB_LINES = ['l0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'] + [
    f"l{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
BOMB = "\n".join(BOMB_LINES)


def course_text(title="演示", extra=""):
    return (f"---\nslug: demo\ntitle: {title}\nstar_level: 0\nkind: required\ntrack: onboarding\n"
            f"prerequisites: []\n{extra}---\n介绍\n")


# name -> (path, text with the line "title: {value}" somewhere, that line, parse -> errors)
FORMATS = {
    "course.md": ("courses/x/course.md", course_text(title="{value}"), 3,
                  lambda text, path: parse_course(text, path, "x", 0, ())[1]),
    "lesson": ("courses/x/01-one.md", "---\ntitle: {value}\nminutes: 3\n---\n正文\n", 2,
               lambda text, path: parse_lesson(text, path, 0, "one")[1]),
    "scenario": ("courses/x/scenarios/s.md", SCENARIO.replace("title: 测试场景", "title: {value}", 1), 2,
                 lambda text, path: parse_scenario(text, path, "s")[1]),
    "exam.yaml": ("courses/x/exam.yaml",
                  "slug: final\ntitle: {value}\ntime_limit_minutes: 15\npass_percent: 70\n"
                  "pools:\n  - bank: b\n    tags: [t]\n    count: 1\n", 2,
                  lambda text, path: parse_exam(text, path, course_slug="demo")[1]),
    "bank": ("question_banks/b.yaml",
             "slug: b\ntitle: {value}\nquestions:\n  - id: q1\n    type: truefalse\n    stem: 对吗？\n"
             "    answer: true\n", 2,
             lambda text, path: parse_bank(text, path).errors),
    "ladder.yaml": ("courses/ladder.yaml", "levels:\n  1:\n    title: {value}\n", 3,
                    lambda text, path: parse_ladder(text, path)[1]),
}


def timed(parse, text, path):
    start = time.perf_counter()
    errors = parse(text, path)
    return errors, time.perf_counter() - start


@pytest.mark.parametrize("name", FORMATS)
def test_valid_template_parses(name):
    path, template, _line, parse = FORMATS[name]
    assert parse(template.replace("{value}", "标题"), path) == []


@pytest.mark.parametrize("name", FORMATS)
def test_alias_bomb_is_refused_at_once(name):
    path, template, line, parse = FORMATS[name]
    lines = template.split("\n")
    # the bomb's first line takes the title's place; its other lines follow at the same indent
    indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
    lines[line - 1: line] = [indent + bomb_line for bomb_line in BOMB_LINES] + [indent + "title: 标题"]
    errors, seconds = timed(parse, "\n".join(lines), path)
    assert seconds < 1
    assert [str(e) for e in errors] == [f"{path}:{line}: {NO_ALIASES}"]


HOSTILE = [
    ("[" * 1000 + "]" * 1000, "nested more than 50 deep"),
    ("{a: " * 1000 + "1" + "}" * 1000, "nested more than 50 deep"),
    ("9" * 5000, "more than 30 digits"),
    ("-" + "1" * 5000 + ".5", "more than 30 digits"),
    ("!!binary aGVsbG8=", "tag 'tag:yaml.org,2002:binary' is not allowed"),
    ("!!python/object:os.system {}", "is not allowed in content files"),
    ("!!python/name:os.system", "is not allowed in content files"),
    ("!!set {a, b}", "tag 'tag:yaml.org,2002:set' is not allowed"),
    ("!!timestamp 2024-01-01", "is not allowed in content files"),
    ("!custom x", "tag '!custom' is not allowed"),
    ("[a, [b, [c, " + "7" * 5000 + "]]]", "more than 30 digits"),  # a value deep in a list
    ("[a, [b, [c, !!binary aGVsbG8=]]]", "is not allowed in content files"),
    ("&anchor 标题", NO_ALIASES),
    ("2027-02-30", "is not a real date"),
]


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("value, fragment", HOSTILE)
def test_hostile_values_are_refused_with_their_line(name, value, fragment):
    path, template, line, parse = FORMATS[name]
    errors, seconds = timed(parse, template.replace("{value}", value), path)
    assert seconds < 1
    assert errors, "accepted"
    assert any(e.path == path and e.line == line and fragment in e.message for e in errors), [str(e) for e in errors]


@pytest.mark.parametrize("name", FORMATS)
def test_merge_keys_are_refused(name):
    path, template, line, parse = FORMATS[name]
    title_line = template.split("\n")[line - 1]
    indent = title_line[: len(title_line) - len(title_line.lstrip())]
    errors = parse(template.replace("title: {value}", f"title: 标题\n{indent}<<: {{x: 1}}"), path)
    assert [(e.line, NO_ALIASES in e.message) for e in errors] == [(line + 1, True)], [str(e) for e in errors]


@pytest.mark.parametrize("name", FORMATS)
def test_oversized_file_is_refused_quickly(name):
    path, template, _line, parse = FORMATS[name]
    errors, seconds = timed(parse, template.replace("{value}", "x" * (MAX_BYTES + 1)), path)
    assert seconds < 1
    assert [(e.line, "larger than 2 MB" in e.message) for e in errors] == [(1, True)]


# --- wrongly typed values: (format, old line, new line, key the message names) -------------------

TYPED = [
    ("course.md", "title: {value}", "title: true", "title", "must be text"),
    ("course.md", "title: {value}", "title: [a, b]", "title", "must be text"),
    ("course.md", "title: {value}", "title: 2024-01-01", "title", "must be text, not the date"),
    ("course.md", "prerequisites: []", "prerequisites: no", "prerequisites", "must be a list of course ids"),
    ("course.md", "prerequisites: []", "prerequisites: basics", "prerequisites", "must be a list of course ids"),
    ("course.md", "prerequisites: []", "prerequisites: [a, [b]]", "prerequisites", "item 2"),
    ("course.md", "prerequisites: []", "prerequisites: [true]", "prerequisites", "item 1"),
    ("course.md", "prerequisites: []", "practicals: bill", "practicals", "must be a list of scenario ids"),
    ("course.md", "prerequisites: []", "practicals: [Bill Went Up]", "practicals", "is not an id"),
    ("course.md", "star_level: 0", "star_level: 1.5", "star_level", "must be a whole number"),
    ("course.md", "star_level: 0", "star_level: '1'", "star_level", "must be a whole number"),
    ("course.md", "kind: required", "kind: [required]", "kind", "must be '"),
    ("course.md", "kind: required", "kind: yes", "kind", "must be '"),
    ("course.md", "track: onboarding", "track: onboarding\nminutes: \"5\"", "minutes", "must be a whole number"),
    ("course.md", "track: onboarding", "track: onboarding\nsummary: {a: 1}", "summary", "must be text"),
    ("course.md", "track: onboarding", "track: onboarding\ncustomer_evaluation: yes", "customer_evaluation",
     "must be a number"),
    ("course.md", "track: onboarding", "track: onboarding\ncustomer_evaluation: .nan", "customer_evaluation",
     "must be a number"),
    ("course.md", "slug: demo", "slug: yes", "slug", "must be text"),
    ("lesson", "title: {value}", "title: true", "title", "must be text"),
    ("lesson", "minutes: 3", "minutes: \"5\"", "minutes", "must be a whole number"),
    ("lesson", "minutes: 3", "minutes: 1.5", "minutes", "must be a whole number"),
    ("scenario", "title: {value}", "title: on", "title", "must be text"),
    ("scenario", "minutes: 5", "minutes: \"5\"", "minutes", "must be a whole number"),
    ("scenario", "minutes: 5", "star_level: 1.5", "star_level", "must be a whole number"),
    ("scenario", "pass_percent: 75", "pass_percent: \"75\"", "pass_percent", "must be a number"),
    ("scenario", "    weight: 2", "    weight: \"2\"", "weight", "must be a whole number"),
    ("scenario", "    fatal: true", "    fatal: \"true\"", "fatal", "must be true or false"),
    ("scenario", "      - 回应空泛", "      - true", "level 1", "must be text"),
    ("scenario", "  - key: verify", "  - key: [verify]", "key", "must be text"),
    ("exam.yaml", "title: {value}", "title: false", "title", "must be text"),
    ("exam.yaml", "time_limit_minutes: 15", "time_limit_minutes: \"15\"", "time_limit_minutes",
     "must be a whole number"),
    ("exam.yaml", "pass_percent: 70", "pass_percent: \"70\"", "pass_percent", "must be a number"),
    ("exam.yaml", "pass_percent: 70", "pass_percent: 70\nshuffle_questions: \"yes\"", "shuffle_questions",
     "must be true or false"),
    ("exam.yaml", "pass_percent: 70", "pass_percent: 70\ngrading_method: [highest]", "grading_method",
     "must be '"),
    ("exam.yaml", "pass_percent: 70", "pass_percent: 70\nopens_at: true", "opens_at", "must be a date and time"),
    ("exam.yaml", "    count: 1", "    count: 1.5", "count", "must be a whole number"),
    ("exam.yaml", "    tags: [t]", "    tags: true", "tags", "must be a list of tags"),
    ("exam.yaml", "    tags: [t]", "    tags: [t, [u]]", "tags", "item 2"),
    ("bank", "title: {value}", "title: true", "title", "must be text"),
    ("bank", "    stem: 对吗？", "    stem: no", "stem", "must be text"),
    ("bank", "    answer: true", "    answer: \"true\"", "answer", "must be true or false"),
    ("bank", "    type: truefalse", "    type: [truefalse]", "type", "must be '"),
    ("ladder.yaml", "    title: {value}", "    title: true", "title", "must be text"),
    ("ladder.yaml", "    title: {value}", "    title: 一星\n    min_months_since_hire: \"3\"",
     "min_months_since_hire", "must be a whole number"),
    ("ladder.yaml", "    title: {value}", "    title: 一星\n    min_average_score: yes", "min_average_score",
     "must be a number"),
]


@pytest.mark.parametrize("name, old, new, key, fragment", TYPED)
def test_wrongly_typed_values_name_the_key_and_line(name, old, new, key, fragment):
    path, template, _line, parse = FORMATS[name]
    assert old in template
    text = template.replace(old, new, 1).replace("{value}", "标题")
    lines = text.split("\n")
    wanted = lines.index(new.split("\n")[-1]) + 1  # the line of the wrong value
    errors = parse(text, path)
    named = key if key.startswith("level ") else f"'{key}'"  # a rubric level has no key: "the description of level 1"
    assert any(e.path == path and e.line == wanted and named in e.message and fragment in e.message
               for e in errors), (wanted, [str(e) for e in errors])


def test_plain_numbers_are_accepted_as_text_deliberately():
    path, template, _line, parse = FORMATS["course.md"]
    spec, errors, _doc = parse_course(template.replace("{value}", "2024"), path, "x", 0, ())
    assert errors == [] and spec.title == "2024"


# --- the ways in from the browser and the command line --------------------------------------------

def test_pasted_scenario_alias_bomb_is_refused_at_once(catalog, make_user):
    from lms.practicals.scripts import create_scenario
    from lms.practicals.services import ScenarioInvalid

    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    author = make_user(roles=("trainer",))
    text = SCENARIO.replace("title: 测试场景", BOMB + "\ntitle: 测试场景", 1)
    start = time.perf_counter()
    with pytest.raises(ScenarioInvalid) as caught:
        create_scenario(author=author, slug="bomb", course=course, text=text, now=utcnow())
    assert time.perf_counter() - start < 1
    assert [str(e) for e in caught.value.errors] == [f"bomb.md:2: {NO_ALIASES}"]
    assert db.session.scalar(select(func.count()).select_from(Scenario)) == 0


@pytest.mark.parametrize("value", ["!!binary aGVsbG8=", "[" * 1000, "9" * 5000])
def test_pasted_scenario_hostile_values_are_refused(catalog, make_user, value):
    from lms.practicals.scripts import create_scenario
    from lms.practicals.services import ScenarioInvalid

    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    with pytest.raises(ScenarioInvalid) as caught:
        create_scenario(author=make_user(roles=("trainer",)), slug="hostile", course=course,
                        text=SCENARIO.replace("title: 测试场景", f"title: {value}", 1), now=utcnow())
    assert [e.line for e in caught.value.errors] == [2]


def test_uploaded_bank_alias_bomb_is_refused_at_once(app):
    from lms.banks.services import parse_upload

    path, template, line, _parse = FORMATS["bank"]
    data = template.replace("title: {value}", BOMB + "\ntitle: 题库").encode("utf-8")
    start = time.perf_counter()
    upload = parse_upload(data, "bomb.yaml")
    assert time.perf_counter() - start < 1
    assert upload.spec is None
    assert [str(e) for e in upload.errors] == [f"bomb.yaml:{line}: {NO_ALIASES}"]


def test_sync_check_with_an_alias_bomb_exits_non_zero_quickly(app, course_root):
    write_course(course_root, "0-01-a", slug="a", extra=BOMB + "\n")
    banks = course_root.parent / "question_banks"
    banks.mkdir(exist_ok=True)
    (banks / "b.yaml").write_text(FORMATS["bank"][1].replace("title: {value}", "title: t\n" + BOMB),
                                  encoding="utf-8")
    start = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["sync", "--check"])
    assert time.perf_counter() - start < 5
    assert result.exit_code != 0
    assert f"courses/0-01-a/course.md:9: {NO_ALIASES}" in result.output
    assert f"question_banks/b.yaml:3: {NO_ALIASES}" in result.output
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 0
