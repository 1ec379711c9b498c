"""Training plans without HTTP, the managers' side: the domain error, authorization in one place,
the items that can be assigned, plans, cohorts and assignments (create, change, cancel, list, and
telling each agent reached what they were given). Who an assignment reaches is lms/plans/reach.py;
how far each agent is, lms/plans/progress.py; reminders, lms/plans/reminders.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound

from lms.extensions import db
from lms.models import Course, Exam, Scenario, User
from lms.models.plans import ITEM_KINDS, TARGET_KINDS, Assignment, Cohort, CohortMember, TrainingPlan
from lms.notifications.services import notify
from lms.plans.reach import AgentIndex, active_agents
from lms.plans.windows import month_of
from lms.records.services import audit

MANAGERS = ("trainer", "admin")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_NAME = 200
MAX_COHORT_NAME = 100
MAX_TEAM = 100


class PlanInvalid(ValueError):
    """A value that cannot be saved; the message says which and why, `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- authorization in one place --------------------------------------------------------------------

def _check_manager(user: User) -> None:
    if not user.is_authenticated or not user.has_role(*MANAGERS):
        raise Forbidden()


def load_plan_for(user: User, plan_id: int) -> TrainingPlan:
    """The plan if `user` may manage plans (trainer, admin), else 403; 404 when there is none."""
    _check_manager(user)
    plan = db.session.get(TrainingPlan, plan_id)
    if plan is None:
        raise NotFound()
    return plan


def load_assignment_for(user: User, plan: TrainingPlan, assignment_id: int) -> Assignment:
    _check_manager(user)
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.plan_id != plan.id:
        raise NotFound()
    return assignment


def load_cohort_for(user: User, cohort_id: int) -> Cohort:
    _check_manager(user)
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound()
    return cohort


# --- items -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """What an agent is asked to do, and where they do it."""

    kind: str  # course | exam | scenario
    id: int
    slug: str
    title: str

    @property
    def link(self) -> str:
        return {"course": f"/courses/{self.slug}", "exam": f"/exams/{self.slug}",
                "scenario": f"/practicals/scenarios/{self.slug}"}[self.kind]

    @property
    def key(self) -> tuple[str, int]:
        return self.kind, self.id


def item_of(assignment: Assignment) -> Item:
    thing = assignment.item
    return Item(assignment.item_kind, thing.id, thing.slug, thing.title)


def item_choices() -> dict[str, list[tuple[str, str]]]:
    """Live courses, exams and scenarios as "kind:id" values, by kind (three queries)."""
    courses = db.session.execute(select(Course.id, Course.title, Course.star_level).where(Course.retired_at.is_(None))
                                 .order_by(Course.star_level, Course.position, Course.id)).all()
    exams = db.session.execute(select(Exam.id, Exam.title).where(Exam.retired_at.is_(None))
                               .order_by(Exam.title, Exam.id)).all()
    scenarios = db.session.execute(select(Scenario.id, Scenario.title).where(Scenario.retired_at.is_(None))
                                   .order_by(Scenario.star_level, Scenario.title, Scenario.id)).all()
    return {
        "course": [(f"course:{row.id}", f"★{row.star_level} {row.title}") for row in courses],
        "exam": [(f"exam:{row.id}", row.title) for row in exams],
        "scenario": [(f"scenario:{row.id}", row.title) for row in scenarios],
    }


def find_item(kind: str, *, item_id: int | None = None, slug: str | None = None) -> Course | Exam | Scenario | None:
    """A live course, exam or scenario by id or slug."""
    model = {"course": Course, "exam": Exam, "scenario": Scenario}.get(kind)
    if model is None:
        return None
    condition = model.id == item_id if item_id is not None else model.slug == slug
    return db.session.scalar(select(model).where(condition, model.retired_at.is_(None)))


def find_agent(employee_no: str) -> User | None:
    """The active agent with this employee number, else None."""
    number = (employee_no or "").strip()
    return db.session.scalar(active_agents().where(User.employee_no == number)) if number else None


def teams() -> list[str]:
    """The teams of active agents, for the target select."""
    return list(db.session.scalars(
        active_agents().with_only_columns(User.team).where(User.team != "").distinct().order_by(User.team)))


def cohorts() -> list[Cohort]:
    return list(db.session.scalars(select(Cohort).order_by(Cohort.created_at.desc(), Cohort.id.desc())))


# --- plans -----------------------------------------------------------------------------------------

def _check_plan_fields(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise PlanInvalid(_("Name: required, at most %(n)s characters.", n=MAX_NAME), "name")
    return name


def create_plan(actor: User, *, name: str, description: str, now: datetime) -> TrainingPlan:
    """Create and commit a plan. Raises PlanInvalid for a missing or long name."""
    plan = TrainingPlan(name=_check_plan_fields(name), description=(description or "").strip(),
                        created_by=actor, created_at=now)
    db.session.add(plan)
    db.session.flush()
    audit(actor, "plan.created", "training_plan", plan.id, name=plan.name)
    db.session.commit()
    return plan


def update_plan(actor: User, plan: TrainingPlan, *, name: str, description: str, archived: bool,
                now: datetime) -> TrainingPlan:
    """Rename, describe, archive or restore a plan and commit. An archived plan's assignments are
    no longer shown to agents nor reminded."""
    plan.name = _check_plan_fields(name)
    plan.description = (description or "").strip()
    if archived and plan.archived_at is None:
        plan.archived_at = now
        audit(actor, "plan.archived", "training_plan", plan.id)
    elif not archived and plan.archived_at is not None:
        plan.archived_at = None
        audit(actor, "plan.restored", "training_plan", plan.id)
    audit(actor, "plan.updated", "training_plan", plan.id, name=plan.name)
    db.session.commit()
    return plan


def list_plans() -> tuple[list[TrainingPlan], list[TrainingPlan]]:
    """(active plans, archived plans), newest first."""
    plans = list(db.session.scalars(select(TrainingPlan).order_by(TrainingPlan.created_at.desc(),
                                                                  TrainingPlan.id.desc())))
    return [p for p in plans if p.archived_at is None], [p for p in plans if p.archived_at is not None]


# --- cohorts ---------------------------------------------------------------------------------------

EMPLOYEE_NUMBERS = re.compile(r"[\s,;，；、]+")


def create_cohort(actor: User, *, name: str, description: str, now: datetime) -> Cohort:
    """Create and commit a cohort. Raises PlanInvalid for a missing, long or taken name."""
    name = (name or "").strip()
    if not name or len(name) > MAX_COHORT_NAME:
        raise PlanInvalid(_("Name: required, at most %(n)s characters.", n=MAX_COHORT_NAME), "name")
    if db.session.scalar(select(Cohort.id).where(Cohort.name == name)) is not None:
        raise PlanInvalid(_("A cohort named %(name)s exists already.", name=name), "name")
    cohort = Cohort(name=name, description=(description or "").strip(), created_at=now)
    db.session.add(cohort)
    try:
        db.session.flush()
        audit(actor, "cohort.created", "cohort", cohort.id, name=name)
        db.session.commit()
    except IntegrityError:  # the same name saved by someone else meanwhile
        db.session.rollback()
        raise PlanInvalid(_("A cohort named %(name)s exists already.", name=name), "name")
    return cohort


def add_members(actor: User, cohort: Cohort, employee_numbers: str, now: datetime) -> int:
    """Add the agents whose employee numbers are listed (separated by spaces, commas or lines) and
    commit; returns how many were new. Raises PlanInvalid, adding nobody, when a number is unknown
    or not an active agent's."""
    numbers = list(dict.fromkeys(part for part in EMPLOYEE_NUMBERS.split(employee_numbers or "") if part))
    if not numbers:
        raise PlanInvalid(_("Enter at least one employee number."), "employee_numbers")
    found = {user.employee_no: user for user in db.session.scalars(
        active_agents().where(User.employee_no.in_(numbers)))}
    unknown = [number for number in numbers if number not in found]
    if unknown:
        raise PlanInvalid(_("Not an active agent: %(numbers)s. Nobody was added.", numbers=", ".join(unknown)),
                          "employee_numbers")
    present = set(db.session.scalars(select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)))
    added = [user for user in found.values() if user.id not in present]
    for user in added:
        db.session.add(CohortMember(cohort_id=cohort.id, user_id=user.id))
    if added:
        audit(actor, "cohort.members_added", "cohort", cohort.id, employee_nos=[u.employee_no for u in added])
    db.session.commit()
    return len(added)


def remove_member(actor: User, cohort: Cohort, user_id: int) -> bool:
    """Take an agent out of the cohort and commit; False when they were not in it."""
    member = db.session.get(CohortMember, (cohort.id, user_id))
    if member is None:
        return False
    employee_no = member.user.employee_no
    db.session.delete(member)
    audit(actor, "cohort.member_removed", "cohort", cohort.id, employee_no=employee_no)
    db.session.commit()
    return True


def cohort_members(cohort: Cohort) -> list[User]:
    return list(db.session.scalars(
        select(User).join(CohortMember, CohortMember.user_id == User.id).where(CohortMember.cohort_id == cohort.id)
        .order_by(User.team, User.employee_no)))


def cohort_sizes() -> dict[int, int]:
    return dict(db.session.execute(select(CohortMember.cohort_id, func.count()).group_by(CohortMember.cohort_id)).all())


# --- assignments -----------------------------------------------------------------------------------

@dataclass
class Target:
    """Who an assignment is for: exactly one of the values, by `kind`."""

    kind: str
    user: User | None = None
    team: str | None = None
    level: int | None = None
    cohort: Cohort | None = None


def check_dates(starts_on: date | None, due_on: date | None, month: str | None) -> str:
    """The month to show the assignment under (default: the due month). Raises PlanInvalid."""
    if starts_on is None:
        raise PlanInvalid(_("Start date: required."), "starts_on")
    if due_on is None:
        raise PlanInvalid(_("Due date: required."), "due_on")
    if due_on < starts_on:
        raise PlanInvalid(_("The due date cannot be before the start date."), "due_on")
    month = (month or "").strip()
    if not month:
        return month_of(due_on)
    if not MONTH.match(month):
        raise PlanInvalid(_("Month: use YYYY-MM, for example 2027-03."), "month")
    return month


def add_assignment(actor: User, plan: TrainingPlan, *, item: Course | Exam | Scenario, item_kind: str,
                   target: Target, starts_on: date | None, due_on: date | None, month: str | None,
                   now: datetime) -> Assignment:
    """Assign `item` to `target` in `plan`, tell each agent it reaches now, and commit.
    Raises PlanInvalid for bad dates or month, an archived plan, or an empty target."""
    if plan.archived_at is not None:
        raise PlanInvalid(_("This plan is archived; restore it to add assignments."))
    month = check_dates(starts_on, due_on, month)
    assignment = build_assignment(actor, plan, item, item_kind, target, starts_on, due_on, month, now)
    db.session.flush()
    reached = notify_given([assignment], now)
    audit(actor, "assignment.created", "assignment", assignment.id, plan_id=plan.id, item=f"{item_kind}:{item.slug}",
          target=_target_text(assignment), starts_on=starts_on.isoformat(), due_on=due_on.isoformat(), month=month,
          agents=reached)
    db.session.commit()
    return assignment


def build_assignment(actor, plan, item, item_kind, target: Target, starts_on, due_on, month, now) -> Assignment:
    """A new assignment added to the session, not flushed (the caller checked the dates)."""
    if item_kind not in ITEM_KINDS or target.kind not in TARGET_KINDS:
        raise PlanInvalid(_("Choose what to assign and to whom."))
    assignment = Assignment(
        plan=plan, item_kind=item_kind, target_kind=target.kind, starts_on=starts_on, due_on=due_on, month=month,
        created_by=actor, created_at=now,
        target_user=target.user if target.kind == "agent" else None,
        target_team=target.team if target.kind == "team" else None,
        target_level=target.level if target.kind == "level" else None,
        target_cohort=target.cohort if target.kind == "cohort" else None,
    )
    setattr(assignment, item_kind, item)
    db.session.add(assignment)
    return assignment


def _target_text(assignment: Assignment) -> str:
    return {"agent": lambda a: a.target_user.employee_no, "team": lambda a: a.target_team,
            "level": lambda a: str(a.target_level), "cohort": lambda a: a.target_cohort.name,
            }[assignment.target_kind](assignment)


def notify_given(assignments: list[Assignment], now: datetime) -> int:
    """Tell every agent each new assignment reaches now ("assignment_given"); returns how many
    notifications were added. New rows cannot have been told before, so no key is checked."""
    index = AgentIndex.load(assignments, onboarding=False)
    count = 0
    for assignment in assignments:
        item = item_of(assignment)
        for user in index.reached(assignment):
            notify(user.id, "assignment_given", link=item.link, now=now,
                   params={"title": item.title, "kind": item.kind, "due_on": assignment.due_on.isoformat(),
                           "plan": assignment.plan.name})
            count += 1
    return count


def cancel_assignment(actor: User, assignment: Assignment, now: datetime) -> bool:
    """Cancel and commit; False when it was cancelled already. Results stay in the record."""
    if assignment.cancelled_at is not None:
        return False
    assignment.cancelled_at = now
    audit(actor, "assignment.cancelled", "assignment", assignment.id, plan_id=assignment.plan_id)
    db.session.commit()
    return True


def assignments_query():
    return (select(Assignment).options(
        selectinload(Assignment.course).selectinload(Course.lessons), selectinload(Assignment.exam),
        selectinload(Assignment.scenario), selectinload(Assignment.target_user),
        selectinload(Assignment.target_cohort), selectinload(Assignment.plan))
        .order_by(Assignment.month, Assignment.due_on, Assignment.id))


def plan_assignments(plan: TrainingPlan, *, include_cancelled: bool = True) -> list[Assignment]:
    statement = assignments_query().where(Assignment.plan_id == plan.id)
    if not include_cancelled:
        statement = statement.where(Assignment.cancelled_at.is_(None))
    return list(db.session.scalars(statement))


def live_assignments() -> list[Assignment]:
    """Assignments in force: not cancelled, in a plan not archived."""
    return list(db.session.scalars(
        assignments_query().join(TrainingPlan, TrainingPlan.id == Assignment.plan_id)
        .where(Assignment.cancelled_at.is_(None), TrainingPlan.archived_at.is_(None))))
