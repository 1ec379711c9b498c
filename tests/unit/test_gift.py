"""GIFT as Moodle documents it: every construct, malformed files with file:line, and export then
import giving back the same questions for every type."""
import pytest

from lms.content.banks import QuestionSpec, generated_key, parse_bank
from lms.content.gift import dump_gift, escape, parse_gift
from lms.questions.types import QUESTION_TYPES

PATH = "grant.gift"


def one(text: str) -> QuestionSpec:
    parsed = parse_gift(text, PATH)
    assert parsed.errors == [], [str(error) for error in parsed.errors]
    assert len(parsed.questions) == 1
    return parsed.questions[0]


def weights(spec):
    return [(option["text"], option["weight"]) for option in spec.data["options"]]


# --- Moodle's documented examples ------------------------------------------------------------------

def test_multiple_choice_with_one_right_answer_is_single():
    spec = one("Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}")
    assert spec.type == "single"
    assert spec.stem == "Who's buried in Grant's tomb?"
    assert weights(spec) == [("Grant", 0.0), ("Jefferson", 0.0), ("no one", 1.0)]
    assert [option["id"] for option in spec.data["options"]] == ["o1", "o2", "o3"]


def test_missing_word_puts_a_blank_where_the_answers_were():
    spec = one("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert spec.type == "single"
    assert spec.stem == "Grant is ____ in Grant's tomb."
    assert weights(spec)[1] == ("entombed", 1.0)


def test_missing_word_works_for_fill_in_too():
    spec = one("客户第 {=三 =3} 次来电。")
    assert (spec.type, spec.stem, spec.data) == ("fill", "客户第 ____ 次来电。", {"answers": ["三", "3"]})


@pytest.mark.parametrize("block, answer", [("{T}", True), ("{TRUE}", True), ("{F}", False), ("{FALSE}", False)])
def test_true_false(block, answer):
    spec = one(f"Grant is buried in Grant's tomb.{block}")
    assert (spec.type, spec.data, spec.stem) == ("truefalse", {"answer": answer}, "Grant is buried in Grant's tomb.")


def test_true_false_feedback_is_dropped_with_a_warning_but_general_feedback_kept():
    parsed = parse_gift("The sun rises in the west.{FALSE#No, it rises in the east.#Right.####The sun rises in "
                        "the east.}", PATH)
    spec = parsed.questions[0]
    assert spec.data == {"answer": False} and spec.explanation == "The sun rises in the east."
    assert [(w.line, "dropped" in w.message) for w in parsed.warnings] == [(1, True)]


def test_short_answer_lists_accepted_answers():
    spec = one("Who's buried in Grant's tomb?{=no one =nobody}")
    assert (spec.type, spec.data) == ("fill", {"answers": ["no one", "nobody"]})


def test_short_answer_without_equals_sign():
    assert one("Who's buried in Grant's tomb?{no one}").data == {"answers": ["no one"]}


def test_partial_credit_short_answers_keep_their_weight():
    parsed = parse_gift("Who's buried in Grant's tomb?{\n=%50%Grant\n=no one#Right!\n=%0%Lincoln#No.\n}", PATH)
    assert parsed.questions[0].data == {"answers": ["Grant", "no one"], "weights": [0.5, 1.0]}
    assert [(w.line, w.message) for w in parsed.warnings] == [
        (3, "feedback on a fill-in answer has no place here and was dropped"),
        (4, "the answer 'Lincoln' is worth 0%: it earns nothing, so it was dropped")]
    grade = QUESTION_TYPES["fill"].grade
    assert [grade(parsed.questions[0].data, given).fraction for given in ("grant", "No One", "x")] == [0.5, 1.0, 0.0]


def test_numeric_with_margin_and_range():
    spec = one("When was Ulysses S. Grant born?{#1822:5}")
    assert (spec.type, spec.data) == ("fill", {"answers": [1822], "tolerance": 5})
    assert one("What is a number from 1 to 5?{#1..5}").data == {"answers": [3], "tolerance": 2}
    assert one("π to two places?{#3.14:0.01}").data == {"answers": [3.14], "tolerance": 0.01}
    assert one("Exactly?{#42}").data == {"answers": [42], "tolerance": 0}
    assert one("Cold?{#-3.5:0.5}").data == {"answers": [-3.5], "tolerance": 0.5}


def test_numeric_partial_credit_keeps_each_answer_with_its_margin():
    parsed = parse_gift("When was Ulysses S. Grant born? {#\n=1822:0 #Correct!\n=%50%1822:2 #Close.\n~#Wrong.\n}",
                        PATH)
    data = parsed.questions[0].data
    assert data == {"answers": [1822, 1822], "tolerance": 0, "tolerances": [0, 2], "weights": [1.0, 0.5]}
    assert [w.line for w in parsed.warnings] == [2, 3, 4]  # the three feedbacks, dropped
    grade = QUESTION_TYPES["fill"].grade
    assert [grade(data, given).fraction for given in ("1822", "1823", "1825", "nan")] == [1.0, 0.5, 0.0, 0.0]
    spec = one("Either?{#=1:0.5 =2:0.5}")
    assert spec.data == {"answers": [1, 2], "tolerance": 0.5}


def test_matching_with_a_distractor():
    spec = one("Match the capitals.{=Canada -> Ottawa =Italy -> Rome =Japan -> Tokyo = -> Paris}")
    assert spec.type == "matching"
    assert spec.data == {"pairs": [{"id": "p1", "left": "Canada", "right": "Ottawa"},
                                   {"id": "p2", "left": "Italy", "right": "Rome"},
                                   {"id": "p3", "left": "Japan", "right": "Tokyo"}],
                         "distractors": [{"id": "d1", "text": "Paris"}]}


def test_essay():
    spec = one("Write a short biography of Dag Hammarskjöld.{}")
    assert (spec.type, spec.data) == ("essay", {"guidance": ""})


def test_weights_make_a_multiple_answer_question():
    spec = one("What two people are entombed in Grant's tomb?{~%-100%No one ~%50%Grant ~%50%Grant's wife "
               "~%-100%Grant's father}")
    assert spec.type == "multi"
    assert weights(spec) == [("No one", -1.0), ("Grant", 0.5), ("Grant's wife", 0.5), ("Grant's father", -1.0)]


def test_partial_weight_beside_a_right_answer_stays_single_as_in_moodle():
    spec = one("Which is best?{=best ~%50%half right ~%-25%bad}")
    assert spec.type == "single"
    assert weights(spec) == [("best", 1.0), ("half right", 0.5), ("bad", -0.25)]


def test_thirds_written_as_rounded_percent_add_up_to_full_marks():
    spec = one("Pick three.{~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")
    assert QUESTION_TYPES["multi"].grade(spec.data, ["o1", "o2", "o3"]).fraction == 1.0


def test_feedback_per_answer_and_general_feedback():
    spec = one("Grant?{=no one#Right, nobody is.~Grant#He is in it, but not buried. ####Grant's tomb is a "
               "mausoleum.}")
    assert [option["feedback"] for option in spec.data["options"]] == ["Right, nobody is.",
                                                                       "He is in it, but not buried."]
    assert spec.explanation == "Grant's tomb is a mausoleum."


def test_title_is_kept_as_a_label_and_the_id_comes_from_the_content():
    spec = one("::Grant Tomb 1::Who?{=no one ~Grant}")
    assert spec.title == "Grant Tomb 1"
    assert spec.key == generated_key("Grant Tomb 1", spec.content_hash) and spec.key.startswith("q-")
    chinese = one("::投诉处理::客户为何投诉？{=服务差 ~天气}")
    assert chinese.title == "投诉处理" and chinese.key == generated_key("投诉处理", chinese.content_hash)
    assert one("Who?{=no one ~Grant}").key == one("Who?{=no one ~Grant}").key  # stable: a re-import updates


def test_names_never_collide_across_files():
    """Moodle's names are labels: two exports reusing `Q1`, or names that slugify alike, stay apart."""
    first = one("::Q1::客户来电先做什么？{=问候 ~挂断}")
    second = one("::Q1::投诉几小时内回访？{=24 ~72}")
    assert first.key != second.key
    a = one("::服务用语 1::标准问候语是？{=您好 ~喂}")
    b = one("::投诉处理 1::投诉先做什么？{=道歉 ~解释}")
    assert a.key != b.key and (a.title, b.title) == ("服务用语 1", "投诉处理 1")
    same_stem = [one("哪项正确？{=甲 ~乙}"), one("哪项正确？{=丙 ~丁}")]
    assert same_stem[0].key != same_stem[1].key  # same text, other answers: two questions


def test_an_id_and_a_name_are_both_kept():
    spec = one("// [id:CH-001]\n::投诉处理 1::投诉先做什么？{=道歉 ~解释}")
    assert (spec.key, spec.title) == ("ch-001", "投诉处理 1")
    other = one("// [id:服务-1]\nA?{T}")
    assert other.key != one("// [id:投诉-1]\nA?{T}").key


def test_a_description_is_skipped_with_a_warning_and_the_rest_imports():
    parsed = parse_gift("::说明::下面的题目考查服务用语。\n\n::Q1::问候语？{=您好 ~喂}\n\nNo name, no braces.\n", PATH)
    assert parsed.errors == []
    assert [spec.title for spec in parsed.questions] == ["Q1"]
    assert [(w.line, "description" in w.message) for w in parsed.warnings] == [(1, True), (5, True)]


def test_single_choice_with_two_full_answers_gives_full_marks_for_either():
    spec = one("Two right?{=a =b ~c}")
    assert spec.type == "single"
    grade = QUESTION_TYPES["single"].grade
    assert [grade(spec.data, option).fraction for option in ("o1", "o2", "o3")] == [1.0, 1.0, 0.0]


def test_matching_items_may_share_an_answer():
    spec = one("Match.{=一级投诉 -> 2 小时内 =紧急投诉 -> 2 小时内 =二级投诉 -> 24 小时内}")
    kind = QUESTION_TYPES["matching"]
    order = kind.option_ids(spec.data)
    assert order == ["p1", "p3"]  # the shared choice is offered once
    public = kind.public(spec.data, order)
    assert [choice["text"] for choice in public["choices"]] == ["2 小时内", "24 小时内"]
    response = kind.clean_response(spec.data, order, {"0": "0", "1": "0", "2": "1"})
    assert kind.grade(spec.data, response).fraction == 1.0


@pytest.mark.parametrize("text, text_format", [
    ("Plain moodle auto-format 2*3*4?{T}", "moodle"), ("[markdown]**b**?{T}", "markdown"),
    ("[plain]1. a 2. b?{T}", "plain"), ("[html]<b>x</b>?{T}", "html"), ("::n::[moodle]x?{T}", "moodle")])
def test_text_format_is_kept(text, text_format):
    assert one(text).text_format == text_format


def test_weights_moodle_refuses_are_warned():
    parsed = parse_gift("Pick.{~%33%a ~%33%b ~%34%c ~%-100%d}", PATH)
    assert parsed.errors == []
    assert [w.line for w in parsed.warnings if "Moodle does not offer" in w.message] == [1, 1, 1]
    exported = dump_gift(parsed.questions)
    assert "~%33.33333%a" in exported and "~%33.33333%c" in exported and "%34%" not in exported


def test_moodle_id_and_tag_comments():
    spec = one("// [id:CH-001] [tag:流程] [tag:首问\\]负责]\n::Some title::Who?{T}")
    assert spec.key == "ch-001"
    assert spec.tags == ("流程", "首问]负责")


def test_categories_become_tags_and_comments_are_ignored():
    parsed = parse_gift(
        "// 投诉处理题库\n"
        "$CATEGORY: $course$/top/投诉处理/升级\n"
        "\n"
        "// a comment line\n"
        "First?{T}\n"
        "\n"
        "Second?{F}\n"
        "\n"
        "$CATEGORY: top\n"
        "\n"
        "Third?{T}\n", PATH)
    assert parsed.errors == []
    assert [(spec.stem, spec.tags) for spec in parsed.questions] == [
        ("First?", ("升级",)), ("Second?", ("升级",)), ("Third?", ())]
    assert [spec.line for spec in parsed.questions] == [5, 7, 11]


def test_escapes():
    spec = one(r"Is 1\=1 \: \{a\} \~ \# \\ ?{=yes\=no#a\#b ~no\~way}")
    assert spec.stem == "Is 1=1 : {a} ~ # \\ ?"
    assert weights(spec) == [("yes=no", 1.0), ("no~way", 0.0)]
    assert spec.data["options"][0]["feedback"] == "a#b"


def test_escaped_newline_and_multi_line_questions():
    spec = one("::q1:: 第一行\\n第二行\n第三行 {\n  =对 # 好\n  ~错\n  #### 解析\n}")
    assert spec.stem == "第一行\n第二行\n第三行"
    assert weights(spec) == [("对", 1.0), ("错", 0.0)]
    assert spec.explanation == "解析"


@pytest.mark.parametrize("marker", ["[markdown]", "[html]", "[plain]", "[moodle]"])
def test_format_markers_are_stripped(marker):
    spec = one(f"::q::{marker}**粗体**{{={marker}对 ~错}}")
    assert spec.stem == "**粗体**"
    assert spec.data["options"][0]["text"] == "对"


def test_blank_lines_separate_questions_and_duplicate_ids_get_suffixes():
    parsed = parse_gift("::q::A?{T}\n\n\n::q::B?{F}\n\n// [id:x]\nC?{T}\n\n// [id:x]\nD?{T}\n", PATH)
    assert [spec.title for spec in parsed.questions] == ["q", "q", "", ""]
    assert len({spec.key for spec in parsed.questions[:2]}) == 2  # same name, two questions, no warning
    assert [spec.key for spec in parsed.questions[2:]] == ["x", "x-2"]
    assert [(w.line, "x-2" in w.message) for w in parsed.warnings] == [(10, True)]


def test_identical_questions_twice_in_a_file_are_both_kept():
    parsed = parse_gift("A?{T}\n\nA?{T}\n", PATH)
    assert len(parsed.questions) == 2 and len({spec.key for spec in parsed.questions}) == 2


def test_points_difficulty_and_guidance_comments():
    spec = one("// [points:5] [difficulty:3]\n// guidance: 要点一\n// guidance: 要点二\n论述{}")
    assert (spec.points, spec.difficulty, spec.data) == (5.0, 3, {"guidance": "要点一\n要点二"})


# --- Malformed files -------------------------------------------------------------------------------

MALFORMED = [
    ("First?{T}\n\nWho?{=a ~b\n", 3, "the '{' on line 3 is never closed"),
    ("Who?}{=a ~b", 1, "a '}' without its '{'"),
    ("Who?\n{=a {~b}", 2, "a second '{'"),
    ("Who?{=a ~b} and {=c ~d}", 1, "only one {…} answer block"),
    ("::unclosed title Who?{T}", 1, "never closed with '::'"),
    ("Match?{\n=a -> b\n=c d\n}", 3, "a matching answer looks like '=item -> match'"),
    ("Match?{=a -> b =c ->}", 1, "needs something after '->'"),
    ("Number?{#\n=abc:1\n}", 2, "'abc:1' is not a number with its margin"),
    ("Number?{#5..3}", 1, "is not a range"),
    ("Number?{#seven}", 1, "'seven' is not a number"),
    ("Weights?{~%half%a ~b}", 1, "the weight %half% is not a percent"),
    ("Empty?{=a ~}", 1, "an empty answer"),
    ("Nothing right?{~a ~b}", 1, "the positive weights add up to 0%"),
    ("Short?{=%50%a =%25%b}", 1, "no answer earns full marks"),
    ("{=a ~b}", 1, "no text before its answers"),
    ("// [points:lots]\nWho?{T}", 1, "[points:lots] must be a number"),
    ("// [difficulty:9]\nWho?{T}", 1, "[difficulty:9] must be a whole number"),
]


@pytest.mark.parametrize("text, line, fragment", MALFORMED, ids=[fragment for _t, _l, fragment in MALFORMED])
def test_malformed_questions_name_file_and_line(text, line, fragment):
    parsed = parse_gift(text, PATH)
    assert any(error.line == line and fragment in error.message for error in parsed.errors), \
        [str(error) for error in parsed.errors]
    assert all(str(error).startswith(f"{PATH}:") for error in parsed.errors)


def test_one_bad_question_is_reported_among_good_ones():
    parsed = parse_gift("A?{T}\n\n// comment\nB?{=x ~y}\n\nC?{=x ~\n\nD?{F}\n", PATH)
    assert [str(error) for error in parsed.errors] == [f"{PATH}:6: the '{{' on line 6 is never closed with '}}'"]


# --- Export, then import ---------------------------------------------------------------------------

EVERY_TYPE = """\
slug: round-trip
title: 往返
questions:
  - id: single-1
    type: single
    tags: [流程, "带]括号"]
    difficulty: 2
    stem: |
      客户说："我要投诉 {你们} ~ 所有人 = 没用"，#1 坐席首先：
      - 先安抚
      - 再确认
    options:
      - {text: "道歉: 并复述", correct: true, feedback: "好 # 的"}
      - {text: 直接转接\\\\其他部门, feedback: 不对}
    explanation: |
      首问负责。

      **不推诿。**
  - id: single-2
    type: single
    points: 2
    stem: 部分得分
    options:
      - {text: 最好, weight: 100}
      - {text: 一半, weight: 50}
      - {text: 扣分, weight: -25}
  - id: multi-1
    type: multi
    stem: 哪些正确？
    options:
      - {text: 甲, correct: true}
      - {text: 乙, correct: true}
      - {text: 丙, correct: true}
      - {text: 丁}
  - id: multi-2
    type: multi
    stem: 权重
    options:
      - {text: a, weight: 70}
      - {text: b, weight: 30}
      - {text: c, weight: 0}
      - {text: d, weight: -12.5}
  - id: tf-1
    type: truefalse
    stem: 可以挂断。
    answer: false
    explanation: 不可以。
  - id: tf-2
    type: truefalse
    stem: 要回访。
    answer: true
  - id: fill-1
    type: fill
    stem: 一级投诉 ____ 小时内回访。
    answers: ["24", 二十四, "T"]
  - id: fill-2
    type: fill
    stem: 约多少元？
    answers: [84.15]
    tolerance: 0.5
  - id: fill-3
    type: fill
    stem: 哪一年？
    answers: [2024, 2025]
    tolerance: 0
    explanation: 两年都算。
  - id: match-1
    type: matching
    stem: 配对
    pairs:
      - [一级, "2 小时: 内"]
      - [二级, 24 小时内]
    distractors: [一周内, 一月内]
  - id: match-2
    type: matching
    stem: 无干扰项
    pairs:
      - [a, b]
      - [c, d]
  - id: essay-1
    type: essay
    points: 5
    difficulty: 4
    stem: 论述升级投诉的处理。
    guidance: |
      要点一：安抚
      要点二：时限
    explanation: 参考答案……
  - id: essay-2
    type: essay
    stem: 无评分要点
"""


def test_export_then_import_gives_the_same_questions_for_every_type():
    original = parse_bank(EVERY_TYPE, "round-trip.yaml")
    assert original.errors == []
    assert {spec.type for spec in original.questions} == set(QUESTION_TYPES)
    text = dump_gift(original.questions, title=original.title)
    again = parse_gift(text, "round-trip.gift")
    assert again.errors == [] and again.warnings == []
    for before, after in zip(original.questions, again.questions):
        assert after == before
    assert len(again.questions) == len(original.questions)


def test_export_is_gift_moodle_reads():
    original = parse_bank(EVERY_TYPE, "round-trip.yaml")
    text = dump_gift(original.questions)
    assert "// [id:single-1] [tag:流程] [tag:带\\]括号] [difficulty:2]\n" in text
    assert "::single-1::[markdown]客户说：\"我要投诉 \\{你们\\} \\~ 所有人 \\= 没用\"，\\#1 坐席首先：\\n- 先安抚" in text
    assert "\t=道歉\\: 并复述#好 \\# 的\n" in text
    assert "::tf-1::[markdown]可以挂断。{FALSE####不可以。}" in text
    assert "::fill-2::[markdown]约多少元？{#84.15:0.5}" in text
    assert "\t= -> 一周内\n" in text
    assert "// guidance: 要点一：安抚\n// guidance: 要点二：时限\n::essay-1::[markdown]" in text
    assert "\n\n\n" not in text  # one blank line between questions, none inside one


def test_escape_covers_every_reserved_character():
    assert escape("a~b=c#d{e}f:g\\h\ni") == "a\\~b\\=c\\#d\\{e\\}f\\:g\\\\h\\ni"


MOODLE_FEATURES = """\
slug: moodle-features
title: Moodle 特性
questions:
  - id: two-right
    title: 服务用语 1
    type: single
    format: moodle
    stem: "两个都对：\\n第二行"
    options:
      - {text: 甲, weight: 100}
      - {text: 乙, weight: 100}
      - {text: 丙, weight: 0}
  - id: partial-fill
    title: 投诉处理 1
    type: fill
    format: plain
    stem: 2*3*4 = ____ ，<客户姓名>
    answers: [24, {answer: 二十四, weight: 50}]
  - id: partial-number
    type: fill
    format: html
    stem: <b>约</b>多少？
    answers: [1822, {answer: 1822, weight: 50, tolerance: 2}]
    tolerance: 0
  - id: shared-match
    type: matching
    stem: 配对
    pairs: [[一级, 2 小时], [紧急, 2 小时], [二级, 24 小时]]
    distractors: [一周]
"""


def test_new_moodle_features_survive_export_then_import():
    original = parse_bank(MOODLE_FEATURES, "features.yaml")
    assert original.errors == []
    again = parse_gift(dump_gift(original.questions), "features.gift")
    assert again.errors == [] and again.warnings == []
    assert again.questions == original.questions
    assert [spec.title for spec in again.questions] == ["服务用语 1", "投诉处理 1", "", ""]
