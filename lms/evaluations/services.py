"""Customer evaluations (客户评价): monthly satisfaction per agent, imported into the training record.

Each row of an import file becomes an `evaluation` record entry for its month (`period`). The
record is append-only: a month imported again with other values is a correction of the entry in
force, never a replacement; the same values again change nothing. Courses that ask for a
customer evaluation (`customer_evaluation:` in course.md) complete, or are corrected, in the
same commit.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from lms.clock import center_zone
from lms.clock import utcnow
from lms.content.spreadsheets import (ImportInvalid, RowError, SpreadsheetError, Table, check_header, header_csv,
                                     one_row_per_line_template, read_table)
from lms.extensions import db
from lms.models import RecordEntry, User
from lms.records import completion
from lms.jobs.services import JobFailed, Progress, job_kind
from lms.records.services import add_entry, audit

COLUMNS = ["employee_no", "month", "satisfaction", "sample_size", "comment"]
REQUIRED_COLUMNS = ("employee_no", "month", "satisfaction")
TEXT_COLUMNS = ("employee_no", "month", "satisfaction")  # "2026-10" must not become a date, "92.5%" not 0.925
MAX_COMMENT = 500
REASON = "re-import"
# 2026-10, 2026/10, 2026.10, 2026年10月; and a date in the month (an Excel date cell reads 2026-10-01).
MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月|[-/.]\s*\d{1,2}\s*日?)?$")
PERCENT = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*[%％]?$")
DEFAULT_PASS_PERCENT = 90.0


def pass_percent() -> float:
    return float(current_app.config.get("LMS_EVALUATION_PASS_PERCENT", DEFAULT_PASS_PERCENT))



@dataclass
class ImportResult:
    """(employee number, month) of each row, by what became of it."""

    created: list[tuple[str, str]] = field(default_factory=list)
    corrected: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict:
        return {"created": len(self.created), "corrected": [list(key) for key in self.corrected[:1000]],
                "unchanged": len(self.unchanged)}


@dataclass
class _EvaluationRow:
    number: int
    employee_no: str
    period: str
    satisfaction: float
    sample_size: int | None
    comment: str


def parse_month(text: str) -> str | None:
    """"2026-10" for what a person typed as a month (or a day in it), else None."""
    match = MONTH.match((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and year >= 1900):
        return None
    return f"{year:04d}-{month:02d}"


def parse_percent(text: str) -> float | None:
    """92.5 for "92.5", "92.5%" or "92.5 ％", else None (range is the caller's check)."""
    match = PERCENT.match((text or "").strip())
    if not match:
        return None
    value = float(match.group(1))
    return value if math.isfinite(value) else None


def current_month(now: datetime) -> str:
    """The month it is at `now` where the center is (BABEL_DEFAULT_TIMEZONE), as "2026-10"."""
    local = now.astimezone(center_zone())
    return f"{local.year:04d}-{local.month:02d}"


def _parse_row(values: dict[str, str], number: int, users: dict[str, User], this_month: str,
               first_rows: dict[tuple[str, str], int]) -> tuple[_EvaluationRow, list[str]]:
    problems = []
    employee_no = values.get("employee_no", "")
    if not employee_no:
        problems.append(_("employee_no is required."))
    elif employee_no not in users:
        problems.append(_("employee_no %(value)s: no such account.", value=employee_no))

    period = ""
    month_text = values.get("month", "")
    if not month_text:
        problems.append(_("month is required."))
    else:
        period = parse_month(month_text) or ""
        if not period:
            problems.append(_("month %(value)s: use YYYY-MM, for example 2026-10.", value=month_text))
        elif period > this_month:
            problems.append(_("month %(value)s is in the future.", value=month_text))
        elif employee_no and first_rows.get((employee_no, period), number) != number:
            problems.append(_("%(no)s already has month %(month)s on row %(row)s.", no=employee_no, month=period,
                              row=first_rows[(employee_no, period)]))

    satisfaction = 0.0
    text = values.get("satisfaction", "")
    if not text:
        problems.append(_("satisfaction is required."))
    else:
        parsed = parse_percent(text)
        if parsed is None or not 0 <= parsed <= 100:
            problems.append(_("satisfaction %(value)s: use a percentage from 0 to 100, for example 92.5.",
                              value=text))
        else:
            satisfaction = round(parsed, 2)

    sample_size = None
    if values.get("sample_size"):
        text = values["sample_size"]
        if text.isdecimal() and len(text) <= 9 and int(text) >= 1:  # isdigit() admits '²', which int() refuses
            sample_size = int(text)
        else:
            problems.append(_("sample_size %(value)s: use a whole number of at least 1, or leave it blank.",
                              value=text))

    comment = values.get("comment", "")
    if len(comment) > MAX_COMMENT:
        problems.append(_("comment: at most %(n)s characters.", n=MAX_COMMENT))

    return _EvaluationRow(number, employee_no, period, satisfaction, sample_size, comment), problems


def _chunks(values, size: int = 5000):
    """Long IN lists in pieces: SQLite takes at most 32,766 parameters a statement."""
    values = sorted(values)
    return [values[start:start + size] for start in range(0, len(values), size)]


def _validate(table: Table, now: datetime, progress: Progress | None = None
              ) -> tuple[list[_EvaluationRow], dict[str, User]]:
    errors = check_header(table.header, REQUIRED_COLUMNS, COLUMNS)
    if any(name not in table.header for name in REQUIRED_COLUMNS):
        raise ImportInvalid(errors)
    if not table.rows:
        raise ImportInvalid(errors + [RowError(2, _("The file has no rows below the header."))])
    numbers = {row.values.get("employee_no", "") for row in table.rows} - {""}
    users = {user.employee_no: user for chunk in _chunks(numbers) for user in db.session.scalars(
        select(User).where(User.employee_no.in_(chunk)))}
    first_rows: dict[tuple[str, str], int] = {}
    for row in table.rows:
        period = parse_month(row.values.get("month", ""))
        if period:
            first_rows.setdefault((row.values.get("employee_no", ""), period), row.number)
    this_month = current_month(now)
    records = []
    for count, row in enumerate(table.rows, start=1):
        record, problems = _parse_row(row.values, row.number, users, this_month, first_rows)
        errors.extend(RowError(row.number, problem) for problem in problems)
        records.append(record)
        if progress is not None and count % 500 == 0:
            progress(count, len(table.rows))
    if errors:
        raise ImportInvalid(errors)
    return records, users


def evaluations_in_force(user_ids: set[int], periods: set[str]) -> dict[tuple[int, str], RecordEntry]:
    """The evaluation entry in force for each (user id, month) asked about that has one."""
    found: dict[tuple[int, str], RecordEntry] = {}
    if not user_ids or not periods:
        return found
    for chunk in _chunks(user_ids):
        for entry in db.session.scalars(
                select(RecordEntry).where(RecordEntry.kind == "evaluation", RecordEntry.user_id.in_(chunk),
                                          RecordEntry.period.in_(periods), completion.in_force())
                .order_by(RecordEntry.occurred_at, RecordEntry.id)):
            found[(entry.user_id, entry.period)] = entry  # the latest wins should two be in force
    return found


def _same(entry: RecordEntry, record: _EvaluationRow) -> bool:
    details = entry.details or {}
    return (entry.score is not None and abs(entry.score - record.satisfaction) < 0.005
            and details.get("sample_size") == record.sample_size and (details.get("comment") or "") == record.comment)


def import_evaluations(table: Table, *, actor: User, filename: str, now: datetime, progress: Progress | None = None,
                       before_commit: Callable[[ImportResult], None] | None = None) -> ImportResult:
    """Write each row of `table` as an `evaluation` record entry, in one commit.

    Every row is checked first; any problem raises ImportInvalid with all of them and nothing is
    written. A month that already has an evaluation in force for the agent is left alone when the
    values are the same, and corrected (reason "re-import") when they differ. Courses completed or
    undone by the new results are written in the same commit, and the import is audited.
    """
    records, users = _validate(table, now, progress)
    if progress is not None:
        progress.writing(len(records))
    line = pass_percent()
    existing = evaluations_in_force({user.id for user in users.values()}, {record.period for record in records})
    result = ImportResult()
    corrections: list[tuple[User, RecordEntry]] = []
    affected: dict[int, User] = {}
    for record in records:
        user = users[record.employee_no]
        current = existing.get((user.id, record.period))
        key = (record.employee_no, record.period)
        if current is not None and _same(current, record):
            result.unchanged.append(key)
            continue
        entry = add_entry(
            user=user, kind="evaluation", title=record.period, score=record.satisfaction, max_score=100.0,
            passed=record.satisfaction >= line, source_type="evaluation_import", recorded_by=actor, occurred_at=now,
            details={"sample_size": record.sample_size, "comment": record.comment, "source": filename},
            corrects=current, reason=REASON if current is not None else "",
        )
        entry.period = record.period
        affected[user.id] = user
        if current is None:
            result.created.append(key)
        else:
            corrections.append((user, current))
            result.corrected.append(key)
    if corrections:  # courses resting on a corrected result, and those now met; in one go, whatever the rows
        completion.after_corrections(corrections, REASON, actor, now)
    completion.record_completions_of(affected.values(), now)
    audit(actor, "evaluations.imported", "import", 0, file=filename, created=len(result.created),
          corrected=len(result.corrected), unchanged=len(result.unchanged))
    if before_commit is not None:
        before_commit(result)
    db.session.commit()
    return result


MAX_IMPORT_ROWS = 100_000  # an evaluations file: more is refused at once (split it)


def row_messages(errors: list[RowError]) -> list[str]:
    return [_("Row %(n)s: %(message)s", n=error.row, message=error.message) for error in errors]


@job_kind("evaluations")
def import_job(job, data: bytes, progress: Progress, complete) -> None:
    """An evaluations file as a background job (lms/jobs/services.py): the same import, all or nothing."""
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        table = read_table(job.filename, data, max_rows=MAX_IMPORT_ROWS)
        import_evaluations(table, actor=actor, filename=job.filename, now=utcnow(), progress=progress,
                           before_commit=lambda result: complete(result.summary()))
    except SpreadsheetError as exc:
        raise JobFailed([str(exc)])
    except ImportInvalid as exc:
        raise JobFailed(row_messages(exc.errors))


# --- Templates to fill in -----------------------------------------------------------------------

EXAMPLE = {"employee_no": "E2001", "month": "2026-10", "satisfaction": "92.5", "sample_size": "120",
           "comment": "回访抽样"}


def _column_help() -> dict[str, str]:
    return {
        "employee_no": _("Required. The agent's employee number; the account must exist."),
        "month": _("Required. The month the satisfaction is for: YYYY-MM, for example 2026-10 (2026/10 "
                   "and a date in the month are read too). Not a future month."),
        "satisfaction": _("Required. The satisfaction percentage, 0 to 100: 92.5 or 92.5%%. It passes from "
                          "%(p)s%%.", p="%g" % pass_percent()),
        "sample_size": _("Optional. How many customers answered: a whole number, at least 1."),
        "comment": _("Optional. A note, at most %(n)s characters.", n=MAX_COMMENT),
    }


def template_csv() -> bytes:
    return header_csv(COLUMNS)


def template_xlsx() -> bytes:
    """An import workbook: the first sheet holds only the header (it is what gets imported); the
    second explains each column, with an example row."""
    return one_row_per_line_template(
        "评价 Evaluations", COLUMNS, TEXT_COLUMNS,
        intro=_("Fill in the first sheet, one agent and month per row, below the header. "
                "This sheet is never imported."),
        example=EXAMPLE, help_texts=_column_help())
