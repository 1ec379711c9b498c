"""Numbers as people read them: scores and percentages to at most one decimal; counts with their noun."""
from __future__ import annotations


def one_decimal(value: float | int | None) -> str:
    """12.345 -> "12.3", 80.0 -> "80", None -> "—"."""
    if value is None:
        return "—"
    return f"{round(float(value), 1):g}"


def counted(number: int, word: str, plural: str | None = None) -> str:
    """"1 problem", "3 problems": a count and its noun for the command line, which speaks English."""
    return f"{number} {word if number == 1 else plural or word + 's'}"
