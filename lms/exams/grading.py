"""How attempts combine into one grade for the exam (Moodle's grading methods), as pure functions."""
from __future__ import annotations

from typing import Iterable, Sequence


def percent_of(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 0.0


def is_pass(score: float, max_score: float, pass_percent: float) -> bool:
    """Decided on the exact percentage, so 59.996 % does not pass a 60 % mark by rounding."""
    return percent_of(score, max_score) >= pass_percent - 1e-9


def combine(method: str, finished: Sequence[float | None]) -> float | None:
    """The exam's percentage from the finished attempts' percentages, in attempt order.

    None in `finished` is an attempt waiting for essay marking. highest and average use the
    graded ones; first and last wait for that attempt's marking. None when nothing is graded yet.
    """
    graded = [percent for percent in finished if percent is not None]
    if not finished or not graded:
        return None
    if method == "highest":
        return max(graded)
    if method == "average":
        return round(sum(graded) / len(graded), 2)
    if method == "first":
        return finished[0]
    if method == "last":
        return finished[-1]
    raise ValueError(f"unknown grading method {method!r}")


def passed_exam(method: str, pass_percent: float, finished: Iterable[float | None]) -> bool:
    combined = combine(method, list(finished))
    return combined is not None and combined >= pass_percent - 1e-9
