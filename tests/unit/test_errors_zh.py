"""Every problem a person can be shown, from every parser and importer, reads in Chinese in the
Chinese interface: each error path renders in a zh-CN request and may keep no English word but the
file's own tokens (quoted keys and values, file names, format names, YAML's true/false).

Each case also renders in English and must contain its English fragment, so a case cannot pass by
producing some other problem, or none."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest
from openpyxl import Workbook

from lms.content.aiken import parse_aiken
from lms.content.bank_sheets import parse_sheet
from lms.content.banks import parse_bank, read_text
from lms.content.courses import load_course_tree, parse_course, parse_lesson
from lms.content.errors import ContentError, ContentInvalid, Message
from lms.content.exams import PoolSpec, _pool_short, apply_exams, parse_exam
from lms.content.gift import parse_gift
from lms.content.moodle_xml import parse_moodle_xml
from lms.content.scenarios import parse_scenario
from lms.content.spreadsheets import ImportInvalid, RowError, SpreadsheetError, read_table
from lms.content.yaml_loader import YamlProblem, load
from lms.extensions import db
from lms.records.ladder_file import parse_ladder
from tests.conftest import write_course
from tests.practicals_support import SCENARIO

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}

# What a Chinese message may keep in Latin letters: what the author typed or reads in the file.
KEPT_WORDS = {"true", "false", "yes", "no", "on", "off", "null",  # YAML's own words
              "gift", "aiken", "moodle", "xml", "csv", "xlsx", "yaml", "utf", "gbk", "html", "dtd", "doctype",
              "cdata", "answer", "yyyy", "markdown", "excel"}
KEPT = [
    re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|`[^`]*`"),  # quoted keys, values and syntax: 'title', '## 情境'
    re.compile(r"（[A-Za-z_]+）"),  # the key after its name in words: 标题（title）
    re.compile(r"\[[^\]\n]*\]|\{[^}\n]*\}|<[^>\n]*>"),  # syntax: [项, 匹配项], {…}, <quiz>, <标题>
    re.compile(r"[A-Za-z0-9_*\-]*[./\\][A-Za-z0-9_*\-./\\]+"),  # file names and paths: courses/a/course.md
    re.compile(r"%[^%\s]*%|&[a-z]+;"),  # GIFT's weights (%50%), XML's entities (&amp;)
]


def english_words(text: str) -> list[str]:
    for pattern in KEPT:
        text = pattern.sub(" ", text)
    return [word for word in re.findall(r"[A-Za-z]{3,}", text) if word.lower() not in KEPT_WORDS]


def shown(problem) -> str:
    """A problem as a page shows it: a ContentError as its sentence, anything else as text."""
    if isinstance(problem, ContentError):
        return problem.sentence()
    if isinstance(problem, RowError):
        return str(problem.message)
    return str(problem)


def errors(result):
    """The problems of whatever a parser returns."""
    if isinstance(result, tuple):  # (spec, errors) or (spec, errors, document)
        return result[1]
    if hasattr(result, "errors"):  # ParsedBank, YamlFile, Document
        return list(result.errors) + list(getattr(result, "warnings", []))
    return result


# --- the files ----------------------------------------------------------------------------------

COURSE = ("---\nslug: demo\ntitle: 演示\nstar_level: 0\nkind: required\ntrack: onboarding\nprerequisites: []\n"
          "---\n介绍\n")
LESSON = "---\ntitle: 第一课\nminutes: 3\n---\n正文\n"
EXAM = ("slug: final-exam\ntitle: 结业考试\ntime_limit_minutes: 15\npass_percent: 70\ngrading_method: average\n"
        "review_policy: immediately\npools:\n  - bank: kb\n    tags: [开场白]\n    count: 2\n")
BANK = ("slug: kb\ntitle: 题库\nquestions:\n"
        "  - id: q1\n    type: single\n    stem: 选哪个？\n    options:\n      - {text: 甲, correct: true}\n"
        "      - {text: 乙}\n")
LADDER = "levels:\n  1:\n    title: 一星坐席\n    min_average_score: 80\n"


def course(old: str = "", new: str = ""):
    return parse_course(COURSE.replace(old, new, 1), "courses/a/course.md", "a", 0, ())


def lesson(text: str):
    return parse_lesson(text, "courses/a/01-one.md", 0, "one")


def exam(old: str = "", new: str = ""):
    return parse_exam(EXAM.replace(old, new, 1), "courses/a/exam.yaml", course_slug="demo", known_banks={"kb"})


def scenario(old: str = "", new: str = "", slug: str = "call"):
    text = SCENARIO.replace(old, new, 1)
    assert text != SCENARIO or not old
    return parse_scenario(text, "courses/a/scenarios/call.md", slug)


def bank(text: str):
    return parse_bank(text, "question_banks/kb.yaml")


def question(body: str):
    """A bank with one question whose keys are `body` (indented under '- ')."""
    return bank("slug: kb\ntitle: 题库\nquestions:\n  - " + body.replace("\n", "\n    ") + "\n")


def sheet(text: str, name: str = "bank.csv"):
    return parse_sheet(name, text.encode("utf-8"), "uploads/" + name)


def yaml_problem(text: str):
    try:
        load(text)
    except YamlProblem as problem:
        return [problem.message]
    return []


def workbook_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_problem(name: str, data: bytes):
    try:
        read_table(name, data, max_rows=2)
    except SpreadsheetError as problem:
        return [problem.args[0]]
    return []


def unreadable(data: bytes):
    found: list[ContentError] = []
    read_text(data, "question_banks/kb.yaml", found)
    return found


SCENARIO_STEP = "## 步骤：结束"
CASES = [
    # front matter and lessons
    ("lesson-no-front-matter", lambda: lesson("title: x\n"), "must start with a '---' line"),
    ("lesson-front-matter-not-closed", lambda: lesson("---\ntitle: x\nminutes: 3\n"), "never closed"),
    ("lesson-bad-yaml", lambda: lesson("---\ntitle: x\nminutes: [3\n---\nbody\n"), "not valid YAML"),
    ("lesson-key-twice", lambda: lesson("---\ntitle: x\nminutes: 3\ntitle: y\n---\nbody\n"),
     "cannot be given twice"),
    ("lesson-minutes-not-a-number", lambda: lesson("---\ntitle: x\nminutes: many\n---\nbody\n"),
     "must be a whole number"),
    ("lesson-minutes-missing", lambda: lesson("---\ntitle: x\n---\nbody\n"), "('minutes') must be given"),
    ("lesson-unknown-key", lambda: lesson("---\ntitle: x\nminutes: 3\ncolour: red\n---\nbody\n"),
     "unknown key 'colour'"),
    ("lesson-no-body", lambda: lesson("---\ntitle: x\nminutes: 3\n---\n\n"), "no text after its front matter"),
    ("lesson-not-a-mapping", lambda: lesson("---\n- a\n- b\n---\nbody\n"), "must be a list of 'key: value' lines"),
    ("lesson-title-not-text", lambda: lesson("---\ntitle: [a]\nminutes: 3\n---\nbody\n"), "must be text"),
    ("lesson-title-a-yes", lambda: lesson("---\ntitle: no\nminutes: 3\n---\nbody\n"), "yes, no, on and off"),
    ("lesson-title-a-date", lambda: lesson("---\ntitle: 2024-01-01\nminutes: 3\n---\nbody\n"), "the date"),
    ("lesson-title-too-long", lambda: lesson(LESSON.replace("第一课", "长" * 201)), "longer than 200"),
    # courses
    ("course-star-level", lambda: course("star_level: 0", "star_level: 6"), "whole number from 0 to 5"),
    ("course-kind", lambda: course("kind: required", "kind: optional"), "'required' or 'elective'"),
    ("course-type", lambda: course("kind: required", "kind: required\ntype: fun"), "the course type ('type') must be"),
    ("course-slug", lambda: course("slug: demo", "slug: Bad Slug"), "may hold only lowercase"),
    ("course-prerequisites-not-a-list", lambda: course("prerequisites: []", "prerequisites: basics"),
     "must be a list of course ids"),
    ("course-prerequisite-not-an-id", lambda: course("prerequisites: []", "prerequisites: [Bad One]"),
     "is not an id"),
    ("course-prerequisite-item", lambda: course("prerequisites: []", "prerequisites: [[a]]"), "item 1 is"),
    ("course-refresher-needs-validity", lambda: course("track: onboarding", "track: refresher"),
     "a refresher course needs"),
    ("course-validity-only-refresher", lambda: course("prerequisites: []", "prerequisites: []\nvalid_months: 12"),
     "for refresher courses only"),
    ("course-own-prerequisite", lambda: course("prerequisites: []", "prerequisites: [demo]"),
     "its own prerequisite"),
    ("course-practical-twice", lambda: course("prerequisites: []", "prerequisites: []\npracticals: [a, a]"),
     "named twice"),
    ("course-evaluation-above", lambda: course("prerequisites: []", "prerequisites: []\ncustomer_evaluation: 0"),
     "above 0 and up to 100"),
    # exams
    ("exam-not-a-mapping", lambda: exam("slug: final-exam", "- a"), "not valid YAML"),
    ("exam-a-list", lambda: parse_exam("- a\n- b\n", "courses/a/exam.yaml", course_slug="demo"),
     "an exam file is a list"),
    ("exam-time-limit", lambda: exam("time_limit_minutes: 15", "time_limit_minutes: 0"), "from 1 to 600"),
    ("exam-pass-mark", lambda: exam("pass_percent: 70", "pass_percent: 170"), "a number from 0 to 100"),
    ("exam-grading-method", lambda: exam("grading_method: average", "grading_method: best"),
     "'highest', 'average', 'first', or 'last'"),
    ("exam-reserved-slug", lambda: exam("slug: final-exam", "slug: manage"), "is reserved"),
    ("exam-pools-missing", lambda: parse_exam("slug: x\ntitle: 考\ntime_limit_minutes: 5\npass_percent: 5\n",
                                              "courses/a/exam.yaml", course_slug="demo"),
     "the question pools ('pools') must be given"),
    ("exam-pools-empty", lambda: exam("pools:\n  - bank: kb\n    tags: [开场白]\n    count: 2\n", "pools: []\n"),
     "must be a list of pools"),
    ("exam-pool-not-a-mapping", lambda: exam("  - bank: kb\n    tags: [开场白]\n    count: 2\n", "  - kb\n"),
     "each pool has"),
    ("exam-pool-without-bank", lambda: exam("  - bank: kb\n", "  - colour: kb\n"), "names its question bank"),
    ("exam-pool-unknown-key", lambda: exam("    count: 2\n", "    count: 2\n    weight: 5\n"),
     "unknown key 'weight' in a pool"),
    ("exam-pool-tags", lambda: exam("    tags: [开场白]", "    tags: {a: 1}"), "must be a list of tags"),
    ("exam-pool-count", lambda: exam("    count: 2", "    count: -2"), "from 1 to 200"),
    ("exam-unknown-bank", lambda: exam("  - bank: kb", "  - bank: ghost"), "unknown question bank"),
    ("exam-opens-at", lambda: exam("pools:", "opens_at: someday\npools:"), "must be a date and time"),
    ("exam-closes-before-opens", lambda: exam("pools:", "opens_at: 2027-02-01 09:00\ncloses_at: 2027-01-01 09:00\n"
                                                        "pools:"), "must come after"),
    ("exam-shuffle-not-a-flag", lambda: exam("pools:", "shuffle_questions: \"yes\"\npools:"),
     "must be true or false"),
    ("exam-key-twice-nested", lambda: exam("    count: 2\n", "    count: 2\n    count: 3\n"), "cannot be given twice"),
    ("exam-pool-short", lambda: [_pool_short(PoolSpec("kb", ("开场白",), 9, 3), 6)], "but the bank 'kb' has 6"),
    ("exam-pool-short-one", lambda: [_pool_short(PoolSpec("kb", (), 1, 3), 0)], "asks for 1 question but"),
    # scenarios (the scenario editor shows these)
    ("scenario-unknown-key", lambda: scenario("minutes: 5", "minutes: 5\ncolour: red"), "unknown key 'colour'"),
    ("scenario-pass-mark-missing", lambda: scenario("pass_percent: 75\n", ""), "the percentage needed to pass"),
    ("scenario-pass-mark", lambda: scenario("pass_percent: 75", "pass_percent: 120"), "above 0 and up to 100"),
    ("scenario-criteria-missing", lambda: scenario("criteria:\n", "rubric:\n"), "a list of rubric criteria"),
    ("scenario-criterion-not-a-mapping", lambda: scenario("  - key: escalate\n", "  - escalate\n  - key: x\n"),
     "criterion 3 must be a list"),
    ("scenario-criterion-weight", lambda: scenario("    weight: 2", "    weight: heavy"), "from 1 to 100"),
    ("scenario-criterion-weight-missing", lambda: scenario("    weight: 2\n", ""), "needs the weight"),
    ("scenario-criterion-fatal", lambda: scenario("    fatal: true", "    fatal: yes please"), "true or false"),
    ("scenario-criterion-levels", lambda: scenario("      - 未核实\n      - 已核实\n", "      - 未核实\n"),
     "a list of 2 to 6 descriptions"),
    ("scenario-criterion-id-twice", lambda: scenario("  - key: escalate", "  - key: empathy"), "is also used by"),
    ("scenario-criterion-id", lambda: scenario("  - key: verify", "  - key: Verify_Me"), "may hold only"),
    ("scenario-criterion-unknown-key", lambda: scenario("    na: true", "    na: true\n    colour: red"),
     "in a criterion"),
    ("scenario-level-empty", lambda: scenario("      - 回应空泛", "      - ''"), "the description of level 1"),
    ("scenario-everything-na", lambda: parse_scenario(SCENARIO.replace("    weight: 2\n", "    weight: 2\n    na: true\n")
                                                      .replace("    fatal: true\n", "    fatal: true\n    na: true\n"),
                                                      "s.md", "call"), "nothing could be scored"),
    ("scenario-unknown-section", lambda: scenario("## 情境", "## 背景故事"), "unknown section"),
    ("scenario-unknown-part", lambda: scenario("### 常见错误", "### 注意事项"), "unknown step part"),
    ("scenario-part-twice", lambda: scenario("### 好的做法\n\n先回应情绪。",
                                             "### 好的做法\n\n先回应情绪。\n\n### 好的做法\n\n再说一遍。"),
     "is given twice in this step"),
    ("scenario-text-before-sections", lambda: scenario("## 客户画像", "开头的闲话\n\n## 客户画像"),
     "text before the first section"),
    ("scenario-text-outside-parts", lambda: scenario("## 步骤：开场\n\n", "## 步骤：开场\n\n放错地方\n\n"),
     "must sit under one of its '###' parts"),
    ("scenario-phrasing-not-a-list", lambda: scenario("- 让您久等了，非常抱歉。", "让您久等了，非常抱歉。"),
     "as a '- ' list item"),
    ("scenario-empty-list-item", lambda: scenario("- 让您久等了，非常抱歉。", "- 让您久等了，非常抱歉。\n- "),
     "is empty"),
    ("scenario-empty-line", lambda: scenario("### 客户（生气）\n\n你们怎么又断网了！", "### 客户（生气）\n"),
     "the customer's line is empty"),
    ("scenario-no-calm-line", lambda: scenario("### 客户（平静）\n\n你好，我的网断了。\n\n", ""), "calm line"),
    ("scenario-no-good-practice", lambda: scenario("### 好的做法\n\n先回应情绪。\n\n", ""), "### 好的做法"),
    ("scenario-no-phrasings", lambda: scenario("### 参考话术\n\n- 让您久等了，非常抱歉。\n", ""), "### 参考话术"),
    ("scenario-section-twice", lambda: scenario("## 情境", "## 客户画像\n\n又一个。\n\n## 情境"), "is given twice"),
    ("scenario-section-empty", lambda: scenario("第三次来电。", ""), "is empty"),
    ("scenario-no-situation", lambda: scenario("## 情境\n\n第三次来电。\n\n", ""), "needs a section"),
    ("scenario-no-steps", lambda: parse_scenario(SCENARIO.split("## 步骤")[0], "s.md", "call"),
     "at least one section"),
    ("scenario-too-many-steps", lambda: parse_scenario(
        SCENARIO + "".join(f"\n## 步骤：第{n}步\n\n### 客户（平静）\n\n嗯。\n\n### 好的做法\n\n听。\n\n### 参考话术\n\n- 好的。\n"
                           for n in range(12)), "s.md", "call"), "at most 12"),
    ("scenario-step-title-too-long", lambda: scenario("## 步骤：开场", "## 步骤：" + "长" * 201), "longer than 200"),
    ("scenario-bad-slug", lambda: scenario(slug="Bad Slug"), "the file name without .md"),
    # the star ladder
    ("ladder-no-levels", lambda: parse_ladder("rules: {}\n", "courses/ladder.yaml"), "holds one key"),
    ("ladder-level-not-a-number", lambda: parse_ladder("levels:\n  high:\n    title: x\n", "courses/ladder.yaml"),
     "must be a whole number from 0 to 5"),
    ("ladder-rules-not-a-mapping", lambda: parse_ladder("levels:\n  1: 一星\n", "courses/ladder.yaml"),
     "give its rules"),
    ("ladder-title-missing", lambda: parse_ladder("levels:\n  1:\n    min_average_score: 80\n", "courses/ladder.yaml"),
     "('title') must be given"),
    ("ladder-score", lambda: parse_ladder(LADDER.replace("80", "yes"), "courses/ladder.yaml"), "must be a number"),
    # the YAML reader
    ("yaml-alias", lambda: yaml_problem("a: &x 1\nb: *x\n"), "anchors and aliases"),
    ("yaml-merge", lambda: yaml_problem("a: {b: 1}\nc:\n  <<: {b: 2}\n"), "'<<' merges"),
    ("yaml-tag", lambda: yaml_problem("a: !!binary aGk=\n"), "is not allowed in content files"),
    ("yaml-long-number", lambda: yaml_problem("a: " + "1" * 40 + "\n"), "digits"),
    ("yaml-bad-date", lambda: yaml_problem("a: 2024-02-31\n"), "is not a real date"),
    ("yaml-too-deep", lambda: yaml_problem("a: " + "[" * 60 + "]" * 60 + "\n"), "nested more than"),
    ("yaml-mapping-here", lambda: yaml_problem("a: b: c\n"), "is not allowed here"),
    ("yaml-expected-key", lambda: yaml_problem("a: 'b'c\n"), "a key was expected"),
    ("yaml-unclosed-list", lambda: yaml_problem("a: [1\n"), "is not closed"),
    ("yaml-unclosed-mapping", lambda: yaml_problem("a: {b: 1\n"), "is not closed"),
    ("yaml-list-item-expected", lambda: yaml_problem("- a\nb: 1\n"), "a list item"),
    ("yaml-unclosed-quote", lambda: yaml_problem("a: 'x\n"), "a quote is missing"),
    ("yaml-tab", lambda: yaml_problem("\tb: 1\n"), "cannot start a value"),
    ("yaml-tab-in-block", lambda: yaml_problem("a: >\n x\n\tb\n"), "indent with spaces"),
    ("yaml-escape", lambda: yaml_problem('a: "\\q"\n'), "unknown escape"),
    ("yaml-second-document", lambda: yaml_problem("a: b\n---\nc: d\n"), "second document"),
    ("yaml-control-character", lambda: yaml_problem("a: \x07\n"), "control character"),
    ("yaml-unhashable-key", lambda: yaml_problem("? [a]\n: 1\n"), "a key must be a plain name"),
    # native bank files and the question types' own checks
    ("bank-not-a-mapping", lambda: bank("- a\n- b\n"), "a bank file is a list"),
    ("bank-unknown-key", lambda: bank(BANK + "colour: red\n"), "unknown key 'colour'"),
    ("bank-slug", lambda: bank(BANK.replace("slug: kb", "slug: Bad Slug")), "may hold only"),
    ("bank-reserved-slug", lambda: bank(BANK.replace("slug: kb", "slug: new")), "is reserved"),
    ("bank-title-missing", lambda: bank(BANK.replace("title: 题库\n", "")), "('title') must be given"),
    ("bank-questions-not-a-list", lambda: bank("slug: kb\ntitle: 题库\nquestions: {a: 1}\n"),
     "must be a list of questions"),
    ("bank-bad-yaml", lambda: bank("slug: [kb\n"), "not valid YAML"),
    ("bank-key-twice", lambda: bank(BANK.replace("title: 题库\n", "title: 题库\ntitle: 又一个\n")),
     "cannot be given twice"),
    ("question-not-a-mapping", lambda: bank("slug: kb\ntitle: 题库\nquestions:\n  - 一道题\n"), "each question is"),
    ("question-id-missing", lambda: question("type: essay\nstem: 题"), "('id') must be given"),
    ("question-id", lambda: question("id: Q 1\ntype: essay\nstem: 题"), "like ch-001"),
    ("question-id-twice", lambda: bank(BANK + "  - id: q1\n    type: essay\n    stem: 又一题\n"), "is used twice"),
    ("question-type-missing", lambda: question("id: q1\nstem: 题"), "('type') must be given"),
    ("question-type", lambda: question("id: q1\ntype: ranking\nstem: 题"), "'single', 'multi'"),
    ("question-type-a-list", lambda: question("id: q1\ntype: [essay]\nstem: 题"), "'single', 'multi'"),
    ("question-key-of-another-type", lambda: question("id: q1\ntype: essay\nstem: 题\nanswer: true"),
     "does not take"),
    ("question-unknown-key", lambda: question("id: q1\ntype: essay\nstem: 题\ncolour: red"), "unknown key"),
    ("question-format", lambda: question("id: q1\ntype: essay\nstem: 题\nformat: rtf"), "'markdown', 'moodle'"),
    ("question-stem-missing", lambda: question("id: q1\ntype: essay"), "('stem') must be given"),
    ("question-stem-not-text", lambda: question("id: q1\ntype: essay\nstem: [a, b]"), "must be text"),
    ("question-stem-too-long", lambda: question("id: q1\ntype: essay\nstem: " + "长" * 20_001), "longer than"),
    ("question-tags", lambda: question("id: q1\ntype: essay\nstem: 题\ntags: 流程"), "must be a list, like"),
    ("question-tag-empty", lambda: question("id: q1\ntype: essay\nstem: 题\ntags: [a, '']"), "item 2 of"),
    ("question-tag-too-long", lambda: question("id: q1\ntype: essay\nstem: 题\ntags: [" + "长" * 51 + "]"),
     "is longer than 50"),
    ("question-difficulty", lambda: question("id: q1\ntype: essay\nstem: 题\ndifficulty: 9"), "1 (easy) to 5"),
    ("question-points", lambda: question("id: q1\ntype: essay\nstem: 题\npoints: 0"), "above 0 and at most"),
    ("question-title-too-long", lambda: question("id: q1\ntype: essay\nstem: 题\ntitle: " + "长" * 256),
     "longer than 255"),
    ("options-not-a-list", lambda: question("id: q1\ntype: single\nstem: 题\noptions: 对"), "a list of options"),
    ("option-not-a-mapping", lambda: question("id: q1\ntype: single\nstem: 题\noptions: [甲, 乙]"),
     "must be 'text: ...'"),
    ("option-unknown-key", lambda: question("id: q1\ntype: single\nstem: 题\noptions:\n  - {text: 甲, correct: true, "
                                            "colour: red}\n  - {text: 乙}"), "in an option"),
    ("option-text-missing", lambda: question("id: q1\ntype: single\nstem: 题\noptions:\n  - {correct: true}\n"
                                             "  - {text: 乙}"), "('text') must be given"),
    ("option-correct-not-a-flag", lambda: question("id: q1\ntype: single\nstem: 题\noptions:\n  - {text: 甲, "
                                                   "correct: maybe}\n  - {text: 乙}"), "true or false"),
    ("option-weight", lambda: question("id: q1\ntype: multi\nstem: 题\noptions:\n  - {text: 甲, weight: 150}\n"
                                       "  - {text: 乙, weight: 0}"), "from -100 to 100"),
    ("options-weight-and-correct", lambda: question("id: q1\ntype: single\nstem: 题\noptions:\n  - {text: 甲, "
                                                    "weight: 100}\n  - {text: 乙, correct: true}"), "not both"),
    ("single-no-right-option", lambda: question("id: q1\ntype: single\nstem: 题\noptions:\n  - {text: 甲}\n"
                                                "  - {text: 乙}"), "fully right"),
    ("single-one-option", lambda: question("id: q1\ntype: single\nstem: 题\noptions:\n  - {text: 甲, correct: true}"),
     "at least two options"),
    ("multi-weights-sum", lambda: question("id: q1\ntype: multi\nstem: 题\noptions:\n  - {text: 甲, weight: 50}\n"
                                           "  - {text: 乙, weight: 30}"), "add up to 80%"),
    ("too-many-options", lambda: question("id: q1\ntype: single\nstem: 题\noptions:\n"
                                          + "".join(f"  - {{text: 选项{n}, correct: {'true' if n == 0 else 'false'}}}\n"
                                                    for n in range(25)).rstrip("\n")), "at most 24 options"),
    ("truefalse-answer", lambda: question("id: q1\ntype: truefalse\nstem: 题\nanswer: maybe"), "true or false"),
    ("fill-answers-missing", lambda: question("id: q1\ntype: fill\nstem: 题"), "a list of accepted answers"),
    ("fill-tolerance", lambda: question("id: q1\ntype: fill\nstem: 题\nanswers: [3]\ntolerance: wide"),
     "at least 0"),
    ("fill-answer-weight", lambda: question("id: q1\ntype: fill\nstem: 题\nanswers:\n  - 二十四\n"
                                            "  - {answer: 二十, weight: 150}"), "the weight of an answer"),
    ("fill-answer-unknown-key", lambda: question("id: q1\ntype: fill\nstem: 题\nanswers:\n  - {answer: 二十, "
                                                 "colour: red}"), "in an answer"),
    ("fill-answer-margin", lambda: question("id: q1\ntype: fill\nstem: 题\nanswers:\n  - {answer: 3, "
                                            "tolerance: wide}"), "at least 0"),
    ("fill-answer-empty", lambda: question("id: q1\ntype: fill\nstem: 题\nanswers: [a, '']"), "item 2 of"),
    ("fill-numbers-with-tolerance", lambda: question("id: q1\ntype: fill\nstem: 题\nanswers: [二十四]\ntolerance: 1"),
     "every answer must be a number"),
    ("fill-no-full-answer", lambda: question("id: q1\ntype: fill\nstem: 题\nanswers:\n  - {answer: 二十, weight: 50}"),
     "must be worth 100%"),
    ("matching-pairs-missing", lambda: question("id: q1\ntype: matching\nstem: 题"), "[item, match] pairs"),
    ("matching-pair", lambda: question("id: q1\ntype: matching\nstem: 题\npairs: [[甲, 乙], [丙]]"),
     "pair 2 must be"),
    ("matching-one-pair", lambda: question("id: q1\ntype: matching\nstem: 题\npairs: [[甲, 乙]]"),
     "at least two pairs"),
    ("matching-distractor-repeats", lambda: question("id: q1\ntype: matching\nstem: 题\npairs: [[甲, 乙], [丙, 丁]]\n"
                                                     "distractors: [乙]"), "must differ"),
    ("bank-not-text", lambda: unreadable(b"slug: kb\n\xff\xfe\xfd\x80\x81"), "neither UTF-8 nor GBK"),
    # GIFT
    ("gift-title-not-closed", lambda: parse_gift("::标题 题目{T}\n", "q.gift"), "never closed with '::'"),
    ("gift-brace-not-opened", lambda: parse_gift("题目}\n", "q.gift"), "without its '{'"),
    ("gift-brace-not-closed", lambda: parse_gift("题目{=甲 ~乙\n", "q.gift"), "is never closed"),
    ("gift-brace-inside", lambda: parse_gift("题目{=甲 {~乙}\n", "q.gift"), "a second '{'"),
    ("gift-two-answer-blocks", lambda: parse_gift("题目{T} 又{F}\n", "q.gift"), "only one {…} answer block"),
    ("gift-no-question-text", lambda: parse_gift("{T}\n", "q.gift"), "no text before its answers"),
    ("gift-points", lambda: parse_gift("// [points:lots]\n题目{T}\n", "q.gift"), "[points:lots]"),
    ("gift-difficulty", lambda: parse_gift("// [difficulty:9]\n题目{T}\n", "q.gift"), "[difficulty:9]"),
    ("gift-weight", lambda: parse_gift("题目{~%half%甲 =乙}\n", "q.gift"), "is not a percent"),
    ("gift-empty-answer", lambda: parse_gift("题目{= ~乙}\n", "q.gift"), "an empty answer"),
    ("gift-no-full-marks", lambda: parse_gift("题目{~甲 ~乙}\n", "q.gift"), "add up to 0%"),
    ("gift-range", lambda: parse_gift("题目{#3..x}\n", "q.gift"), "not a range"),
    ("gift-margin", lambda: parse_gift("题目{#3:x}\n", "q.gift"), "with its margin"),
    ("gift-not-a-number", lambda: parse_gift("题目{#三}\n", "q.gift"), "is not a number"),
    ("gift-matching", lambda: parse_gift("题目{=甲 =丙 -> 丁 =戊 -> 己}\n", "q.gift"), "'=item -> match'"),
    ("gift-matching-empty", lambda: parse_gift("题目{=甲 -> =丙 -> 丁 =戊 -> 己}\n", "q.gift"), "after '->'"),
    ("gift-id-reused", lambda: parse_gift("// [id:q1]\n甲{T}\n\n// [id:q1]\n乙{F}\n", "q.gift"), "is already used"),
    ("gift-description", lambda: parse_gift("::说明:: 只是说明\n", "q.gift"), "instruction text"),
    ("gift-truefalse-feedback", lambda: parse_gift("题目{T#对#错}\n", "q.gift"), "true/false feedback"),
    ("gift-odd-grade", lambda: parse_gift("题目{=甲 ~%37%乙}\n", "q.gift"), "a grade Moodle does not offer"),
    ("gift-fill-feedback", lambda: parse_gift("____ 开门{=十点#好}\n", "q.gift"), "feedback on a fill-in answer"),
    ("gift-numeric-feedback", lambda: parse_gift("题目{#3#好}\n", "q.gift"), "feedback on a numeric answer"),
    # Aiken
    ("aiken-answer-alone", lambda: parse_aiken("ANSWER: A\n", "q.txt"), "without a question above it"),
    ("aiken-one-option", lambda: parse_aiken("题目？\nA. 甲\nANSWER: A\n", "q.txt"), "at least two options"),
    ("aiken-answer-letter", lambda: parse_aiken("题目？\nA. 甲\nB. 乙\nANSWER: C\n", "q.txt"), "not 'C'"),
    ("aiken-order", lambda: parse_aiken("题目？\nA. 甲\nC. 乙\nANSWER: A\n", "q.txt"), "expected B, found C"),
    ("aiken-no-answer-after-options", lambda: parse_aiken("题目？\nA. 甲\nB. 乙\n\n又一题？\n", "q.txt"),
     "no 'ANSWER: X' line after them"),
    ("aiken-no-answer", lambda: parse_aiken("题目？\n", "q.txt"), "has no 'ANSWER: X' line"),
    ("aiken-long-stem", lambda: parse_aiken("题目\n第二行？\nA. 甲\nB. 乙\nANSWER: A\n", "q.txt"), "spans 2 lines"),
    ("aiken-same-question", lambda: parse_aiken("题？\nA. 甲\nB. 乙\nANSWER: A\n\n题？\nA. 甲\nB. 乙\nANSWER: A\n",
                                                "q.txt"), "the same question"),
    # Moodle XML
    ("xml-mismatched-tag", lambda: parse_moodle_xml(b"<quiz><question></quiz>", "q.xml"), "does not match"),
    ("xml-entity", lambda: parse_moodle_xml(b"<quiz>&nbsp;</quiz>", "q.xml"), "an entity XML does not know"),
    ("xml-unclosed", lambda: parse_moodle_xml(b"<quiz><a", "q.xml"), "is not closed"),
    ("xml-ends-early", lambda: parse_moodle_xml(b"<quiz>", "q.xml"), "ends before"),
    ("xml-junk-after", lambda: parse_moodle_xml(b"<quiz/><x/>", "q.xml"), "follows the end"),
    ("xml-not-xml", lambda: parse_moodle_xml("你好".encode(), "q.xml"), "the text is not XML"),
    ("xml-ampersand", lambda: parse_moodle_xml(b"<quiz>a & b</quiz>", "q.xml"), "does not allow here"),
    ("xml-dtd", lambda: parse_moodle_xml(b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "b">]><quiz/>', "q.xml"),
     "DTD"),
    ("xml-main-element", lambda: parse_moodle_xml(b"<questions/>", "q.xml"), "main element"),
    ("xml-encoding-unknown", lambda: parse_moodle_xml(b'<?xml version="1.0" encoding="klingon"?><quiz/>', "q.xml"),
     "which is unknown"),
    ("xml-not-utf8", lambda: parse_moodle_xml("<quiz>题</quiz>".encode("gb18030"), "q.xml"), "is not UTF-8 text"),
    ("xml-truefalse-answers", lambda: parse_moodle_xml(
        '<quiz><question type="truefalse"><name><text>判断</text></name><questiontext format="html"><text>对吗？'
        '</text></questiontext></question></quiz>'.encode(),
        "q.xml"), "needs its two answers"),
    ("xml-grade", lambda: parse_moodle_xml(
        '<quiz><question type="multichoice"><name><text>选</text></name><questiontext format="html"><text>选哪个？'
        '</text></questiontext><single>true</single><answer fraction="lots"><text>甲</text></answer>'
        '<answer fraction="0"><text>乙</text></answer></question></quiz>'.encode(), "q.xml"), "is not a number"),
    ("xml-skipped-type", lambda: parse_moodle_xml(
        '<quiz><question type="calculated"><name><text>算</text></name><questiontext format="html"><text>算一算'
        '</text></questiontext></question></quiz>'.encode(), "q.xml"), "was skipped"),
    # spreadsheets of questions
    ("sheet-unknown-column", lambda: sheet("type,stem,colour\nessay,题,红\n"), "unknown column 'colour'"),
    ("sheet-missing-column", lambda: sheet("stem\n题\n"), "the column 'type' is missing"),
    ("sheet-no-rows", lambda: sheet("type,stem\n"), "no questions below the header"),
    ("sheet-type", lambda: sheet("type,stem\n排序,题\n"), "is not one of"),
    ("sheet-type-missing", lambda: sheet("type,stem\n,题\n"), "('type') must be given"),
    ("sheet-column-of-another-type", lambda: sheet("type,stem,answers\nessay,题,甲\n"), "leave it empty"),
    ("sheet-option-gap", lambda: sheet("type,stem,option_a,option_b,option_c,correct\nsingle,题,甲,,丙,A\n"),
     "option B is empty"),
    ("sheet-weights-count", lambda: sheet("type,stem,option_a,option_b,weights\nmulti,题,甲,乙,50\n"),
     "give 1 number for 2 options"),
    ("sheet-correct-letter", lambda: sheet("type,stem,option_a,option_b,correct\nsingle,题,甲,乙,C\n"),
     "not one of the options"),
    ("sheet-no-correct", lambda: sheet("type,stem,option_a,option_b\nsingle,题,甲,乙\n"), "say which options"),
    ("sheet-truefalse", lambda: sheet("type,stem,correct\ntruefalse,题,也许\n"), "for a true/false question"),
    ("sheet-pairs", lambda: sheet("type,stem,pairs\nmatching,题,甲=乙|丙\n"), "'item=match|item=match'"),
    ("sheet-id", lambda: sheet("id,type,stem\nBad Id,essay,题\n"), "may hold only"),
    ("sheet-id-twice", lambda: sheet("id,type,stem\na,essay,题\na,essay,又一题\n"), "(first on row 2)"),
    ("table-extension", lambda: table_problem("questions.docx", b"x"), "Unsupported file type"),
    ("table-no-extension", lambda: table_problem("questions", b"x"), "(no extension)"),
    ("table-empty", lambda: table_problem("q.csv", b"  "), "The file is empty"),
    ("table-not-text", lambda: table_problem("q.csv", b"\xff\xfe\xfd\x80\x81"), "neither UTF-8 nor GBK"),
    ("table-workbook-named-csv", lambda: table_problem("q.csv", workbook_bytes([["type"]])), "named .csv"),
    ("table-not-a-workbook", lambda: table_problem("q.xlsx", b"PK not really"), "as an Excel workbook"),
    ("table-no-header", lambda: table_problem("q.csv", b",,\n1,2,3\n"), "must hold the column names"),
    ("table-column-twice", lambda: table_problem("q.csv", b"type,type\n1,2\n"), "appears twice"),
    ("table-too-many-rows", lambda: table_problem("q.csv", b"type\n1\n2\n3\n4\n"), "more than 2 rows"),
    ("sheet-unreadable", lambda: parse_sheet("bank.xlsx", b"PK not really", "uploads/bank.xlsx"),
     "as an Excel workbook"),
]


@pytest.mark.parametrize("make, fragment", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_every_problem_reads_in_chinese(app, make, fragment):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the parsers speak the same on every database: read once per CI run, on SQLite")
    with app.test_request_context(headers=EN):
        english = [shown(problem) for problem in errors(make())]
    assert any(fragment in text for text in english), english
    with app.test_request_context(headers=ZH):
        chinese = [shown(problem) for problem in errors(make())]
    assert chinese
    for text in chinese:
        assert re.search(r"[\u4e00-\u9fff]", text) and english_words(text) == [], (text, english_words(text))


def test_the_sentence_names_the_line_with_a_full_width_colon(app):
    error = ContentError("courses/a/course.md", 12, "标题（title）必须填写")
    row = ContentError("uploads/bank.csv", 3, "x", unit="row")
    with app.test_request_context(headers=ZH):
        assert error.sentence() == "courses/a/course.md 第 12 行：标题（title）必须填写"
        assert row.sentence() == "uploads/bank.csv 第 3 行：x"
    with app.test_request_context(headers=EN):
        assert error.sentence() == "courses/a/course.md, line 12: 标题（title）必须填写"
        assert row.sentence() == "uploads/bank.csv, row 3: x"
    assert str(error) == "courses/a/course.md:12: 标题（title）必须填写"  # the terminal's form


def test_problems_found_outside_a_request_are_translated_when_shown(app):
    """A parser runs where no request is (`lms sync`, a job); its problems speak the reader's language later."""
    _spec, found, _doc = course("star_level: 0", "star_level: 6")
    (problem,) = found
    assert isinstance(problem.message, Message)
    with app.test_request_context(headers=ZH):
        assert "星级（star_level）必须是 0 到 5 之间的整数" in problem.sentence()
    with app.test_request_context(headers=EN):
        assert "the star level ('star_level') must be a whole number from 0 to 5, not 6" in problem.sentence()
    assert str(problem) == ("courses/a/course.md:4: the star level ('star_level') must be a whole number from 0 to 5, "
                            "not 6")  # no request: English, for the command line


def test_values_from_files_are_escaped_in_pages(app):
    from flask import render_template_string

    _spec, found, _doc = course("slug: demo", "slug: <b>x</b>")
    with app.test_request_context(headers=EN):
        html = render_template_string("{% for e in errors %}<li>{{ e }}</li><p>{{ e.message }}</p>{% endfor %}",
                                      errors=found)
    assert "<b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.parametrize("count, english, chinese", [
    (1, "1 problem", "1 个问题"), (3, "3 problems", "3 个问题")])
def test_counts_have_their_plural(app, count, english, chinese):
    problem = ContentInvalid([ContentError("a.md", n, "x") for n in range(count)])
    with app.test_request_context(headers=EN):
        assert str(problem) == english
    with app.test_request_context(headers=ZH):
        assert str(problem) == chinese


# --- what needs the database: importing into it -------------------------------------------------

def test_exam_files_checked_against_the_database_read_in_chinese(app):
    spec, found = exam()
    assert found == []
    with pytest.raises(ContentInvalid) as caught:
        apply_exams(db.session, [spec], NOW)
    with app.test_request_context(headers=EN):
        english = [error.sentence() for error in caught.value.errors]
    assert any("no valid course" in text for text in english) and any("unknown question bank" in text
                                                                      for text in english)
    with app.test_request_context(headers=ZH):
        for error in caught.value.errors:
            assert english_words(error.sentence()) == [], error.sentence()


def test_course_folders_read_in_chinese(app, tmp_path):
    root = tmp_path / "courses"
    write_course(root, "0-01-a", slug="a", prerequisites=["b"])
    write_course(root, "0-02-b", slug="b", prerequisites=["a"])
    write_course(root, "0-03-c", slug="c", prerequisites=["missing"], extra="practicals: [ghost]\n")
    write_course(root, "0-04-d", slug="d", prerequisites=["high"])
    write_course(root, "1-01-high", slug="high", level=1)
    write_course(root, "1-02-dup", slug="high", level=1)
    (root / "0-05-empty").mkdir()
    write_course(root, "0-06-x", slug="x", lessons=())
    bad = write_course(root, "0-07-y", slug="y")
    (bad / "Lesson One.md").write_text(LESSON, encoding="utf-8")
    (bad / "09-latin.md").write_bytes("---\ntitle: ok\nminutes: 2\n---\n\xff\xfe".encode("latin-1"))
    _specs, found = load_course_tree(root)
    with app.test_request_context(headers=EN):
        english = " | ".join(error.sentence() for error in found)
    for fragment in ("form a cycle", "unknown prerequisite", "above this course's", "is already used by",
                     "has no course.md", "no lesson files", "look like 01-some-title.md", "not UTF-8",
                     "unknown scenario 'ghost'"):
        assert fragment in english, fragment
    with app.test_request_context(headers=ZH):
        for error in found:
            assert english_words(error.sentence()) == [], error.sentence()


def rows_of(make) -> list:
    with pytest.raises(ImportInvalid) as caught:
        make()
    return caught.value.errors


def staff_file(text: str):
    from lms.admin.staff_import import import_users

    return lambda: import_users(read_table("staff.csv", text.encode("utf-8")))


STAFF = "employee_no,name,team,hire_date,star_level,roles,mentor_employee_no,preferred_language,email,password\n"
STAFF_CASES = [
    ("staff-missing-column", "employee_no,team\n007,热线\n", "Missing required column: 'name'"),
    ("staff-unknown-column", "employee_no,name,colour\n007,张三,红\n", "Unknown column: 'colour'"),
    ("staff-no-rows", STAFF, "no rows below the header"),
    ("staff-employee-no-missing", STAFF + ",张三,,,,,,,,\n", "employee_no is required"),
    ("staff-employee-no", STAFF + "工号!,张三,,,,,,,,\n", "use 1-32 letters"),
    ("staff-employee-no-twice", STAFF + "007,张三,,,,,,,,\n007,李四,,,,,,,,\n", "is also on row 2"),
    ("staff-name-missing", STAFF + "007,,,,,,,,,\n", "name is required"),
    ("staff-name-too-long", STAFF + "007," + "长" * 101 + ",,,,,,,,\n", "name: at most"),
    ("staff-hire-date", STAFF + "007,张三,,2024-13-45,,,,,,\n", "use YYYY-MM-DD"),
    ("staff-star-level", STAFF + "007,张三,,,9,,,,,\n", "whole number from 0 to 5"),
    ("staff-roles", STAFF + "007,张三,,,,老板,,,,\n", "roles: unknown"),
    ("staff-own-mentor", STAFF + "007,张三,,,,,007,,,\n", "their own mentor"),
    ("staff-mentor-unknown", STAFF + "007,张三,,,,,008,,,\n", "no such account"),
    ("staff-language", STAFF + "007,张三,,,,,,法语,,\n", "use zh_CN or en"),
    ("staff-email", STAFF + "007,张三,,,,,,,不是邮箱,\n", "not an email address"),
    ("staff-password", STAFF + "007,张三,,,,,,,,短\n", "password: at least"),
]


@pytest.mark.parametrize("text, fragment", [case[1:] for case in STAFF_CASES], ids=[case[0] for case in STAFF_CASES])
def test_staff_import_problems_read_in_chinese(app, text, fragment):
    with app.test_request_context(headers=EN):
        english = [str(error.message) for error in rows_of(staff_file(text))]
    assert any(fragment in message for message in english), english
    with app.test_request_context(headers=ZH):
        for error in rows_of(staff_file(text)):
            message = str(error.message)
            assert re.search(r"[\u4e00-\u9fff]", message) and english_words(message) == [], message


EVALUATIONS = "employee_no,month,satisfaction,sample_size,comment\n"
EVALUATION_CASES = [
    ("evaluations-missing-column", "employee_no,satisfaction\n007,92\n", "Missing required column: 'month'"),
    ("evaluations-employee-no-missing", EVALUATIONS + ",2026-10,92,,\n", "employee_no is required"),
    ("evaluations-nobody", EVALUATIONS + "999,2026-10,92,,\n", "no such account"),
    ("evaluations-month-missing", EVALUATIONS + "007,,92,,\n", "month is required"),
    ("evaluations-month", EVALUATIONS + "007,十月,92,,\n", "use YYYY-MM"),
    ("evaluations-month-future", EVALUATIONS + "007,2030-01,92,,\n", "in the future"),
    ("evaluations-month-twice", EVALUATIONS + "007,2026-10,92,,\n007,2026/10,90,,\n", "already has month"),
    ("evaluations-satisfaction-missing", EVALUATIONS + "007,2026-10,,,\n", "satisfaction is required"),
    ("evaluations-satisfaction", EVALUATIONS + "007,2026-10,120,,\n", "use a percentage"),
    ("evaluations-sample-size", EVALUATIONS + "007,2026-10,92,0,\n", "at least 1"),
    ("evaluations-comment", EVALUATIONS + "007,2026-10,92,," + "长" * 2001 + "\n", "comment: at most"),
]


@pytest.mark.parametrize("text, fragment", [case[1:] for case in EVALUATION_CASES],
                         ids=[case[0] for case in EVALUATION_CASES])
def test_evaluation_import_problems_read_in_chinese(app, make_user, text, fragment):
    from lms.evaluations.services import import_evaluations

    trainer = make_user(roles=("trainer",))
    make_user(employee_no="007")

    def make():
        import_evaluations(read_table("e.csv", text.encode("utf-8")), actor=trainer, filename="e.csv", now=NOW)

    with app.test_request_context(headers=EN):
        english = [str(error.message) for error in rows_of(make)]
    assert any(fragment in message for message in english), english
    with app.test_request_context(headers=ZH):
        for error in rows_of(make):
            message = str(error.message)
            assert re.search(r"[\u4e00-\u9fff]", message) and english_words(message) == [], message


PLAN = "target_kind,target,item_kind,item,starts_on,due_on,month\n"
PLAN_CASES = [
    ("plan-missing-column", "target,item\n007,basics-a\n", "Missing required columns"),
    ("plan-target-kind", PLAN + "小组,007,course,basics-a,2027-01-04,2027-01-29,\n", "use 'agent', 'team'"),
    ("plan-target-missing", PLAN + "agent,,course,basics-a,2027-01-04,2027-01-29,\n", "target is required"),
    ("plan-agent", PLAN + "agent,999,course,basics-a,2027-01-04,2027-01-29,\n", "no active agent has"),
    ("plan-team", PLAN + "team,无此组,course,basics-a,2027-01-04,2027-01-29,\n", "no active agent is in"),
    ("plan-level", PLAN + "level,9,course,basics-a,2027-01-04,2027-01-29,\n", "a star level is"),
    ("plan-cohort", PLAN + "cohort,无此批次,course,basics-a,2027-01-04,2027-01-29,\n", "no cohort"),
    ("plan-item-kind", PLAN + "agent,007,课时,basics-a,2027-01-04,2027-01-29,\n", "use 'course', 'exam'"),
    ("plan-item-missing", PLAN + "agent,007,course,,2027-01-04,2027-01-29,\n", "item is required"),
    ("plan-item-unknown", PLAN + "agent,007,exam,无此考试,2027-01-04,2027-01-29,\n", "no exam has"),
    ("plan-start-missing", PLAN + "agent,007,course,basics-a,,2027-01-29,\n", "starts_on is required"),
    ("plan-due", PLAN + "agent,007,course,basics-a,2027-01-04,2027-02-30,\n", "due_on 2027-02-30: use"),
    ("plan-due-before-start", PLAN + "agent,007,course,basics-a,2027-01-29,2027-01-04,\n", "is before starts_on"),
    ("plan-month", PLAN + "agent,007,course,basics-a,2027-01-04,2027-01-29,2027-1\n", "use YYYY-MM"),
]


@pytest.mark.parametrize("text, fragment", [case[1:] for case in PLAN_CASES], ids=[case[0] for case in PLAN_CASES])
def test_plan_import_problems_read_in_chinese(app, catalog, make_user, text, fragment):
    from lms.plans import imports, services

    trainer = make_user(roles=("trainer",))
    make_user(employee_no="007", team="热线一组")
    plan = services.create_plan(trainer, name="年度计划", description="", now=NOW)

    def make():
        imports.import_assignments(trainer, plan, read_table("a.csv", text.encode("utf-8")), NOW)

    with app.test_request_context(headers=EN):
        english = [str(error.message) for error in rows_of(make)]
    assert any(fragment in message for message in english), english
    with app.test_request_context(headers=ZH):
        for error in rows_of(make):
            message = str(error.message)
            assert re.search(r"[\u4e00-\u9fff]", message) and english_words(message) == [], message


# --- the question editor and bank uploads (lms/banks/services.py) --------------------------------

EDITOR_CASES = [
    ("editor-no-right-option", "single", {"stem": "题", "options": [{"text": "甲"}, {"text": "乙"}]}, "fully right"),
    ("editor-one-option", "single", {"stem": "题", "options": [{"text": "甲", "correct": True}]},
     "at least two options"),
    ("editor-weights", "multi", {"stem": "题", "options": [{"text": "甲", "weight": "50"},
                                                         {"text": "乙", "weight": "20"}]}, "add up to 70%"),
    ("editor-weight", "multi", {"stem": "题", "options": [{"text": "甲", "weight": "lots"}, {"text": "乙"}]},
     "is a percent"),
    ("editor-truefalse", "truefalse", {"stem": "题"}, "the answer must be true or false"),
    ("editor-no-answers", "fill", {"stem": "题", "answers": []}, "give at least one accepted answer"),
    ("editor-answer-not-a-number", "fill", {"stem": "题", "answers": ["二十四"], "tolerance": "0.5"},
     "must be a number"),
    ("editor-tolerance", "fill", {"stem": "题", "answers": ["3"], "tolerance": "wide"}, "the tolerance must be"),
    ("editor-one-pair", "matching", {"stem": "题", "pairs": [["甲", "乙"]]}, "at least two pairs"),
    ("editor-pair", "matching", {"stem": "题", "pairs": [["甲", ""], ["丙", "丁"]]}, "pair 1 must be"),
    ("editor-points", "essay", {"stem": "题", "points": "0"}, "the points must be a number"),
    ("editor-difficulty", "essay", {"stem": "题", "difficulty": "9"}, "the difficulty must be"),
    ("editor-no-stem", "essay", {"stem": ""}, "the question text must be given"),
]


@pytest.mark.parametrize("kind, mapping, fragment", [case[1:] for case in EDITOR_CASES],
                         ids=[case[0] for case in EDITOR_CASES])
def test_question_editor_problems_read_in_chinese(app, kind, mapping, fragment):
    """The form names fields in words only: it has no keys."""
    from lms.banks import services

    def problems():
        with pytest.raises(services.QuestionInvalid) as caught:
            services.check_question(dict(mapping), kind, "q-1")
        return [str(problem.message) for problem in caught.value.problems]

    with app.test_request_context(headers=EN):
        english = problems()
    assert any(fragment in message for message in english) and not any("('" in message for message in english), \
        english
    with app.test_request_context(headers=ZH):
        for message in problems():
            assert re.search(r"[\u4e00-\u9fff]", message) and english_words(message) == [], message
            assert not re.search(r"（[a-z_]+）", message)  # no key after the words: a form has none


UPLOAD_CASES = [
    ("upload-unknown-type", b"x", "questions.docx", None, "unknown file type"),
    ("upload-no-bank-id", "题目{T}\n".encode(), "题库.gift", None, "does not make a bank id"),
    ("upload-bank-id", "题目{T}\n".encode(), "q.gift", "Bad Id", "may hold only"),
    ("upload-reserved-bank-id", "题目{T}\n".encode(), "q.gift", "new", "is reserved"),
    ("upload-no-questions", "// 只有注释\n".encode(), "q.gift", "kb", "holds no questions"),
]


@pytest.mark.parametrize("data, filename, bank_slug, fragment", [case[1:] for case in UPLOAD_CASES],
                         ids=[case[0] for case in UPLOAD_CASES])
def test_bank_upload_problems_read_in_chinese(app, data, filename, bank_slug, fragment):
    from lms.banks.services import parse_upload

    found = parse_upload(data, filename, None, bank_slug).errors
    with app.test_request_context(headers=EN):
        assert any(fragment in error.sentence() for error in found), [error.sentence() for error in found]
    with app.test_request_context(headers=ZH):
        for error in found:
            assert english_words(error.sentence()) == [], error.sentence()


def test_a_question_changing_its_type_reads_in_chinese(app):
    from lms.banks.services import import_file

    import_file(BANK.encode(), "kb.yaml", now=NOW)
    changed = BANK.replace("type: single", "type: essay").split("    options:")[0]
    with pytest.raises(ContentInvalid) as caught:
        import_file(changed.encode(), "kb.yaml", now=NOW)
    (error,) = caught.value.errors
    with app.test_request_context(headers=EN):
        assert "is of the type Single choice and cannot become Essay" in error.sentence()
    with app.test_request_context(headers=ZH):
        assert "是单选题，不能改为问答题" in error.sentence() and english_words(error.sentence()) == []


def test_lesson_media_problems_read_in_chinese(app, tmp_path):
    """Media references (lms/content/media.py): every problem a lesson's media can have."""
    from lms.content.media import describe

    root = tmp_path / "courses"
    course = write_course(root, "0-01-m", slug="m", lessons=())
    media = course / "media"
    (media / "calls").mkdir(parents=True)
    (media / "fake.png").write_bytes(b"GIF89a not a png")
    (media / "logo.svg").write_bytes(b"<svg/>")
    (media / "noext").write_bytes(b"x")
    (media / "notes.pdf").write_bytes(b"%PDF")
    (media / "Call.mp3").write_bytes(b"ID3 not really")
    (tmp_path / "secret.png").write_bytes(b"x")
    (media / "link.png").symlink_to(tmp_path / "secret.png")
    targets = ["media/fake.png", "media/logo.svg", "media/noext", "media/notes.pdf", "media/call.mp3", "media/gone.png",
               "../../secret", "/etc/passwd", "media\\a.png", "https://example.com/a.png", "data:image/png;base64,xx",
               "other.png", ""]
    body = "\n\n".join(f"![图]({target})" for target in targets)
    (course / "01-one.md").write_text(f"---\ntitle: 第一课\nminutes: 3\n---\n{body}\n", encoding="utf-8")
    _specs, found = load_course_tree(root)
    extra = [describe("media/a.png", b"\x89PNG", limits={"image": 1, "audio": 1, "video": 1}).problem,
             describe("media/a.mp3", b"x", limits={"image": 1, "audio": 0, "video": 1}).problem,
             describe("media/a.mp4", b"x", limits={"image": 1, "audio": 1, "video": 0}).problem,
             describe("media/a.mp4", b"\x00\x00\x00\x08ftyp").problem]
    with app.test_request_context(headers=EN):
        english = " | ".join([error.sentence() for error in found] + [str(problem) for problem in extra])
    for fragment in ("is not a .png file", ".svg pictures cannot", "has no extension", ".pdf files cannot",
                     "names are case-sensitive", "there is no file 'media/gone.png'", "outside the course folder",
                     "is an absolute path", "write paths with /", "is on another site", "is not a file of the course",
                     "is not in the course's", "has no file name", "outside the media folder is refused",
                     "over the limit of", "for audio", "for videos"):
        assert fragment in english, fragment
    with app.test_request_context(headers=ZH):
        for text in [error.sentence() for error in found] + [str(problem) for problem in extra]:
            assert re.search(r"[\u4e00-\u9fff]", text) and english_words(text) == [], (text, english_words(text))


def test_browser_lesson_id_problems_read_in_chinese(app, catalog, make_user):
    """The course editor's own refusals (lms/authoring/services.py), beside the parser's."""
    from sqlalchemy import select

    from lms.authoring.services import AuthoringInvalid, add_lesson
    from lms.models import Course

    trainer = make_user(roles=("trainer",))
    course = db.session.scalar(select(Course).where(Course.slug == "basics-a"))
    problems = []
    for slug in ("Bad Id!", "one"):
        with pytest.raises(AuthoringInvalid) as caught:
            add_lesson(db.session, trainer, course, slug=slug, title="新课", minutes=3, body="正文。", now=NOW)
        problems.extend(caught.value.problems)
    with app.test_request_context(headers=EN):
        english = [str(problem.message) for problem in problems]
    assert "like first-call" in english[0] and "already uses the id 'one'" in english[1]
    with app.test_request_context(headers=ZH):
        for problem in problems:
            text = str(problem.message)
            # the ids themselves ('one', the example first-call) stay as typed
            assert re.search(r"[\u4e00-\u9fff]", text) and set(english_words(text)) <= {"one", "first", "call"}, text
