"""The training archive as xAPI 1.0.3 statements, for a learning record store (LRS).

One statement per record entry and per applied star change (a declined promotion changed
nothing, so it has none). Statement ids are uuid5 over `NAMESPACE` and the entry's (or star
change's) id: exporting again yields the same ids, so an LRS that already holds a statement
refuses the copy instead of storing it twice.

Verbs (ADL vocabulary, http://adlnet.gov/expapi/verbs/...):
  exam, practical, evaluation  passed / failed by the entry's result; attempted while pending
                               (an essay not marked yet)
  course                       completed; a correction that takes a completion back: failed
  attendance                   attended; an absence (passed false) is not an experience and
                               gets no statement (CSV, XLSX and JSON still list it)
  star change                  satisfied, the object being the star level reached
  correction                   its own statement as above, plus a voiding statement
                               (verb voided, object a StatementRef to the corrected entry's
                               statement), made by whoever recorded the correction

Activity ids are IRIs under the installation's base URL (LMS_BASE_URL): <base>/exams/<slug>,
<base>/scenarios/<slug>, <base>/courses/<slug>, <base>/evaluations/<month>,
<base>/star-levels/<n>, else <base>/record-entries/<id>. Names are the titles as recorded, under
both zh-CN and en-US (the archive keeps one title).
"""
from __future__ import annotations

import uuid
from typing import Any

from lms.records.exports import RECORD_ENTRY, STAR_CHANGE, ExportRow, iso

VERSION = "1.0.3"
NAMESPACE = uuid.UUID("3f0c4a6e-8a51-5d2b-9a57-6c1e0f3b2d71")  # fixed forever: statement ids derive from it
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"

VERBS: dict[str, dict[str, str]] = {
    "passed": {"en-US": "passed", "zh-CN": "通过"},
    "failed": {"en-US": "failed", "zh-CN": "未通过"},
    "attempted": {"en-US": "attempted", "zh-CN": "参加"},
    "completed": {"en-US": "completed", "zh-CN": "完成"},
    "attended": {"en-US": "attended", "zh-CN": "出席"},
    "satisfied": {"en-US": "satisfied", "zh-CN": "达到"},
    "voided": {"en-US": "voided", "zh-CN": "作废"},
}

ACTIVITY_TYPES = {
    "exam": "assessment", "practical": "performance", "evaluation": "assessment", "course": "course",
    "attendance": "meeting", STAR_CHANGE: "objective",
}


def statement_id(row_type: str, row_id: int) -> str:
    """The id of the statement for record entry (or star change) `row_id`, the same at every export."""
    return str(uuid.uuid5(NAMESPACE, f"{row_type}:{row_id}"))


def voiding_id(entry_id: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{RECORD_ENTRY}:{entry_id}:voids"))


def verb(name: str) -> dict[str, Any]:
    return {"id": ADL_VERBS + name, "display": dict(VERBS[name])}


def actor(name: str, employee_no: str, base_url: str) -> dict[str, Any]:
    return {"objectType": "Agent", "name": name, "account": {"homePage": base_url, "name": employee_no}}


def verb_for(row: ExportRow) -> str | None:
    """The ADL verb of `row`'s statement, None when it gets none."""
    if row.row_type == STAR_CHANGE:
        return None if row.kind == "declined" else "satisfied"
    if row.kind == "course":
        return "failed" if row.passed is False else "completed"
    if row.kind == "attendance":
        return None if row.passed is False else "attended"
    if row.passed is None:
        return "attempted"
    return "passed" if row.passed else "failed"


def _result(row: ExportRow, verb_name: str) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    score: dict[str, Any] = {}
    if row.percent is not None:
        score["scaled"] = max(-1.0, min(1.0, round(row.percent / 100.0, 4)))
    if row.score is not None and row.max_score and 0 <= row.score <= row.max_score:
        score.update(raw=row.score, min=0, max=row.max_score)
    elif row.score is not None and not row.max_score:
        score["raw"] = row.score  # a satisfaction percentage, say, with no full marks recorded
    if score:
        result["score"] = score
    if row.passed is not None and row.kind != "attendance":
        result["success"] = row.passed
    if verb_name in ("passed", "failed", "completed", "attended"):
        result["completion"] = verb_name != "failed" or row.kind != "course"
    return result or None


def _object(row: ExportRow, base_url: str) -> dict[str, Any]:
    if row.row_type == STAR_CHANGE:
        level = f"{row.to_level}"
        name = {"zh-CN": row.title or f"{level}星", "en-US": row.title or f"{level} star"}
    else:
        name = {"zh-CN": row.title, "en-US": row.title}
    kind = STAR_CHANGE if row.row_type == STAR_CHANGE else row.kind
    return {"objectType": "Activity", "id": f"{base_url}/{row.activity}",
            "definition": {"name": name, "type": ADL_ACTIVITIES + ACTIVITY_TYPES[kind]}}


def _context(row: ExportRow, base_url: str) -> dict[str, Any]:
    extension = {"row_type": row.row_type, "id": row.id, "kind": row.kind}
    if row.row_type == STAR_CHANGE:
        extension.update(from_level=row.from_level, to_level=row.to_level)
    if row.course_slug and row.activity != f"courses/{row.course_slug}":
        extension["course"] = row.course_slug
    if row.period:
        extension["period"] = row.period
    return {"platform": "lms", "extensions": {f"{base_url}/xapi/extensions/record": extension}}


def statements_for(row: ExportRow, base_url: str, stated: set[int] | None = None) -> list[dict[str, Any]]:
    """The statement of `row` (none for a declined promotion or an absence), and for a correction
    the statement that voids the corrected entry's (when `stated`, the entry ids that have a
    statement, holds it: an absence had none to void)."""
    verb_name = verb_for(row)
    made: list[dict[str, Any]] = []
    if verb_name is not None:
        statement: dict[str, Any] = {
            "id": statement_id(row.row_type, row.id),
            "actor": actor(row.name, row.employee_no, base_url),
            "verb": verb(verb_name),
            "object": _object(row, base_url),
            "context": _context(row, base_url),
            "timestamp": iso(row.occurred_at),
            "version": VERSION,
        }
        result = _result(row, verb_name)
        if result is not None:
            statement["result"] = result
        made.append(statement)
    if row.row_type == RECORD_ENTRY and row.corrects is not None and (stated is None or row.corrects in stated):
        by_recorder = row.recorded_by is not None
        made.append({
            "id": voiding_id(row.id),
            "actor": actor(row.recorded_by_name if by_recorder else row.name,
                           row.recorded_by if by_recorder else row.employee_no, base_url),
            "verb": verb("voided"),
            "object": {"objectType": "StatementRef", "id": statement_id(RECORD_ENTRY, row.corrects)},
            "timestamp": iso(row.recorded_at or row.occurred_at),
            "version": VERSION,
        })
    return made


def statements(rows: list[ExportRow], base_url: str) -> list[dict[str, Any]]:
    """Every statement of `rows`, in their order (a voided statement comes before its voiding)."""
    base_url = base_url.rstrip("/")
    stated = {row.id for row in rows if row.row_type == RECORD_ENTRY and verb_for(row) is not None}
    return [statement for row in rows for statement in statements_for(row, base_url, stated)]
