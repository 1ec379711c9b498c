"""The grade fractions Moodle accepts for an answer, and how ours map onto them.

Moodle offers a fixed list of grades per answer (question_bank::fraction_options_full: 100 %, 90 %,
83.33333 %, ... 5 %, none, and the same below zero) and its GIFT and XML importers refuse a file with
any other value ("wronggrade"). We accept any percent; a weight off the list gets a warning at import,
and export writes the nearest grade on the list, so the file goes into Moodle.
"""
from __future__ import annotations

POSITIVE = (1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2,
            0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05)
MOODLE_FRACTIONS = tuple(sorted({0.0, *POSITIVE, *(-value for value in POSITIVE)}))
TOLERANCE = 0.0001  # how close Moodle's match_grade_options wants a grade to one on its list


def is_moodle_fraction(weight: float) -> bool:
    return any(abs(weight - allowed) < TOLERANCE for allowed in MOODLE_FRACTIONS)


def moodle_fraction(weight: float) -> float:
    """The grade on Moodle's list nearest to `weight` (a fraction, -1..1)."""
    return min(MOODLE_FRACTIONS, key=lambda allowed: (abs(weight - allowed), -abs(allowed)))


def moodle_percent(weight: float) -> str:
    """`weight` as the percent Moodle's files write: 100, 50, 33.33333, -25."""
    return f"{moodle_fraction(weight) * 100:.5f}".rstrip("0").rstrip(".")
