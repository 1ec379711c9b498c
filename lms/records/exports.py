"""Exports of the training archive for HR systems, audits and learning record stores.

One row per record entry (exams, practicals, course completions, customer evaluations,
attendance; a correction is its own row that names the entry it `corrects`) and one row per star
change (initial, promotion, demotion, edit, import, declined), for one agent, one team or
everyone. Superseded entries are exported too: the archive is append-only and so is its export.

Columns (`COLUMNS`) are machine names in English snake_case whatever the interface language, so
HR systems can map them once; values are as recorded (titles as they were called then):

    employee_no, name, team       the agent
    row_type                      "record_entry" or "star_change"
    kind                          the entry's kind, or the star change's kind
    title                         what was assessed; for a star change the target level's title
    course_slug                   the course the entry belongs to, if any
    occurred_at                   ISO 8601 in UTC with its zone ("2026-11-23T09:00:00+00:00")
    score, max_score, percent     percent rounded to one decimal
    passed                        true / false / empty (pending, or not a scored result)
    band                          excellent / good / pass / needs_improvement
    period                        the month ("2026-10") a monthly evaluation is for
    valid_until                   when a refresher completion expires
    from_level, to_level          star changes only
    corrects                      the id of the entry this one corrects
    reason                        why it was corrected, or why the star changed
    recorded_by                   employee number of who recorded it
    recorded_at                   when it was written to the archive
    entry_id                      the record entry's id (or the star change's id, see row_type)

Formats (`FORMATS`):
  - csv: UTF-8 with a BOM so Excel shows Chinese correctly; text that a spreadsheet would run as
    a formula (starting with = + - @) gets a leading apostrophe.
  - xlsx: one sheet, bold frozen header; employee numbers and other text stay text cells.
  - json: a flat list of objects, one per row, whose keys are exactly `COLUMNS` and whose
    values are typed (numbers, true/false, null). The same layout for one agent and for many,
    so one mapping reads both.
  - xapi: a JSON array of xAPI 1.0.3 statements (lms.records.xapi).

Rows are loaded in a fixed number of queries (four) whatever the number of agents and entries.
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from urllib.parse import quote

from sqlalchemy import select, true
from sqlalchemy.orm import joinedload

from lms.content.spreadsheets import header_workbook, workbook_bytes
from lms.extensions import db
from lms.models import RecordEntry, StarChange, StarLevel, User

DEFAULT_BASE_URL = "http://localhost:5000"

COLUMNS = [
    "employee_no", "name", "team", "row_type", "kind", "title", "course_slug", "occurred_at", "score", "max_score",
    "percent", "passed", "band", "period", "valid_until", "from_level", "to_level", "corrects", "reason",
    "recorded_by", "recorded_at", "entry_id",
]
TEXT_COLUMNS = {"employee_no", "name", "team", "row_type", "kind", "title", "course_slug", "occurred_at", "band",
                "period", "valid_until", "reason", "recorded_by", "recorded_at"}
RECORD_ENTRY, STAR_CHANGE = "record_entry", "star_change"
MAX_NAME_TEAM = 60  # characters of a team's name in a download's file name


class AgentNotFound(LookupError):
    """No account has this employee number."""


@dataclass(frozen=True)
class ExportRow:
    """One line of the export, plus what the xAPI statements need beyond the columns."""

    row_type: str
    id: int
    employee_no: str
    name: str
    team: str
    kind: str
    title: str
    occurred_at: datetime
    recorded_at: datetime | None = None
    course_slug: str | None = None
    score: float | None = None
    max_score: float | None = None
    percent: float | None = None
    passed: bool | None = None
    band: str | None = None
    period: str | None = None
    valid_until: datetime | None = None
    from_level: int | None = None
    to_level: int | None = None
    corrects: int | None = None
    reason: str = ""
    recorded_by: str | None = None
    recorded_by_name: str | None = None
    activity: str = ""  # the path of the thing done under the base URL: "exams/<slug>", "courses/<slug>"

    def as_record(self) -> dict[str, Any]:
        """The row's columns, typed (JSON's layout; CSV and XLSX render these values)."""
        return {
            "employee_no": self.employee_no, "name": self.name, "team": self.team, "row_type": self.row_type,
            "kind": self.kind, "title": self.title, "course_slug": self.course_slug,
            "occurred_at": iso(self.occurred_at), "score": _number(self.score), "max_score": _number(self.max_score),
            "percent": round(self.percent, 1) if self.percent is not None else None, "passed": self.passed,
            "band": self.band, "period": self.period, "valid_until": iso(self.valid_until),
            "from_level": self.from_level, "to_level": self.to_level, "corrects": self.corrects,
            "reason": self.reason or "", "recorded_by": self.recorded_by, "recorded_at": iso(self.recorded_at),
            "entry_id": self.id,
        }


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 4)


# --- loading ---------------------------------------------------------------------------------------

def find_agent(employee_no: str) -> User:
    """The account with `employee_no`. Raises AgentNotFound."""
    agent = db.session.scalar(select(User).where(User.employee_no == employee_no))
    if agent is None:
        raise AgentNotFound(employee_no)
    return agent


def _scope(agent: User | None, team: str | None):
    if agent is not None:
        return User.id == agent.id
    if team:
        return User.team == team
    return true()


def _activity(entry: RecordEntry) -> str:
    details = entry.details or {}
    course_slug = entry.course.slug if entry.course is not None else None
    if entry.kind == "exam" and details.get("exam_slug"):
        return f"exams/{quote(str(details['exam_slug']), safe='')}"
    if entry.kind == "practical" and details.get("scenario"):
        return f"scenarios/{quote(str(details['scenario']), safe='')}"
    if entry.kind == "course" and course_slug:
        return f"courses/{quote(course_slug, safe='')}"
    if entry.kind == "evaluation" and entry.period:
        return f"evaluations/{quote(entry.period, safe='')}"
    return f"record-entries/{entry.id}"  # an activity of its own: the archive holds nothing more stable


def export_rows(*, agent: User | None = None, team: str | None = None) -> list[ExportRow]:
    """The rows of `agent`'s archive, else of `team`, else of everyone, ordered by team, employee
    number and time. Four queries, whatever the number of agents and entries."""
    scope = _scope(agent, team)
    users = {user.id: user for user in db.session.scalars(select(User).where(scope))}
    if not users:
        return []
    rows: list[ExportRow] = []
    entries = db.session.scalars(
        select(RecordEntry).join(User, RecordEntry.user_id == User.id).where(scope)
        .options(joinedload(RecordEntry.course), joinedload(RecordEntry.recorded_by)))
    for entry in entries:
        user = users[entry.user_id]
        rows.append(ExportRow(
            row_type=RECORD_ENTRY, id=entry.id, employee_no=user.employee_no, name=user.name, team=user.team,
            kind=entry.kind, title=entry.title, occurred_at=entry.occurred_at, recorded_at=entry.created_at,
            course_slug=entry.course.slug if entry.course is not None else None, score=entry.score,
            max_score=entry.max_score, percent=entry.percent, passed=entry.passed, band=entry.band,
            period=entry.period, valid_until=entry.valid_until, corrects=entry.corrects_id, reason=entry.reason,
            recorded_by=entry.recorded_by.employee_no if entry.recorded_by is not None else None,
            recorded_by_name=entry.recorded_by.name if entry.recorded_by is not None else None,
            activity=_activity(entry)))
    titles = dict(db.session.execute(select(StarLevel.level, StarLevel.title)).all())
    changes = db.session.scalars(
        select(StarChange).join(User, StarChange.user_id == User.id).where(scope)
        .options(joinedload(StarChange.changed_by)))
    for change in changes:
        user = users[change.user_id]
        rows.append(ExportRow(
            row_type=STAR_CHANGE, id=change.id, employee_no=user.employee_no, name=user.name, team=user.team,
            kind=change.kind, title=titles.get(change.to_level, ""), occurred_at=change.changed_at,
            recorded_at=change.changed_at, from_level=change.from_level, to_level=change.to_level,
            reason=change.reason,
            recorded_by=change.changed_by.employee_no if change.changed_by is not None else None,
            recorded_by_name=change.changed_by.name if change.changed_by is not None else None,
            activity=f"star-levels/{change.to_level}"))
    rows.sort(key=lambda row: (row.team, row.employee_no, row.occurred_at, row.row_type, row.id))
    return rows


# --- rendering -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(name: str, value: Any, text_columns=TEXT_COLUMNS) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if name in text_columns and text.startswith(_FORMULA_START):
        return "'" + text  # Excel would run it as a formula
    return text


def csv_bytes(columns: list[str], records: list[dict[str, Any]], text_columns) -> bytes:
    """Typed records as CSV: UTF-8 with a BOM, None empty, text that would run as a formula guarded.
    Also used by other reports (lms.records.kpi)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_cell(name, record[name], text_columns) for name in columns])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(title: str, columns: list[str], records: list[dict[str, Any]], text_columns,
               width: Callable[[str], int], number_formats: dict[str, str] | None = None) -> bytes:
    """Typed records as one sheet with a bold frozen header; numbers stay numbers, text columns stay
    text (never formulas). `number_formats`: column -> Excel format ("0.0")."""
    workbook = header_workbook(title, columns, width, text_columns)
    sheet = workbook.active
    text_indexes = [index for index, name in enumerate(columns, start=1) if name in text_columns]
    formatted = [(index, (number_formats or {})[name]) for index, name in enumerate(columns, start=1)
                 if name in (number_formats or {})]
    # The row number is counted here: openpyxl's `max_row` walks every cell, which made a long
    # export quadratic (40 s for 7,000 rows; benchmarks/reports.py).
    for row_number, record in enumerate(records, start=2):
        sheet.append([record[name] for name in columns])
        for index in text_indexes:
            cell = sheet.cell(row=row_number, column=index)
            if cell.value is not None:
                cell.data_type = "s"  # "=1+1" in a title is text, not a formula
                cell.number_format = "@"
        for index, number_format in formatted:
            sheet.cell(row=row_number, column=index).number_format = number_format
    return workbook_bytes(workbook)


def to_csv(rows: list[ExportRow], base_url: str = DEFAULT_BASE_URL) -> bytes:
    return csv_bytes(COLUMNS, [row.as_record() for row in rows], TEXT_COLUMNS)


def _width(name: str) -> int:
    return {"title": 36, "reason": 36, "occurred_at": 26, "valid_until": 26, "recorded_at": 26, "name": 14,
            "team": 14}.get(name, max(10, len(name) + 2))


def to_xlsx(rows: list[ExportRow], base_url: str = DEFAULT_BASE_URL) -> bytes:
    return xlsx_bytes("records", COLUMNS, [row.as_record() for row in rows], TEXT_COLUMNS, _width)


def to_json(rows: list[ExportRow], base_url: str = DEFAULT_BASE_URL) -> bytes:
    return json.dumps([row.as_record() for row in rows], ensure_ascii=False, indent=1).encode("utf-8")


def to_xapi(rows: list[ExportRow], base_url: str = DEFAULT_BASE_URL) -> bytes:
    from lms.records.xapi import statements

    return json.dumps(statements(rows, base_url), ensure_ascii=False, indent=1).encode("utf-8")


@dataclass(frozen=True)
class Format:
    extension: str
    media_type: str
    render: Callable[[list[ExportRow], str], bytes]
    binary: bool = False


FORMATS: dict[str, Format] = {
    "csv": Format("csv", "text/csv; charset=utf-8", to_csv),
    "xlsx": Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx, binary=True),
    "json": Format("json", "application/json", to_json),
    "xapi": Format("xapi.json", "application/json", to_xapi),
}


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str  # may hold Chinese (a team's name); see content_disposition
    media_type: str
    rows: int


class UnknownFormat(ValueError):
    pass


def export_archive(fmt: str, *, agent: User | None = None, team: str | None = None,
                   base_url: str = DEFAULT_BASE_URL, now: datetime) -> Export:
    """The archive of `agent`, else of `team`, else of everyone, rendered as `fmt` (a key of
    FORMATS; UnknownFormat otherwise). `base_url` roots the xAPI IRIs (LMS_BASE_URL)."""
    if fmt not in FORMATS:
        raise UnknownFormat(fmt)
    form = FORMATS[fmt]
    rows = export_rows(agent=agent, team=team)
    if agent is not None:
        subject = agent.employee_no
    elif team:
        subject = f"team-{team[:MAX_NAME_TEAM]}"  # the header stays small whatever was typed
    else:
        subject = "all"
    filename = f"training-records-{subject}-{now:%Y%m%d}.{form.extension}"
    return Export(form.render(rows, base_url.rstrip("/")), filename, form.media_type, len(rows))


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII-safe filename for old clients and the exact one in filename*."""
    folded = "".join(c if c.isascii() else "" if unicodedata.combining(c) else "_"  # é -> e, 组 -> _
                     for c in unicodedata.normalize("NFKD", filename))
    safe = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9._-]", "_", folded)).strip("_") or "export"
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(filename, safe='')}"
