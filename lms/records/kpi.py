"""The training KPI (培训考核指标), per agent per month, from the training record alone.

    training index = monthly average training score − absences × attendance coefficient

For one agent and one month of the center's calendar ("2026-11"):

- The scored results of the month, each a percentage of 0–100, from record entries in force
  (no later entry corrects them):
    * an exam: its attempts graded that month (dated by when they were sat), combined into one
      result per exam by the exam's grading method (highest, average, first, last);
    * a practical: each signed result with a percentage (a correction replaces the result);
    * a customer evaluation: the satisfaction of the month it is *for* (its `period`), whenever
      it was imported.
- The average is the mean of those results, each counting once.
- Absences are attendance entries in force of that month with `passed` false (absent; present
  and late are true, excused is empty), dated by the session's start.
- The coefficient is LMS_KPI_ABSENCE_POINTS (default 5): the seed's "5%" read as five percentage
  points of the 0–100 score per absence, not 5 % of the average.
- index = max(0, average − absences × coefficient), to one decimal. A month without a scored
  result has no index ("no data", None), never 0, even when it has absences.

`monthly_kpi` reads any number of agents and months in two queries.
"""
from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from flask import current_app
from sqlalchemy import and_, or_, select

from lms.clock import center_zone
from lms.exams import grading
from lms.extensions import db
from lms.models import Exam, RecordEntry, User
from lms.records import exports
from lms.records.completion import in_force

DEFAULT_ABSENCE_POINTS = 5.0
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
ARCHIVE_MONTHS = 12


@dataclass(frozen=True)
class KpiCell:
    """One agent's month: the inputs and the index (None: no scored result, "no data")."""

    average: float | None  # mean of the scored results, in percent
    results: int  # how many scored results the average is over
    absences: int
    coefficient: float  # points taken off per absence
    index: float | None
    exams: int = 0
    practicals: int = 0
    evaluations: int = 0

    @property
    def has_data(self) -> bool:
        return self.index is not None


def training_index(average: float | None, absences: int, coefficient: float) -> float | None:
    """The formula: None without an average; never below 0; one decimal."""
    if average is None:
        return None
    return round(max(0.0, average - absences * coefficient), 1)


def absence_points() -> float:
    return float(current_app.config.get("LMS_KPI_ABSENCE_POINTS", DEFAULT_ABSENCE_POINTS))


# --- months of the center's calendar ----------------------------------------------------------------

def month_of(moment: datetime) -> str:
    """"YYYY-MM" of `moment` in the center's time zone."""
    return moment.astimezone(center_zone()).strftime("%Y-%m")


def parse_month(text: str | None) -> str | None:
    text = (text or "").strip()
    return text if MONTH.match(text) else None


def shift_month(month: str, delta: int) -> str:
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def recent_months(now: datetime, count: int) -> list[str]:
    """The `count` months up to the current one, newest first."""
    current = month_of(now)
    return [shift_month(current, -n) for n in range(count)]


def month_start(month: str) -> datetime:
    """The first instant of `month` in the center's zone, as aware UTC."""
    local = datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=center_zone())
    return local.astimezone(timezone.utc)


def month_finder(months: Iterable[str]):
    """month_of for moments that matter only when they fall in `months`: the function gives the
    month of a moment, or None outside them. It compares instants with the months' bounds (found
    once), instead of converting every moment to the center's zone: reports ask it per entry, and a
    center's year is hundreds of thousands of entries."""
    wanted = sorted({month for month in months if parse_month(month)})
    starts = [month_start(month) for month in wanted]
    ends = [month_start(shift_month(month, 1)) for month in wanted]

    def find(moment: datetime) -> str | None:
        index = bisect.bisect_right(starts, moment) - 1
        return wanted[index] if index >= 0 and moment < ends[index] else None

    return find


# --- the figures ---------------------------------------------------------------------------------

def monthly_kpi(user_ids: Iterable[int], months: Iterable[str], *,
                coefficient: float | None = None) -> dict[tuple[int, str], KpiCell]:
    """(user id, month) -> KpiCell for every pair asked, in two queries whatever their numbers."""
    ids = sorted(set(user_ids))
    wanted = sorted({m for m in months if parse_month(m)})
    coefficient = absence_points() if coefficient is None else float(coefficient)
    cells: dict[tuple[int, str], KpiCell] = {}
    if not ids or not wanted:
        return cells
    start, end = month_start(wanted[0]), month_start(shift_month(wanted[-1], 1))
    rows = db.session.execute(
        select(RecordEntry.user_id, RecordEntry.kind, RecordEntry.percent, RecordEntry.passed,
               RecordEntry.occurred_at, RecordEntry.period, RecordEntry.title,
               RecordEntry.details["exam_id"].as_integer().label("exam_id"))  # not the whole snapshot
        .where(RecordEntry.user_id.in_(ids), in_force(), or_(
            and_(RecordEntry.kind == "evaluation", RecordEntry.period.in_(wanted),
                 RecordEntry.percent.is_not(None)),
            and_(RecordEntry.kind.in_(("exam", "practical")), RecordEntry.percent.is_not(None),
                 RecordEntry.occurred_at >= start, RecordEntry.occurred_at < end),
            and_(RecordEntry.kind == "attendance", RecordEntry.passed.is_(False),
                 RecordEntry.occurred_at >= start, RecordEntry.occurred_at < end)))
        .order_by(RecordEntry.occurred_at, RecordEntry.id)).all()
    exam_ids = {row.exam_id for row in rows if row.kind == "exam" and row.exam_id is not None}
    methods = dict(db.session.execute(select(Exam.id, Exam.grading_method).where(Exam.id.in_(exam_ids))).all()) \
        if exam_ids else {}  # only the exams these entries name, not the whole catalog's

    month_in = month_finder(wanted)
    months_set = set(wanted)
    exams: dict[tuple[int, str], dict] = defaultdict(lambda: defaultdict(list))  # -> exam key -> percents
    others: dict[tuple[int, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    absences: dict[tuple[int, str], int] = defaultdict(int)
    for row in rows:
        month = row.period if row.kind == "evaluation" else month_in(row.occurred_at)
        if month not in months_set:
            continue
        key = (row.user_id, month)
        if row.kind == "attendance":
            absences[key] += 1
        elif row.kind == "exam":
            exams[key][row.exam_id if row.exam_id is not None else f"title:{row.title}"].append(row.percent)
        else:
            others[key][row.kind].append(row.percent)

    for user_id in ids:
        for month in wanted:
            key = (user_id, month)
            combined = [grading.combine(methods.get(exam_key, "highest") if isinstance(exam_key, int) else "highest",
                                        percents) for exam_key, percents in exams[key].items()] if key in exams else []
            combined = [percent for percent in combined if percent is not None]
            practicals = others[key]["practical"] if key in others else []
            evaluations = others[key]["evaluation"] if key in others else []
            results = combined + practicals + evaluations
            average = round(sum(results) / len(results), 2) if results else None
            cells[key] = KpiCell(average=average, results=len(results), absences=absences.get(key, 0),
                                 coefficient=coefficient, index=training_index(average, absences.get(key, 0),
                                                                               coefficient),
                                 exams=len(combined), practicals=len(practicals), evaluations=len(evaluations))
    return cells


def agent_kpi(agent: User, now: datetime, count: int = ARCHIVE_MONTHS) -> list[tuple[str, KpiCell]]:
    """The agent's last `count` months, newest first (the archive's table)."""
    months = recent_months(now, count)
    cells = monthly_kpi([agent.id], months)
    return [(month, cells[(agent.id, month)]) for month in months]


# --- the report: agents in scope, per team and per level ---------------------------------------------

class KpiNotAllowed(PermissionError):
    """Only trainers, admins and mentors (their mentees) read the KPI report."""


@dataclass
class AgentRow:
    user: User
    cell: KpiCell


@dataclass
class Aggregate:
    """A team or a star level: the mean index of its agents with data, and how many have data."""

    label: str | int
    agents: int = 0
    with_data: int = 0
    total_index: float = 0.0

    @property
    def mean_index(self) -> float | None:
        return round(self.total_index / self.with_data, 1) if self.with_data else None


@dataclass
class KpiReport:
    month: str
    team: str | None
    level: int | None
    coefficient: float
    rows: list[AgentRow]
    teams: list[Aggregate] = field(default_factory=list)
    levels: list[Aggregate] = field(default_factory=list)
    overall: Aggregate = field(default_factory=lambda: Aggregate(""))


def may_read_report(viewer: User) -> bool:
    return viewer.has_role("trainer", "admin", "mentor")


def _scope(viewer: User):
    """Trainers and admins: every active agent; a mentor: their active mentees."""
    statement = select(User).where(User.active.is_(True))
    if viewer.has_role("trainer", "admin"):
        return statement.where(User.role_rows.any(role="agent"))
    return statement.where(User.mentor_id == viewer.id)


def teams_in_scope(viewer: User) -> list[str]:
    scope = _scope(viewer).subquery()
    return list(db.session.scalars(select(scope.c.team).where(scope.c.team != "").distinct().order_by(scope.c.team)))


SORTS = ("team", "index", "name")


def kpi_report(viewer: User, month: str, *, team: str | None = None, level: int | None = None,
               sort: str = "team") -> KpiReport:
    """The month's KPI of the agents `viewer` may read, narrowed to `team` and `level`, with the
    aggregates per team and per star level. Three queries whatever the number of agents.
    Raises KpiNotAllowed."""
    if not may_read_report(viewer):
        raise KpiNotAllowed(viewer.id)
    statement = _scope(viewer)
    if team:
        statement = statement.where(User.team == team)
    if level is not None:
        statement = statement.where(User.star_level == level)
    users = list(db.session.scalars(statement.order_by(User.team, User.employee_no)))
    coefficient = absence_points()
    cells = monthly_kpi([user.id for user in users], [month], coefficient=coefficient)
    rows = [AgentRow(user, cells[(user.id, month)]) for user in users]
    if sort == "index":  # highest first, "no data" last
        rows.sort(key=lambda row: (row.cell.index is None, -(row.cell.index or 0), row.user.employee_no))
    elif sort == "name":
        rows.sort(key=lambda row: (row.user.name, row.user.employee_no))
    report = KpiReport(month=month, team=team, level=level, coefficient=coefficient, rows=rows)
    teams: dict[str, Aggregate] = {}
    levels: dict[int, Aggregate] = {}
    for row in rows:
        for aggregate in (teams.setdefault(row.user.team, Aggregate(row.user.team)),
                          levels.setdefault(row.user.star_level, Aggregate(row.user.star_level)), report.overall):
            aggregate.agents += 1
            if row.cell.index is not None:
                aggregate.with_data += 1
                aggregate.total_index += row.cell.index
    report.teams = [teams[name] for name in sorted(teams)]
    report.levels = [levels[number] for number in sorted(levels)]
    return report


# --- export -------------------------------------------------------------------------------------

EXPORT_COLUMNS = ["employee_no", "name", "team", "star_level", "month", "average", "results", "exams", "practicals",
                  "evaluations", "absences", "coefficient", "index", "note"]
TEXT_COLUMNS = {"employee_no", "name", "team", "month", "note"}
EXPORT_FORMATS = ("csv", "xlsx")


def export_records(report: KpiReport, no_data_note: str) -> list[dict]:
    """One typed record per agent; a month without data leaves average and index empty and says so."""
    records = []
    for row in report.rows:
        cell = row.cell
        records.append({
            "employee_no": row.user.employee_no, "name": row.user.name, "team": row.user.team,
            "star_level": row.user.star_level, "month": report.month,
            "average": round(cell.average, 1) if cell.average is not None else None, "results": cell.results,
            "exams": cell.exams, "practicals": cell.practicals, "evaluations": cell.evaluations,
            "absences": cell.absences, "coefficient": cell.coefficient, "index": cell.index,
            "note": "" if cell.has_data else no_data_note,
        })
    return records


def export_kpi(fmt: str, report: KpiReport, no_data_note: str) -> tuple[bytes, str, str]:
    """(data, filename, media type) of the report as CSV or XLSX. Raises ValueError for another format."""
    records = export_records(report, no_data_note)
    subject = f"-team-{report.team[:exports.MAX_NAME_TEAM]}" if report.team else ""
    subject += f"-level-{report.level}" if report.level is not None else ""
    filename = f"training-kpi-{report.month}{subject}.{fmt}"
    if fmt == "csv":
        return exports.csv_bytes(EXPORT_COLUMNS, records, TEXT_COLUMNS), filename, exports.FORMATS["csv"].media_type
    if fmt == "xlsx":
        return (exports.xlsx_bytes("kpi", EXPORT_COLUMNS, records, TEXT_COLUMNS, _width, NUMBER_FORMATS), filename,
                exports.FORMATS["xlsx"].media_type)
    raise ValueError(fmt)


NUMBER_FORMATS = {"average": "0.0", "coefficient": "0.0", "index": "0.0"}


def _width(name: str) -> int:
    return {"name": 14, "team": 14, "note": 24}.get(name, max(10, len(name) + 2))


def record_export(actor: User, report: KpiReport, fmt: str) -> None:
    """Personal figures left the system: keep a trace (one commit)."""
    from lms.records.services import audit

    audit(actor, "kpi.exported", "export", 0, month=report.month, team=report.team, level=report.level,
          format=fmt, rows=len(report.rows))
    db.session.commit()
