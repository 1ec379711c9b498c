"""The audit log as admins read it: every AuditEvent, newest first, narrowed to a person (who acted,
or the agent the event is about), a kind of action and a period; each event's details made readable;
the same list as a report table for CSV / XLSX (`@report("audit")`).

Queries are bounded whatever the size of the log: the page's count and rows (actor joined), one
query for the people the page's events name, one for the kinds on offer.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import AuditEvent, User
from lms.reports.period import Period
from lms.reports.tables import Column, Filters, ReportTable, report

EXPORT_LIMIT = 100_000  # rows in one download: the newest first; narrow the filters for more
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]*)?$")  # "practical." (a prefix) or "practical.signed"
PERSON_KEYS = ("agent_id", "user_id", "mentor_id")  # details naming a user by id (shown by name)

# What each audited action means, in the reader's language; an action not listed shows as its code.
ACTION_LABELS = {
    "account.created": _l("Account created"), "account.updated": _l("Account changed"),
    "account.activated": _l("Account reactivated"), "account.deactivated": _l("Account deactivated"),
    "account.code_activated": _l("Account activated with a code"),
    "account.password_changed": _l("Password changed"), "account.password_reset": _l("Password reset by an admin"), "auth.locked_out": _l("Sign-in locked after failures"),
    "activation.codes_exported": _l("Activation codes downloaded"), "staff.imported": _l("Staff list imported"),
    "star.initial": _l("Star level set"), "star.edit": _l("Star level changed"), "star.import": _l("Star level imported"),
    "star.promotion": _l("Promoted"), "star.demotion": _l("Demoted"), "star.declined": _l("Promotion declined"),
    "practical.scheduled": _l("Practical scheduled"), "practical.signed": _l("Practical signed off"),
    "practical.corrected": _l("Practical result corrected"), "practical.acknowledged": _l("Practical result acknowledged"),
    "practical.cancelled": _l("Practical cancelled"),
    "exam_created": _l("Exam created"), "exam_updated": _l("Exam changed"), "exam_answer_marked": _l("Answer marked"),
    "exam_graded": _l("Attempt graded"), "attempts_granted": _l("Make-up attempts granted"),
    "bank.imported": _l("Question bank imported"), "evaluations.imported": _l("Customer evaluations imported"),
    "class_session_created": _l("Class session created"), "class_session_updated": _l("Class session changed"),
    "class_session_cancelled": _l("Class session cancelled"), "attendance_marked": _l("Attendance marked"),
    "attendance_closed": _l("Attendance closed"),
    "plan.created": _l("Training plan created"), "plan.updated": _l("Training plan changed"),
    "plan.archived": _l("Training plan archived"), "plan.restored": _l("Training plan restored"),
    "plan.reminded": _l("Reminders sent"), "assignment.created": _l("Training assigned"),
    "assignment.cancelled": _l("Assignment cancelled"), "assignments.imported": _l("Assignments imported"),
    "cohort.created": _l("Intake created"), "cohort.members_added": _l("Agents added to an intake"),
    "cohort.member_removed": _l("Agent removed from an intake"),
    "survey_template_saved": _l("Survey template saved"), "survey_template_duplicated": _l("Survey template copied"),
    "survey_template_default": _l("Default survey template chosen"),
    "records.exported": _l("Training records downloaded"), "kpi.exported": _l("Training index downloaded"),
    "report.exported": _l("Report downloaded"), "recognition.opt_out_changed": _l("Recognition board choice changed"),
}
SUBJECT_LABELS = {
    "user": _l("Account"), "practical": _l("Practical"), "exam": _l("Exam"), "exam_attempt": _l("Exam attempt"),
    "attempt_answer": _l("Answer"), "attempt_grant": _l("Make-up grant"), "question_bank": _l("Question bank"),
    "class_session": _l("Class session"), "training_plan": _l("Training plan"), "assignment": _l("Assignment"),
    "cohort": _l("Intake"), "survey_template": _l("Survey template"), "import": _l("Import"),
    "export": _l("Download"), "report": _l("Report"), "job": _l("Background job"), "login": _l("Sign-in"),
}


class AuditLogNotAllowed(Exception):
    """Only admins read the audit log."""


class PersonNotFound(LookupError):
    """No account has the employee number asked for."""


class KindInvalid(ValueError):
    """Not an action code nor a prefix of one ("practical." or "practical.signed")."""


@dataclass(frozen=True)
class AuditFilter:
    person_id: int | None = None  # the actor, the account the event is about, or the agent it names
    person_no: str | None = None  # the same person's employee number (details naming them by number)
    kind: str | None = None  # exact action, or a prefix ending with "."
    period: Period | None = None  # None: all time


@dataclass
class EventView:
    """One event as a page shows it."""

    event: AuditEvent
    label: Any  # the action in the reader's language, or its code
    subject: Any  # "Account", "Practical", ...
    subject_person: User | None  # the account the event is about, when it is one
    details: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class AuditPage:
    pagination: Any  # flask_sqlalchemy Pagination of AuditEvent
    events: list[EventView]


def may_read(viewer: User | None) -> bool:
    """The system (viewer None: the command line) and admins."""
    return viewer is None or viewer.has_role("admin")


def check_allowed(viewer: User | None) -> None:
    if not may_read(viewer):
        raise AuditLogNotAllowed(viewer.id)


def find_person(employee_no: str) -> User:
    """The account with this employee number (exact, surrounding spaces ignored); raises PersonNotFound."""
    number = (employee_no or "").strip()
    person = db.session.scalar(select(User).where(User.employee_no == number)) if number else None
    if person is None:
        raise PersonNotFound(number)
    return person


def check_kind(kind: str | None) -> str | None:
    """The kind to filter on, or None for every kind; raises KindInvalid."""
    kind = (kind or "").strip()
    if not kind:
        return None
    if len(kind) > 40 or not KIND_PATTERN.match(kind):
        raise KindInvalid(kind)
    return kind


def kinds_on_offer() -> list[tuple[str, Any]]:
    """(value, label) for the kind filter: each family of dotted actions ("practical.") then every
    action that occurs in the log. One query."""
    actions = list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    families = sorted({action.split(".", 1)[0] + "." for action in actions if "." in action})
    return ([(family, f"{family}*") for family in families]
            + [(action, f"{ACTION_LABELS.get(action, action)} ({action})") for action in actions])


def events_statement(filters: AuditFilter) -> Select:
    """The filtered events, newest first."""
    statement = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if filters.person_id is not None:
        about = [AuditEvent.actor_id == filters.person_id,
                 (AuditEvent.subject_type == "user") & (AuditEvent.subject_id == filters.person_id),
                 AuditEvent.details["agent_id"].as_integer() == filters.person_id]
        if filters.person_no:
            about.append(AuditEvent.details["employee_no"].as_string() == filters.person_no)
        statement = statement.where(or_(*about))
    if filters.kind:
        if filters.kind.endswith("."):
            escaped = filters.kind.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(AuditEvent.action.like(escaped + "%", escape="\\"))
        else:
            statement = statement.where(AuditEvent.action == filters.kind)
    if filters.period is not None:
        statement = statement.where(AuditEvent.created_at >= filters.period.start,
                                    AuditEvent.created_at < filters.period.end)
    return statement


def _person_ids(events: list[AuditEvent]) -> set[int]:
    ids = set()
    for event in events:
        if event.subject_type == "user":
            ids.add(event.subject_id)
        for key in PERSON_KEYS:
            value = (event.details or {}).get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                ids.add(value)
    return ids


def _people(events: list[AuditEvent]) -> dict[int, User]:
    ids = _person_ids(events)
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _person_text(user: User | None, fallback: Any = "") -> str:
    return f"{user.employee_no} {user.name}" if user is not None else str(fallback)


def readable_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(readable_value(item) for item in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def readable_details(event: AuditEvent, people: dict[int, User]) -> list[tuple[str, str]]:
    """(key, text) for each detail, in the order written; ids of people shown as number and name."""
    shown = []
    for key, value in (event.details or {}).items():
        if key in PERSON_KEYS and isinstance(value, int) and value in people:
            shown.append((key, _person_text(people[value])))
        else:
            shown.append((key, readable_value(value)))
    return shown


def view_of(event: AuditEvent, people: dict[int, User]) -> EventView:
    return EventView(event=event, label=ACTION_LABELS.get(event.action, event.action),
                     subject=SUBJECT_LABELS.get(event.subject_type, event.subject_type),
                     subject_person=people.get(event.subject_id) if event.subject_type == "user" else None,
                     details=readable_details(event, people))


def search_events(viewer: User | None, filters: AuditFilter, page: int = 1, per_page: int = 50) -> AuditPage:
    """One page of the filtered log, newest first, with each event's people loaded. Three queries
    (count, rows with their actor, the people they name). Raises AuditLogNotAllowed."""
    check_allowed(viewer)
    pagination = db.paginate(events_statement(filters).options(joinedload(AuditEvent.actor)),
                             page=page, per_page=per_page, error_out=False)
    people = _people(pagination.items)
    return AuditPage(pagination=pagination, events=[view_of(event, people) for event in pagination.items])


AUDIT_COLUMNS = [
    Column("when", _l("Time"), "date"), Column("actor_no", _l("By (employee number)")),
    Column("actor", _l("By")), Column("action", _l("Action code")), Column("label", _l("Action")),
    Column("subject_type", _l("About")), Column("subject_id", _l("Record number"), "int"),
    Column("person_no", _l("Person (employee number)")), Column("person", _l("Person")),
    Column("details", _l("Details")),
]


def audit_table(events: list[AuditEvent], people: dict[int, User], zone) -> ReportTable:
    rows = []
    for event in events:
        seen = view_of(event, people)
        person = seen.subject_person or people.get((event.details or {}).get("agent_id"))
        rows.append({
            "when": event.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            "actor_no": event.actor.employee_no if event.actor else "",
            "actor": event.actor.name if event.actor else "",
            "action": event.action, "label": str(seen.label),
            "subject_type": str(seen.subject), "subject_id": event.subject_id,
            "person_no": person.employee_no if person else "", "person": person.name if person else "",
            "details": "; ".join(f"{key}: {text}" for key, text in seen.details),
        })
    return ReportTable("audit-log", _l("Audit log"), AUDIT_COLUMNS, rows)


@report("audit")
def build_audit(viewer: User | None, period: Period | None, filters: Filters | None, now: datetime, *,
                person: str | None = None, kind: str | None = None) -> list[ReportTable]:
    """The filtered log (newest first, at most EXPORT_LIMIT rows) as one table. Viewer None: the
    system. `person` an employee number, `kind` an action or a prefix "practical."; the Filters'
    team, level, track and course do not apply to the log. Raises AuditLogNotAllowed,
    PersonNotFound, KindInvalid."""
    from lms.clock import center_zone

    check_allowed(viewer)
    person_id = person_no = None
    if person:
        found = find_person(person)
        person_id, person_no = found.id, found.employee_no
    audit_filter = AuditFilter(person_id=person_id, person_no=person_no, kind=check_kind(kind), period=period)
    events = list(db.session.scalars(events_statement(audit_filter).options(joinedload(AuditEvent.actor))
                                     .limit(EXPORT_LIMIT)))
    return [audit_table(events, _people(events), center_zone())]

