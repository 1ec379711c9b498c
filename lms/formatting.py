"""Numbers as people read them on every page: scores and percentages to at most one decimal."""
from __future__ import annotations


def one_decimal(value: float | int | None) -> str:
    """12.345 -> "12.3", 80.0 -> "80", None -> "—"."""
    if value is None:
        return "—"
    return f"{round(float(value), 1):g}"
