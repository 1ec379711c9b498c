"""Grading of every question type, including partial-credit and clamp edges, and the rule that
the browser's view of a question carries no key."""
import json

import pytest

from lms.models.questions import QUESTION_TYPES as TYPE_NAMES
from lms.questions.types import QUESTION_TYPES, InvalidResponse, normalize_text

SINGLE = {"options": [{"id": "o1", "text": "对", "weight": 1.0, "feedback": "好"},
                      {"id": "o2", "text": "半对", "weight": 0.5},
                      {"id": "o3", "text": "错", "weight": 0.0}]}
MULTI = {"options": [{"id": "o1", "text": "A", "weight": 0.5}, {"id": "o2", "text": "B", "weight": 0.5},
                     {"id": "o3", "text": "C", "weight": -1.0}, {"id": "o4", "text": "D", "weight": -0.5}]}
MATCH = {"pairs": [{"id": "p1", "left": "一级", "right": "2 小时"}, {"id": "p2", "left": "二级", "right": "24 小时"},
                   {"id": "p3", "left": "三级", "right": "48 小时"}],
         "distractors": [{"id": "d1", "text": "一周"}]}


def grade(kind, data, order, raw):
    question = QUESTION_TYPES[kind]
    return question.grade(data, question.clean_response(data, order, raw)).fraction


def test_registry_matches_the_model_list():
    assert tuple(QUESTION_TYPES) == TYPE_NAMES


@pytest.mark.parametrize("raw, expected", [("0", 1.0), ("1", 0.5), ("2", 0.0), (None, 0.0), ("", 0.0), (["0"], 1.0)])
def test_single_choice_by_position(raw, expected):
    assert grade("single", SINGLE, ["o1", "o2", "o3"], raw) == expected


def test_single_choice_positions_follow_the_shuffled_order():
    order = ["o3", "o1", "o2"]
    assert grade("single", SINGLE, order, "1") == 1.0
    assert QUESTION_TYPES["single"].public_response(SINGLE, order, "o1") == "1"


@pytest.mark.parametrize("raw", ["3", "-1", "x", True, ["0", "1"], 1.5])
def test_single_choice_rejects_what_is_not_one_option(raw):
    with pytest.raises(InvalidResponse):
        QUESTION_TYPES["single"].clean_response(SINGLE, ["o1", "o2", "o3"], raw)


@pytest.mark.parametrize("ticked, expected", [
    (["0", "1"], 1.0),          # both right ones
    (["0"], 0.5),               # half
    (["0", "1", "3"], 0.5),     # a wrong one takes half back
    (["0", "2"], 0.0),          # clamped at 0, never negative
    (["0", "1", "2", "3"], 0.0),  # ticking everything does not score
    ([], 0.0),
    (["1", "1", "0"], 1.0),     # duplicates count once
])
def test_multiple_choice_partial_credit_and_clamp(ticked, expected):
    assert grade("multi", MULTI, ["o1", "o2", "o3", "o4"], ticked) == pytest.approx(expected)


def test_multiple_choice_clamps_above_one():
    generous = {"options": [{"id": "o1", "text": "A", "weight": 1.0}, {"id": "o2", "text": "B", "weight": 1.0}]}
    assert QUESTION_TYPES["multi"].grade(generous, ["o1", "o2"]).fraction == 1.0


@pytest.mark.parametrize("raw, expected", [("true", 0.0), ("false", 1.0), (False, 1.0), (None, 0.0)])
def test_true_false(raw, expected):
    assert grade("truefalse", {"answer": False}, [], raw) == expected


def test_true_false_rejects_other_words():
    with pytest.raises(InvalidResponse):
        QUESTION_TYPES["truefalse"].clean_response({"answer": True}, [], "maybe")


@pytest.mark.parametrize("typed, expected", [
    ("光猫", 1.0), ("  光猫 ", 1.0), ("ＯＮＵ", 1.0), ("onu", 1.0), ("O N U", 0.0), ("光 猫", 0.0), ("路由器", 0.0),
    ("２４", 1.0), ("24", 1.0), ("", 0.0),
])
def test_fill_blank_ignores_case_space_and_width(typed, expected):
    data = {"answers": ["光猫", "ONU", "24"]}
    assert grade("fill", data, [], typed) == expected


@pytest.mark.parametrize("typed, expected", [("3.5", 1.0), ("3.0", 1.0), ("4", 1.0), ("4.01", 0.0), ("３．５", 1.0),
                                             ("abc", 0.0), ("1,000", 0.0)])
def test_fill_blank_numeric_tolerance(typed, expected):
    assert grade("fill", {"answers": [3.5], "tolerance": 0.5}, [], typed) == expected


def test_fill_blank_length_limit():
    with pytest.raises(InvalidResponse):
        QUESTION_TYPES["fill"].clean_response({"answers": ["a"]}, [], "x" * 501)


def test_matching_one_share_per_pair():
    order = ["d1", "p3", "p1", "p2"]  # the attempt's shuffled choices
    matching = QUESTION_TYPES["matching"]
    assert grade("matching", MATCH, order, {"0": "2", "1": "3", "2": "1"}) == 1.0
    assert grade("matching", MATCH, order, {"0": "2", "1": "1", "2": "3"}) == pytest.approx(1 / 3)
    assert grade("matching", MATCH, order, {"0": "0"}) == 0.0
    assert grade("matching", MATCH, order, {}) == 0.0
    stored = matching.clean_response(MATCH, order, {"0": "2", "1": ""})
    assert stored == {"p1": "p1"}
    assert matching.public_response(MATCH, order, stored) == {"0": "2"}
    with pytest.raises(InvalidResponse):
        matching.clean_response(MATCH, order, {"7": "0"})


def test_essay_waits_for_a_marker_unless_blank():
    essay = QUESTION_TYPES["essay"]
    assert essay.grade({}, essay.clean_response({}, [], "我的回答")).pending
    assert essay.grade({}, essay.clean_response({}, [], "   ")).fraction == 0.0


@pytest.mark.parametrize("kind, data", [("single", SINGLE), ("multi", MULTI), ("matching", MATCH),
                                        ("truefalse", {"answer": True}), ("fill", {"answers": ["光猫"]}),
                                        ("essay", {"guidance": "要点：道歉"})])
def test_the_public_view_carries_no_key(kind, data):
    question = QUESTION_TYPES[kind]
    order = list(reversed(question.option_ids(data)))
    public = json.dumps(question.public(data, order), ensure_ascii=False)
    for secret in ("weight", "feedback", "answer", "guidance", "要点", "光猫", '"o1"', '"p1"', '"d1"'):
        assert secret not in public


@pytest.mark.parametrize("kind, data, problem", [
    ("single", {"options": [{"id": "o1", "text": "a", "weight": 1.0}]}, "at least two options"),
    ("single", {"options": [{"id": "o1", "text": "a", "weight": 0.5}, {"id": "o2", "text": "b", "weight": 0}]},
     "at least one option must be fully right"),
    ("fill", {"answers": ["a", "b"], "weights": [0.5, 0.5]}, "at least one accepted answer must be worth 100%"),
    ("fill", {"answers": ["a", "b"], "weights": [1.0]}, "each accepted answer is worth"),
    ("fill", {"answers": [1, 2], "tolerance": 0, "tolerances": [0]}, "one margin per numeric answer"),
    ("matching", {"pairs": [{"id": "p1", "left": "a", "right": "x"}, {"id": "p2", "left": "b", "right": "y"}],
                  "distractors": [{"id": "d1", "text": "x"}]}, "extra wrong match"),
    ("multi", {"options": [{"id": "o1", "text": "a", "weight": 0.5}, {"id": "o2", "text": "b", "weight": 0.3}]},
     "add up to 80%"),
    ("truefalse", {"answer": "yes"}, "true or false"),
    ("fill", {"answers": []}, "at least one"),
    ("fill", {"answers": ["x"], "tolerance": 1}, "must be numbers"),
    ("matching", {"pairs": [{"id": "p1", "left": "a", "right": "b"}]}, "at least two pairs"),
])
def test_validation_names_the_problem(kind, data, problem):
    assert any(problem in message for message in QUESTION_TYPES[kind].validate(data))


def test_normalize_text_folds_full_width_space_and_case():
    assert normalize_text("\u3000Ａｂｃ\u3000 Ｄ ") == "abc d"
