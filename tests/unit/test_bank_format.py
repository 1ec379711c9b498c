"""The native bank format: a valid file gives the question types' exact data shapes; every kind of
mistake is reported at its line; the writer's output reads back to the same questions."""
import textwrap

import pytest

from lms.config import PROJECT_ROOT
from lms.content.bank_writer import dump_bank
from lms.content.banks import load_bank_tree, parse_bank
from lms.questions.types import QUESTION_TYPES

PATH = "question_banks/complaint-handling.yaml"

VALID = """\
slug: complaint-handling
title: 投诉处理题库
description: 《投诉处理》课程结业考试题库。
questions:
  - id: ch-001
    type: single
    tags: [流程, 首问负责]
    difficulty: 2
    points: 1
    stem: 客户因同一故障第三次来电，情绪激动。坐席首先应该做什么？
    options:
      - text: 道歉并复述客户的问题，确认理解无误
        correct: true
        feedback: 先确认问题，客户才会感到被重视。
      - text: 告知客户“这不归我管”，直接转维修部门
    explanation: |
      首问负责：先安抚、再确认、后处理。
      **不推诿。**
  - id: ch-002
    type: multi
    stem: 处理投诉时哪些做法正确？
    options:
      - {text: 记录客户诉求并生成工单, weight: 50}
      - {text: 按约定时间回访, weight: 50}
      - {text: 承诺超出权限的赔偿, weight: -100}
  - id: ch-003
    type: truefalse
    stem: 客户情绪激动时可以先挂断电话。
    answer: false
  - id: ch-004
    type: fill
    stem: 一级投诉须在 ____ 小时内回访。
    answers: ["24", 二十四]
  - id: ch-005
    type: fill
    points: 2
    stem: 月费 99 元打八五折约为多少元？
    answers: [84.15]
    tolerance: 0.5
  - id: ch-006
    type: matching
    stem: 将投诉级别与回访时限配对。
    pairs:
      - [一级投诉, 2 小时内]
      - [二级投诉, 24 小时内]
    distractors: [一周内]
  - id: ch-007
    type: essay
    points: 5
    stem: 请简述处理升级投诉的步骤。
    guidance: |
      评分要点：……
"""


def parse(text: str):
    return parse_bank(textwrap.dedent(text), PATH)


def test_valid_bank_gives_the_question_types_data_shapes():
    parsed = parse_bank(VALID, PATH)
    assert parsed.errors == []
    assert (parsed.slug, parsed.title, parsed.description) == ("complaint-handling", "投诉处理题库",
                                                              "《投诉处理》课程结业考试题库。")
    by_key = {spec.key: spec for spec in parsed.questions}
    assert list(by_key) == ["ch-001", "ch-002", "ch-003", "ch-004", "ch-005", "ch-006", "ch-007"]

    single = by_key["ch-001"]
    assert (single.type, single.tags, single.difficulty, single.points) == ("single", ("流程", "首问负责"), 2, 1.0)
    assert single.data == {"options": [
        {"id": "o1", "text": "道歉并复述客户的问题，确认理解无误", "weight": 1.0, "feedback": "先确认问题，客户才会感到被重视。"},
        {"id": "o2", "text": "告知客户“这不归我管”，直接转维修部门", "weight": 0.0, "feedback": ""}]}
    assert single.explanation == "首问负责：先安抚、再确认、后处理。\n**不推诿。**"
    assert single.line == 5
    assert [o["weight"] for o in by_key["ch-002"].data["options"]] == [0.5, 0.5, -1.0]  # percent -> fraction
    assert by_key["ch-003"].data == {"answer": False}
    assert by_key["ch-004"].data == {"answers": ["24", "二十四"]}
    assert by_key["ch-005"].data == {"answers": [84.15], "tolerance": 0.5} and by_key["ch-005"].points == 2.0
    assert by_key["ch-006"].data == {
        "pairs": [{"id": "p1", "left": "一级投诉", "right": "2 小时内"}, {"id": "p2", "left": "二级投诉", "right": "24 小时内"}],
        "distractors": [{"id": "d1", "text": "一周内"}]}
    assert by_key["ch-007"].data == {"guidance": "评分要点：……"} and by_key["ch-007"].points == 5.0
    for spec in parsed.questions:
        assert QUESTION_TYPES[spec.type].validate(spec.data) == []


def test_correct_marks_share_plus_and_minus_one_hundred():
    parsed = parse("""\
        slug: b
        title: t
        questions:
          - id: m
            type: multi
            stem: 选出正确的
            options:
              - {text: 甲, correct: true}
              - {text: 乙, correct: true}
              - {text: 丙, correct: true}
              - {text: 丁}
              - {text: 戊, correct: false}
        """)
    assert parsed.errors == []
    weights = [option["weight"] for option in parsed.questions[0].data["options"]]
    assert weights == [1 / 3, 1 / 3, 1 / 3, -0.5, -0.5]
    assert QUESTION_TYPES["multi"].grade(parsed.questions[0].data, ["o1", "o2", "o3"]).fraction == 1.0


def test_scalars_keep_the_text_their_author_typed():
    parsed = parse("""\
        slug: b
        title: t
        questions:
          - id: a
            type: single
            stem: 是否？
            options:
              - {text: yes, correct: true}
              - {text: 3.50}
          - id: b
            type: fill
            stem: ____
            answers: [3.50, 007, on]
        """)
    assert parsed.errors == []
    assert [o["text"] for o in parsed.questions[0].data["options"]] == ["yes", "3.50"]
    assert parsed.questions[1].data == {"answers": ["3.50", "007", "on"]}


def test_a_mistake_of_one_percent_in_weights_is_refused():
    parsed = parse("""\
        slug: b
        title: t
        questions:
          - id: m
            type: multi
            stem: s
            options:
              - {text: a, weight: 50}
              - {text: b, weight: 30}
        """)
    assert [str(error) for error in parsed.errors] == [f"{PATH}:4: the positive weights add up to 80%, not 100%"]


BAD_BANK = [
    ("slug: [unclosed\n", 2, "not valid YAML: a ',' or ']' was expected: a list in [...] is not closed (the [...] list "
                              "started on line 1)"),
    ("slug: b\n  title: t\n", 2, "not valid YAML: a 'key: value' is not allowed here"),
    ("- a\n- b\n", 1, "a bank file is a list of 'key: value' lines"),
    ("slug: b\ntitle: t\ncolour: red\nquestions: []\n", 3, "unknown key 'colour'"),
    ("title: t\nquestions: []\n", 1, "the id ('slug') must be given"),
    ("slug: b\nquestions: []\n", 1, "the title ('title') must be given"),
    ("slug: Bad_Slug\ntitle: t\nquestions: []\n", 1, "may hold only lowercase letters"),
    ("slug: import\ntitle: t\nquestions: []\n", 1, "is reserved"),
    ("slug: b\ntitle: t\n", 1, "the questions ('questions') must be a list"),
    ("slug: b\ntitle: t\nquestions: {a: 1}\n", 3, "the questions ('questions') must be a list"),
    ("slug: b\ntitle: t\ntitle: u\nquestions: []\n", 3, "the title ('title') cannot be given twice (first on line 2)"),
]


@pytest.mark.parametrize("text, line, fragment", BAD_BANK)
def test_bank_level_mistakes_name_their_line(text, line, fragment):
    parsed = parse_bank(text, PATH)
    assert parsed.questions == []
    assert any(error.line == line and fragment in error.message and error.path == PATH
               for error in parsed.errors), [str(error) for error in parsed.errors]


HEAD = "slug: b\ntitle: t\nquestions:\n"  # questions start on line 4
SINGLE = "  - id: q1\n    type: single\n    stem: 问题\n    options:\n      - {text: 对, correct: true}\n      - {text: 错}\n"

BAD_QUESTIONS = [
    ("  - just text\n", 4, "each question is a list of 'key: value' lines"),
    ("  - type: truefalse\n    stem: s\n    answer: true\n", 4, "the question id ('id') must be given"),
    ("  - id: Q_1\n    type: truefalse\n    stem: s\n    answer: true\n", 4, "may hold only lowercase letters"),
    ("  - id: q1\n    stem: s\n    answer: true\n", 4, "the question type ('type') must be given"),
    ("  - id: q1\n    type: ranking\n    stem: s\n", 5, "the question type ('type') must be 'single', 'multi'"),
    ("  - id: q1\n    type: truefalse\n    answer: true\n", 4, "the question text ('stem') must be given"),
    ("  - id: q1\n    type: truefalse\n    stem: s\n    answer: true\n    colour: red\n", 8, "unknown key 'colour'"),
    ("  - id: q1\n    type: truefalse\n    stem: s\n    answer: true\n    options: []\n", 8,
     "a question of the type True/false does not take the options ('options')"),
    ("  - id: q1\n    type: truefalse\n    stem: s\n    answer: maybe\n", 7, "the answer ('answer') must be true or false"),
    ("  - id: q1\n    type: truefalse\n    stem: s\n    answer: true\n    difficulty: 7\n", 8,
     "the difficulty ('difficulty') must be a whole number from 1 (easy) to 5"),
    ("  - id: q1\n    type: truefalse\n    stem: s\n    answer: true\n    points: 0\n", 8,
     "the points ('points') must be a number above 0"),
    ("  - id: q1\n    type: truefalse\n    stem: s\n    answer: true\n    tags: 流程\n", 8, "the tags ('tags') must be a list"),
    ("  - id: q1\n    type: truefalse\n    stem: [a, b]\n    answer: true\n", 6, "the question text ('stem') must be text"),
    ("  - id: q1\n    type: single\n    stem: s\n    options: 对\n", 7, "the options ('options') must be a list of options"),
    ("  - id: q1\n    type: single\n    stem: s\n    options:\n      - 对\n      - 错\n", 8,
     "option 1 must be 'text: ...'"),
    ("  - id: q1\n    type: single\n    stem: s\n    options:\n      - {text: 对, correct: true, colour: red}\n"
     "      - {text: 错}\n", 8, "unknown key 'colour' in an option"),
    ("  - id: q1\n    type: single\n    stem: s\n    options:\n      - {correct: true}\n      - {text: 错}\n", 8,
     "the option text ('text') must be given"),
    ("  - id: q1\n    type: single\n    stem: s\n    options:\n      - {text: 对, correct: yes please}\n"
     "      - {text: 错}\n", 8, "the right-answer mark ('correct') must be true or false"),
    ("  - id: q1\n    type: multi\n    stem: s\n    options:\n      - {text: a, weight: 150}\n      - {text: b}\n",
     8, "the weight ('weight') is a percent from -100 to 100"),
    ("  - id: q1\n    type: multi\n    stem: s\n    options:\n      - {text: a, correct: true}\n"
     "      - {text: b, weight: 50}\n", 7, "not both"),
    ("  - id: q1\n    type: single\n    stem: s\n    options:\n      - {text: a}\n      - {text: b}\n", 4,
     "at least one option must be fully right"),
    ("  - id: q1\n    type: single\n    stem: s\n    options:\n      - {text: a, correct: true}\n", 4,
     "at least two options"),
    ("  - id: q1\n    type: fill\n    stem: s\n", 4, "the accepted answers ('answers') must be a list"),
    ("  - id: q1\n    type: fill\n    stem: s\n    answers: [a, '']\n", 7, "item 2 of the accepted answers ('answers') must be non-empty"),
    ("  - id: q1\n    type: fill\n    stem: s\n    answers: [1]\n    tolerance: -1\n", 8,
     "the tolerance ('tolerance') must be a number of at least 0"),
    ("  - id: q1\n    type: fill\n    stem: s\n    answers:\n      - 1\n      - 一\n    tolerance: 0\n", 9,
     "with a tolerance every answer must be a number"),
    ("  - id: q1\n    type: matching\n    stem: s\n    pairs:\n      - [a, b]\n      - [c]\n", 9,
     "pair 2 must be [item, match]"),
    ("  - id: q1\n    type: matching\n    stem: s\n    pairs:\n      - [a, b]\n", 4,
     "a matching question needs at least two pairs"),
    ("  - id: q1\n    type: matching\n    stem: s\n    pairs:\n      - [a, x]\n      - [b, y]\n"
     "    distractors: [x]\n", 4, "every extra wrong match must differ"),
    ("  - id: q1\n    type: fill\n    stem: s\n    answers: [a, {answer: b, weight: 0}]\n", 7,
     "the weight of an answer is a percent above 0"),
    ("  - id: q1\n    type: fill\n    stem: s\n    answers: [{answer: b, weight: 50}]\n", 4,
     "at least one accepted answer must be worth 100%"),
    ("  - id: q1\n    type: fill\n    stem: s\n    answers: [{answer: b, colour: red}]\n", 7,
     "unknown key 'colour' in an answer"),
    ("  - id: q1\n    type: fill\n    stem: s\n    answers: [{answer: b, tolerance: 1}]\n", 7,
     "with a tolerance every answer must be a number"),
    ("  - id: q1\n    type: single\n    format: rtf\n    stem: s\n    answers: [a]\n", 6,
     "the text format ('format') must be 'markdown', 'moodle', 'plain', or 'html'"),
    ("  - id: q1\n    type: essay\n    stem: s\n    guidance: {a: 1}\n", 7, "the marking guidance ('guidance') must be text"),
    (SINGLE + SINGLE, 10, "id 'q1' is used twice (first on line 4)"),
]


@pytest.mark.parametrize("questions, line, fragment", BAD_QUESTIONS,
                         ids=[fragment for _questions, _line, fragment in BAD_QUESTIONS])
def test_question_mistakes_name_their_line(questions, line, fragment):
    parsed = parse_bank(HEAD + questions, PATH)
    assert any(error.line == line and fragment in error.message for error in parsed.errors), \
        [str(error) for error in parsed.errors]
    assert all(str(error).startswith(f"{PATH}:") for error in parsed.errors)


def test_every_problem_of_a_file_is_reported_at_once():
    parsed = parse_bank(HEAD + "  - id: a\n    type: truefalse\n    stem: s\n    answer: maybe\n"
                               "  - id: b\n    type: essay\n    stem: s\n    difficulty: 9\n", PATH)
    assert [(error.line, error.message.split(" (")[0]) for error in parsed.errors] == [(7, "the answer"),
                                                                                      (11, "the difficulty")]
    assert parsed.questions == []


def test_export_reads_back_to_the_same_questions_and_is_readable():
    parsed = parse_bank(VALID, PATH)
    text = dump_bank(parsed.slug, parsed.title, parsed.description, parsed.questions)
    again = parse_bank(text, PATH)
    assert again.errors == []
    assert again.questions == parsed.questions
    assert (again.slug, again.title, again.description) == (parsed.slug, parsed.title, parsed.description)
    assert "投诉处理题库" in text  # not \u-escaped
    assert "    explanation: |-\n      首问负责：先安抚、再确认、后处理。\n      **不推诿。**\n" in text  # block scalar
    assert "\n\n  - id: ch-002\n" in text and "questions:\n  - id: ch-001\n" in text
    # 50, 50, -100 is what marking the two right options gives: written the short way
    assert "      - text: 按约定时间回访\n        correct: true\n      - text: 承诺超出权限的赔偿\n" in text
    assert "weight" not in text


def test_partial_weights_are_written_as_percent_and_read_back_exactly():
    parsed = parse("""\
        slug: b
        title: t
        questions:
          - id: m
            type: multi
            stem: s
            options:
              - {text: a, weight: 33.33333}
              - {text: b, weight: 66.66667}
              - {text: c, weight: -12.5}
        """)
    assert parsed.errors == []
    text = dump_bank("b", "t", "", parsed.questions)
    assert "weight: 33.33333" in text and "weight: -12.5" in text
    assert parse_bank(text, PATH).questions == parsed.questions


def test_tree_loader_reports_a_slug_used_by_two_files(tmp_path):
    root = tmp_path / "question_banks"
    root.mkdir()
    (root / "a.yaml").write_text("slug: same\ntitle: A\nquestions: []\n", encoding="utf-8")
    (root / "b.yml").write_text("title: B\nslug: same\nquestions: []\n", encoding="utf-8")
    (root / "notes.md").write_text("not a bank", encoding="utf-8")
    specs, errors = load_bank_tree(root)
    assert [spec.slug for spec in specs] == ["same"]
    assert [str(error) for error in errors] == [
        "question_banks/b.yml:2: the id 'same' is already used by question_banks/a.yaml"]


def test_tree_loader_names_a_file_that_is_not_text(tmp_path):
    root = tmp_path / "question_banks"
    root.mkdir()
    (root / "bad.yaml").write_bytes(b"slug: b\ntitle: \xff\xfe\xff\n")
    specs, errors = load_bank_tree(root)
    assert specs == [] and [(e.path, e.line) for e in errors] == [("question_banks/bad.yaml", 2)]


def test_missing_folder_holds_no_banks(tmp_path):
    assert load_bank_tree(tmp_path / "nowhere") == ([], [])


def test_sample_banks_are_valid_and_cover_every_type():
    root = PROJECT_ROOT / "question_banks"
    if not any(root.glob("*.yaml")):
        pytest.skip("no sample banks yet")
    specs, errors = load_bank_tree(root)
    assert [str(error) for error in errors] == []
    assert {question.type for spec in specs for question in spec.questions} == set(QUESTION_TYPES)
    for spec in specs:
        # a bank for a computer-marked exam may leave out essays (a trainer marks those)
        assert len({question.type for question in spec.questions}) >= 4, spec.slug
        assert len(spec.questions) >= 15, spec.slug
        again = parse_bank(dump_bank(spec.slug, spec.title, spec.description, spec.questions), spec.path)
        assert again.questions == list(spec.questions), spec.slug
