"""Aiken as Moodle documents it (plus the Chinese punctuation trainers type), errors with their line."""
import pytest

from lms.content.aiken import looks_like_aiken, parse_aiken
from lms.content.banks import generated_key

PATH = "quiz.txt"

MOODLE_EXAMPLE = """\
What is the correct answer to this question?
A. Is it this one?
B. Maybe this answer?
C. Possibly this one?
D. Must be this one!
ANSWER: D

Which LMS has the most quiz import formats?
A) Moodle
B) ATutor
C) Claroline
D) Blackboard
E) WebCT
F) Ilias
ANSWER: A
"""


def test_moodle_example():
    parsed = parse_aiken(MOODLE_EXAMPLE, PATH)
    assert parsed.errors == []
    first, second = parsed.questions
    assert (first.type, first.stem, first.line) == ("single", "What is the correct answer to this question?", 1)
    assert first.data["options"] == [
        {"id": "o1", "text": "Is it this one?", "weight": 0.0, "feedback": ""},
        {"id": "o2", "text": "Maybe this answer?", "weight": 0.0, "feedback": ""},
        {"id": "o3", "text": "Possibly this one?", "weight": 0.0, "feedback": ""},
        {"id": "o4", "text": "Must be this one!", "weight": 1.0, "feedback": ""}]
    assert [o["weight"] for o in second.data["options"]] == [1.0, 0, 0, 0, 0, 0]
    assert second.line == 8
    assert first.key == generated_key("", first.content_hash)  # the same file imports to the same keys
    assert first.text_format == "plain"


def test_options_without_a_space_after_the_letter_as_moodle_accepts():
    parsed = parse_aiken("称呼客户用？\nA.先生\nB)女士\nC.选项甲\nANSWER: C\n", PATH)
    assert parsed.errors == [] and parsed.warnings == []
    assert [o["text"] for o in parsed.questions[0].data["options"]] == ["先生", "女士", "选项甲"]


def test_a_stem_on_several_lines_is_kept_with_a_warning():
    parsed = parse_aiken("客户第三次来电。\n坐席先做什么？\nA. 道歉\nB. 转接\nANSWER: A\n", PATH)
    assert parsed.errors == []
    assert [(w.line, "2 lines" in w.message) for w in parsed.warnings] == [(1, True)]


def test_text_that_looks_like_a_tag_is_kept_as_written():
    spec = parse_aiken("如何称呼 <客户姓名> 与 <name>？\nA. 先生\nB. 女士\nANSWER: A\n", PATH).questions[0]
    assert spec.stem == "如何称呼 <客户姓名> 与 <name>？" and spec.text_format == "plain"


def test_same_stem_other_options_or_twice_the_same_are_separate_questions():
    parsed = parse_aiken("Same?\nA. x\nB. y\nANSWER: A\n\nSame?\nA. x\nB. y\nANSWER: B\n\n"
                         "Same?\nA. x\nB. y\nANSWER: B\n", PATH)
    assert parsed.errors == []
    assert len({spec.key for spec in parsed.questions}) == 3
    assert [(w.line, "line 6" in w.message) for w in parsed.warnings] == [(11, True)]


def test_chinese_punctuation_multi_line_stem_and_no_blank_lines():
    parsed = parse_aiken("客户第三次来电，情绪激动。\n坐席首先应该做什么？\nA、道歉并复述问题\nＢ．直接转接\nC）请客户稍后再打\n"
                         "ANSWER：a\n下一题？\nA. 是\nB. 否\nANSWER: B\n", PATH)
    assert parsed.errors == []
    first, second = parsed.questions
    assert first.stem == "客户第三次来电，情绪激动。\n坐席首先应该做什么？"
    assert [(o["text"], o["weight"]) for o in first.data["options"]] == [
        ("道歉并复述问题", 1.0), ("直接转接", 0.0), ("请客户稍后再打", 0.0)]
    assert second.stem == "下一题？" and second.line == 7


@pytest.mark.parametrize("text, line, fragment", [
    ("Question?\nA. one\nB. two\n", 1, "has no 'ANSWER: X' line"),
    ("Question?\nA. one\nB. two\nANSWER: C\n", 4, "ANSWER must be the letter of one of the options (A, B), not 'C'"),
    ("Question?\nA. one\nANSWER: A\n", 3, "needs at least two options"),
    ("ANSWER: A\n", 1, "an ANSWER line without a question"),
    ("Question?\nA. one\nC. two\nANSWER: A\n", 3, "expected B, found C"),
    ("Question?\nA. one\nB. two\nNext question?\nA. x\nB. y\nANSWER: A\n", 1,
     "the question on line 1 has options but no 'ANSWER: X' line"),
    ("Question?\nA. one\nB. two\nANSWER: AB\n", 4, "ANSWER must be the letter"),
])
def test_malformed_aiken_names_its_line(text, line, fragment):
    parsed = parse_aiken(text, PATH)
    assert any(error.line == line and fragment in error.message for error in parsed.errors), \
        [str(error) for error in parsed.errors]
    assert all(str(error).startswith(f"{PATH}:") for error in parsed.errors)


def test_the_question_after_a_broken_one_is_still_read():
    parsed = parse_aiken("Broken?\nA. one\nB. two\nNext?\nA. x\nB. y\nANSWER: B\n", PATH)
    assert [spec.stem for spec in parsed.questions] == ["Next?"]
    assert len(parsed.errors) == 1


def test_detection_of_aiken_among_txt_files():
    assert looks_like_aiken(MOODLE_EXAMPLE)
    assert not looks_like_aiken("Who?{=a ~b}\n")
    assert not looks_like_aiken("Just some text\n")
