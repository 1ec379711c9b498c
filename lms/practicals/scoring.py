"""Rubric scoring, a pure function: weighted criteria scored by level, N/A and fatal criteria.

A criterion scored at level `p` of `0..max_points` earns `weight * p / max_points`. Criteria
marked not applicable leave both the score and the maximum. A fatal criterion scored 0 fails
the whole result whatever the total. The result passes at `pass_percent` or above (exactly at
the threshold passes). Arithmetic is exact (fractions), so a threshold is never missed by a
rounding error.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Mapping

NA = None  # the mark of a criterion that does not apply


class ScoringError(ValueError):
    """The marks do not fit the rubric."""


class NothingToScore(ScoringError):
    """Every criterion was marked not applicable: there is no result to give."""


@dataclass(frozen=True)
class Criterion:
    key: str
    weight: int
    max_points: int
    fatal: bool = False
    allow_na: bool = False


@dataclass(frozen=True)
class CriterionResult:
    key: str
    points: int | None  # None: not applicable
    earned: float  # weight * points / max_points, 0 when N/A
    weight: int
    fatal_failed: bool


@dataclass(frozen=True)
class RubricResult:
    score: float  # rounded to 2 decimals, for display and the record
    max_score: float
    percent: float
    passed: bool
    fatal_failed: tuple[str, ...]
    criteria: tuple[CriterionResult, ...]


def score_rubric(criteria: Iterable[Criterion], marks: Mapping[str, int | None], pass_percent: float) -> RubricResult:
    """Score `marks` (criterion key -> points, or NA) against `criteria`.

    Raises ScoringError when a criterion has no mark, an unknown key is marked, points are out
    of range or N/A is given where the criterion does not allow it; NothingToScore when every
    criterion is N/A.
    """
    criteria = list(criteria)
    known = {criterion.key for criterion in criteria}
    unknown = set(marks) - known
    if unknown:
        raise ScoringError(f"unknown criteria: {', '.join(sorted(unknown))}")
    total = maximum = Fraction(0)
    results, fatal = [], []
    for criterion in criteria:
        if criterion.key not in marks:
            raise ScoringError(f"criterion {criterion.key!r} has no mark")
        points = marks[criterion.key]
        if points is NA:
            if not criterion.allow_na:
                raise ScoringError(f"criterion {criterion.key!r} may not be marked not applicable")
            results.append(CriterionResult(criterion.key, None, 0.0, criterion.weight, False))
            continue
        if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= criterion.max_points:
            raise ScoringError(f"criterion {criterion.key!r} takes 0 to {criterion.max_points} points, not {points!r}")
        earned = Fraction(criterion.weight * points, criterion.max_points)
        failed = criterion.fatal and points == 0
        if failed:
            fatal.append(criterion.key)
        total += earned
        maximum += criterion.weight
        results.append(CriterionResult(criterion.key, points, float(earned), criterion.weight, failed))
    if maximum == 0:
        raise NothingToScore("every criterion is marked not applicable")
    percent = total * 100 / maximum
    passed = not fatal and percent >= Fraction(str(pass_percent))
    return RubricResult(
        score=round(float(total), 2), max_score=float(maximum), percent=round(float(percent), 2),
        passed=passed, fatal_failed=tuple(fatal), criteria=tuple(results),
    )
