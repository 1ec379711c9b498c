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
    assert first.key == generated_key("single", first.stem)  # the same file imports to the same keys


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
    ("Same?\nA. x\nB. y\nANSWER: A\n\nSame?\nA. x\nB. y\nANSWER: B\n", 6, "the same question appears twice"),
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
