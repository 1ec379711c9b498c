"""Assignments imported from a spreadsheet (CSV or XLSX) into a plan, with the staff import's rules:
every row is checked first, every problem names its row and column, and on any problem nothing
is written.

Columns (English names in the first row, any order):
  target_kind  agent | team | level | cohort
  target       an employee number, a team name, a star level 0-5, or a cohort name
  item_kind    course | exam | scenario
  item         the course's, exam's or scenario's slug
  starts_on    YYYY-MM-DD (or YYYY/M/D, as Excel in Chinese shows dates)
  due_on       the same; not before starts_on
  month        optional, YYYY-MM: where the plan's monthly breakdown shows it (default the due month)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from lms.content.errors import listed
from lms.content.spreadsheets import (ImportInvalid, RowError, Table, check_header, header_csv, one_row_per_line_template,
                                     parse_date)
from lms.extensions import db
from lms.models import Course, Exam, Scenario, User
from lms.models.plans import ITEM_KINDS, TARGET_KINDS, Assignment, Cohort, TrainingPlan
from lms.plans import reach, services
from lms.plans.windows import month_of
from lms.records.services import audit

COLUMNS = ["target_kind", "target", "item_kind", "item", "starts_on", "due_on", "month"]
REQUIRED = ("target_kind", "target", "item_kind", "item", "starts_on", "due_on")
MAX_ROWS = 2000
MODELS = {"course": Course, "exam": Exam, "scenario": Scenario}


@dataclass
class _Row:
    number: int
    target: services.Target
    item_kind: str
    item: object
    starts_on: date
    due_on: date
    month: str


class _Lookups:
    """Everything the rows name, loaded in a few queries."""

    def __init__(self, table: Table):
        wanted: dict[str, set[str]] = {kind: set() for kind in (*TARGET_KINDS, *ITEM_KINDS)}
        for row in table.rows:
            target_kind = row.values.get("target_kind", "").lower()
            if target_kind in TARGET_KINDS:
                wanted[target_kind].add(row.values.get("target", ""))
            item_kind = row.values.get("item_kind", "").lower()
            if item_kind in ITEM_KINDS:
                wanted[item_kind].add(row.values.get("item", ""))
        self.agents = {user.employee_no: user for user in db.session.scalars(
            reach.active_agents().where(User.employee_no.in_(wanted["agent"])))} if wanted["agent"] else {}
        self.teams = set(services.teams()) if wanted["team"] else set()
        self.cohorts = {cohort.name: cohort for cohort in db.session.scalars(
            select(Cohort).where(Cohort.name.in_(wanted["cohort"])))} if wanted["cohort"] else {}
        self.items = {kind: ({thing.slug: thing for thing in db.session.scalars(
            select(MODELS[kind]).where(MODELS[kind].slug.in_(wanted[kind]), MODELS[kind].retired_at.is_(None)))}
            if wanted[kind] else {}) for kind in ITEM_KINDS}


def _target(kind: str, value: str, lookups: _Lookups) -> tuple[services.Target | None, str | None]:
    if kind == "agent":
        user = lookups.agents.get(value)
        return (services.Target("agent", user=user), None) if user else (
            None, _("target %(value)s: no active agent has this employee number.", value=value))
    if kind == "team":
        return (services.Target("team", team=value), None) if value in lookups.teams else (
            None, _("target %(value)s: no active agent is in this team.", value=value))
    if kind == "level":
        if value.isdigit() and 0 <= int(value) <= 5:
            return services.Target("level", level=int(value)), None
        return None, _("target %(value)s: a star level is a whole number from 0 to 5.", value=value)
    cohort = lookups.cohorts.get(value)
    return (services.Target("cohort", cohort=cohort), None) if cohort else (
        None, _("target %(value)s: there is no cohort with this name.", value=value))


def _parse_row(values: dict[str, str], lookups: _Lookups) -> tuple[dict, list[str]]:
    problems = []
    parsed: dict = {}
    target_kind = values.get("target_kind", "").lower()
    target = values.get("target", "")
    if target_kind not in TARGET_KINDS:
        problems.append(_("target_kind %(value)s: use %(allowed)s.", value=values.get("target_kind", ""),
                          allowed=listed(TARGET_KINDS, style="or")))
    elif not target:
        problems.append(_("target is required."))
    else:
        parsed["target"], problem = _target(target_kind, target, lookups)
        if problem:
            problems.append(problem)

    item_kind = values.get("item_kind", "").lower()
    slug = values.get("item", "")
    if item_kind not in ITEM_KINDS:
        problems.append(_("item_kind %(value)s: use %(allowed)s.", value=values.get("item_kind", ""),
                          allowed=listed(ITEM_KINDS, style="or")))
    elif not slug:
        problems.append(_("item is required."))
    elif slug not in lookups.items[item_kind]:
        problems.append({"course": _("item %(value)s: no course has this slug (or it is retired).", value=slug),
                         "exam": _("item %(value)s: no exam has this slug (or it is retired).", value=slug),
                         "scenario": _("item %(value)s: no scenario has this slug (or it is retired).", value=slug),
                         }[item_kind])
    else:
        parsed["item_kind"], parsed["item"] = item_kind, lookups.items[item_kind][slug]

    for column in ("starts_on", "due_on"):
        text = values.get(column, "")
        if not text:
            problems.append(_("starts_on is required.") if column == "starts_on" else _("due_on is required."))
        elif (day := parse_date(text)) is None:
            problems.append(_("starts_on %(value)s: use YYYY-MM-DD, for example 2027-03-01.", value=text)
                            if column == "starts_on" else
                            _("due_on %(value)s: use YYYY-MM-DD, for example 2027-03-01.", value=text))
        else:
            parsed[column] = day
    if "starts_on" in parsed and "due_on" in parsed and parsed["due_on"] < parsed["starts_on"]:
        problems.append(_("due_on %(due)s is before starts_on %(start)s.", due=values["due_on"],
                          start=values["starts_on"]))

    month = values.get("month", "")
    if month and not services.MONTH.match(month):
        problems.append(_("month %(value)s: use YYYY-MM, for example 2027-03, or leave it blank.", value=month))
    elif "due_on" in parsed:
        parsed["month"] = month or month_of(parsed["due_on"])
    return parsed, problems


def validate(table: Table) -> list[_Row]:
    """The rows of `table`, or ImportInvalid with every problem."""
    errors = check_header(table.header, REQUIRED, COLUMNS)
    if any(name not in table.header for name in REQUIRED):
        raise ImportInvalid(errors)
    if not table.rows:
        raise ImportInvalid(errors + [RowError(2, _("The file has no rows below the header."))])
    lookups = _Lookups(table)
    rows = []
    for row in table.rows:
        parsed, problems = _parse_row(row.values, lookups)
        errors.extend(RowError(row.number, problem) for problem in problems)
        if not problems:
            rows.append(_Row(number=row.number, **parsed))
    if errors:
        raise ImportInvalid(errors)
    return rows


def import_assignments(actor: User, plan: TrainingPlan, table: Table, now: datetime) -> list[Assignment]:
    """Add every row of `table` to `plan` as an assignment, tell the agents each reaches, and
    commit once. Raises ImportInvalid with every problem, writing nothing, for any bad row, and
    services.PlanInvalid when the plan is archived."""
    if plan.archived_at is not None:
        raise services.PlanInvalid(_("This plan is archived; restore it to add assignments."))
    rows = validate(table)
    assignments = [services.build_assignment(actor, plan, row.item, row.item_kind, row.target, row.starts_on,
                                            row.due_on, row.month, now) for row in rows]
    db.session.flush()
    reached = services.notify_given(assignments, now)
    audit(actor, "assignments.imported", "training_plan", plan.id, rows=len(assignments), notified=reached,
          assignment_ids=[a.id for a in assignments])
    db.session.commit()
    return assignments


def row_messages(errors: list[RowError]) -> list[str]:
    return [_("Row %(n)s: %(message)s", n=error.row, message=error.message) for error in errors]


# --- templates to fill in --------------------------------------------------------------------------

EXAMPLE = {"target_kind": "team", "target": "热线一组", "item_kind": "course", "item": "complaint-handling",
           "starts_on": "2027-03-01", "due_on": "2027-03-31", "month": "2027-03"}


def _column_help() -> dict[str, str]:
    return {
        "target_kind": _("Required. agent, team, level or cohort."),
        "target": _("Required. An agent's employee number, a team's name, a star level from 0 to 5, or a "
                    "cohort's name, as target_kind says."),
        "item_kind": _("Required. course, exam or scenario."),
        "item": _("Required. The slug of the course, exam or scenario."),
        "starts_on": _("Required. YYYY-MM-DD."),
        "due_on": _("Required. YYYY-MM-DD, not before starts_on."),
        "month": _("Optional. YYYY-MM: the month of the plan it belongs to. Blank: the due month."),
    }


def template_csv() -> bytes:
    return header_csv(COLUMNS)


def template_xlsx() -> bytes:
    return one_row_per_line_template(
        "任务 Assignments", COLUMNS, ("target", "item", "starts_on", "due_on", "month"),
        intro=_("Fill in the first sheet, one assignment per row, below the header. "
                "This sheet is never imported."),
        example=EXAMPLE, help_texts=_column_help())
