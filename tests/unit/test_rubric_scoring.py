"""Rubric scoring: weights and levels, N/A, fatal criteria, the pass threshold and its edges."""
import pytest

from lms.practicals.scoring import NA, Criterion, NothingToScore, ScoringError, score_rubric

RUBRIC = [
    Criterion("empathy", weight=40, max_points=3),
    Criterion("identity", weight=20, max_points=1, fatal=True),
    Criterion("solution", weight=30, max_points=2),
    Criterion("compensation", weight=10, max_points=1, allow_na=True),
]


def score(marks, pass_percent=75, criteria=RUBRIC):
    return score_rubric(criteria, marks, pass_percent)


def test_weighted_levels_add_up():
    result = score({"empathy": 3, "identity": 1, "solution": 1, "compensation": 1})
    # 40*3/3 + 20*1/1 + 30*1/2 + 10*1/1 = 85 of 100
    assert (result.score, result.max_score, result.percent, result.passed) == (85.0, 100.0, 85.0, True)
    assert [item.earned for item in result.criteria] == [40.0, 20.0, 15.0, 10.0]
    assert result.fatal_failed == ()


def test_full_and_zero_marks():
    assert score({"empathy": 3, "identity": 1, "solution": 2, "compensation": 1}).percent == 100.0
    low = score({"empathy": 0, "identity": 1, "solution": 0, "compensation": 0})
    assert low.percent == 20.0 and not low.passed


def test_na_leaves_both_the_score_and_the_maximum():
    result = score({"empathy": 3, "identity": 1, "solution": 1, "compensation": NA})
    # 75 of 90, not 75 of 100
    assert (result.score, result.max_score) == (75.0, 90.0)
    assert result.percent == 83.33 and result.passed
    na_item = result.criteria[3]
    assert na_item.points is None and na_item.earned == 0.0


def test_a_failed_fatal_criterion_fails_whatever_the_total():
    result = score({"empathy": 3, "identity": 0, "solution": 2, "compensation": 1})
    assert result.percent == 80.0  # above the threshold...
    assert not result.passed and result.fatal_failed == ("identity",)  # ...and still a fail
    assert result.criteria[1].fatal_failed


def test_a_fatal_criterion_marked_na_does_not_fail():
    criteria = [Criterion("tone", 1, 2), Criterion("refund", 1, 1, fatal=True, allow_na=True)]
    result = score({"tone": 2, "refund": NA}, criteria=criteria)
    assert result.passed and result.percent == 100.0 and result.fatal_failed == ()


def test_exactly_at_the_threshold_passes_and_just_below_fails():
    assert score({"empathy": 3, "identity": 1, "solution": 1, "compensation": 0}).percent == 75.0
    assert score({"empathy": 3, "identity": 1, "solution": 1, "compensation": 0}).passed
    assert not score({"empathy": 3, "identity": 1, "solution": 1, "compensation": 0}, pass_percent=75.01).passed


def test_thresholds_are_compared_exactly_not_in_floating_point():
    # 2 of 3 equal criteria is 66.666...%: it passes a 66.66 threshold, fails 66.67,
    # and a fractional threshold like 100/3 * 2 never slips through rounding.
    criteria = [Criterion(key, 1, 1) for key in "abc"]
    marks = {"a": 1, "b": 1, "c": 0}
    assert score(marks, 66.66, criteria).passed
    assert not score(marks, 66.67, criteria).passed
    assert score(marks, 66.666666, criteria).passed
    assert score(marks, 66.666666, criteria).percent == 66.67


def test_all_na_has_nothing_to_score():
    criteria = [Criterion("a", 1, 1, allow_na=True), Criterion("b", 2, 2, allow_na=True)]
    with pytest.raises(NothingToScore):
        score({"a": NA, "b": NA}, criteria=criteria)
    assert issubclass(NothingToScore, ScoringError)


@pytest.mark.parametrize("marks, message", [
    ({"empathy": 3, "identity": 1, "solution": 1}, "'compensation' has no mark"),
    ({"empathy": 3, "identity": NA, "solution": 1, "compensation": 1}, "'identity' may not be marked not applicable"),
    ({"empathy": 4, "identity": 1, "solution": 1, "compensation": 1}, "'empathy' takes 0 to 3 points, not 4"),
    ({"empathy": -1, "identity": 1, "solution": 1, "compensation": 1}, "takes 0 to 3 points"),
    ({"empathy": True, "identity": 1, "solution": 1, "compensation": 1}, "takes 0 to 3 points"),
    ({"empathy": "3", "identity": 1, "solution": 1, "compensation": 1}, "takes 0 to 3 points"),
    ({"empathy": 3, "identity": 1, "solution": 1, "compensation": 1, "extra": 1}, "unknown criteria: extra"),
])
def test_marks_that_do_not_fit_the_rubric_are_refused(marks, message):
    with pytest.raises(ScoringError, match=message):
        score(marks)
