"""The shape every report hands to its page, its chart and its exports: typed columns and rows.

A report registers a builder under a name (`@report("overview")`); `lms reports export NAME` and the
pages' "Export CSV / Excel" links find it here. A builder takes the viewer, the period and the
filters (plain values, no request) and returns the tables of the report, the first one being the
one exported when only one is asked for.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

KINDS = ("text", "int", "percent", "number", "date")  # percent: 0-100, shown with one decimal


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy_gettext string: rendered in the reader's language
    kind: str = "text"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class ReportTable:
    name: str  # file and sheet name, ASCII: "overview-teams"
    title: Any
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def values(self, key: str) -> list[Any]:
        return [row.get(key) for row in self.rows]


@dataclass(frozen=True)
class Filters:
    """What every report may be narrowed to; None: everything."""

    team: str | None = None
    level: int | None = None
    track: str | None = None
    course_slug: str | None = None


Builder = Callable[..., list[ReportTable]]  # (viewer, period, filters, now) -> tables
REPORTS: dict[str, Builder] = {}


def report(name: str) -> Callable[[Builder], Builder]:
    """Register a report builder for the exports and `lms reports export NAME`."""

    def register(builder: Builder) -> Builder:
        REPORTS[name] = builder
        return builder

    return register


def cell(value: Any, kind: str) -> Any:
    """A cell as an export writes it: numbers stay numbers (percent rounded to 0.1), dates ISO."""
    if value is None:
        return None
    if kind == "percent" or kind == "number":
        return round(float(value), 1)
    if kind == "int":
        return int(value)
    if kind == "date" and isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def chart_spec(table: ReportTable, kind: str = "bar", x: str | None = None, series=(), unit: str = "") -> dict:
    """What static/js/charts.js draws: {"type", "unit", "labels", "series": [{"name", "values"}]}."""
    x = x or table.columns[0].key
    by_key = {column.key: column for column in table.columns}
    return {"type": kind, "unit": unit, "labels": ["" if v is None else str(v) for v in table.values(x)],
            "series": [{"name": str(by_key[key].label), "values": [cell(v, by_key[key].kind) for v in table.values(key)]}
                       for key in series]}
