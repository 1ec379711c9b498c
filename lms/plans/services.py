"""Training plans without HTTP: plans, cohorts, assignments, who they reach, and how far each agent is.

Targets are resolved when read: an assignment to a team, a star level or a cohort reaches the
active agents who are in it *now*. The onboarding window needs no rows: every active star-0
agent with a hire date has each live star-0 required course, from the hire date to
LMS_ONBOARDING_WORKING_DAYS working days after it (lms/plans/windows.py). It is shown as a
pseudo-plan next to the real ones.

Whether an item is done asks the owners of each rule: a course the one completion rule
(lms.records.completion), an exam its grading method (lms.exams.grading), a scenario a passed
practical in force. A result from before the assignment counts too. Everything about any
number of agents is computed in a fixed number of queries (`evaluate`).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound

from lms.clock import center_zone
from lms.exams import grading
from lms.extensions import db
from lms.models import Course, Exam, ExamAttempt, Scenario, User, UserRole
from lms.models.plans import ITEM_KINDS, TARGET_KINDS, Assignment, Cohort, CohortMember, TrainingPlan
from lms.notifications.services import notify
from lms.plans.windows import (ACTIVE, DONE, DUE_SOON, OPEN, OVERDUE, STATUSES, UPCOMING, add_working_days,
                               is_late, local_date, month_of, status_of)
from lms.records import completion
from lms.records.services import audit

MANAGERS = ("trainer", "admin")
ONBOARDING = "onboarding"  # the pseudo-plan's key
ONBOARDING_NAME = "入职培训"  # in notification params (the renderer may translate by `onboarding`)
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
    index = _Index.load(assignments, onboarding=False)
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


def _assignments_query():
    return (select(Assignment).options(
        selectinload(Assignment.course).selectinload(Course.lessons), selectinload(Assignment.exam),
        selectinload(Assignment.scenario), selectinload(Assignment.target_user),
        selectinload(Assignment.target_cohort), selectinload(Assignment.plan))
        .order_by(Assignment.month, Assignment.due_on, Assignment.id))


def plan_assignments(plan: TrainingPlan, *, include_cancelled: bool = True) -> list[Assignment]:
    statement = _assignments_query().where(Assignment.plan_id == plan.id)
    if not include_cancelled:
        statement = statement.where(Assignment.cancelled_at.is_(None))
    return list(db.session.scalars(statement))


def live_assignments() -> list[Assignment]:
    """Assignments in force: not cancelled, in a plan not archived."""
    return list(db.session.scalars(
        _assignments_query().join(TrainingPlan, TrainingPlan.id == Assignment.plan_id)
        .where(Assignment.cancelled_at.is_(None), TrainingPlan.archived_at.is_(None))))


def onboarding_courses() -> list[Course]:
    """The live star-0 required courses, with their lessons."""
    return list(db.session.scalars(
        select(Course).where(Course.retired_at.is_(None), Course.star_level == 0, Course.kind == "required")
        .options(selectinload(Course.lessons)).order_by(Course.position, Course.id)))


def onboarding_due(hire_date: date) -> date:
    return add_working_days(hire_date, int(current_app.config["LMS_ONBOARDING_WORKING_DAYS"]))


# --- who an assignment reaches ---------------------------------------------------------------------

def active_agents():
    """Active users holding the agent role."""
    return select(User).where(User.active.is_(True), exists().where(UserRole.user_id == User.id,
                                                                    UserRole.role == "agent"))


@dataclass
class _Index:
    users: list[User]
    members: dict[int, set[int]]  # cohort id -> user ids
    by_id: dict[int, User] = field(default_factory=dict)
    by_team: dict[str, list[User]] = field(default_factory=lambda: defaultdict(list))
    by_level: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self):
        for user in self.users:
            self.by_id[user.id] = user
            self.by_team[user.team].append(user)
            self.by_level[user.star_level].append(user)

    @classmethod
    def load(cls, assignments: list[Assignment], *, onboarding: bool, only: set[int] | None = None) -> _Index:
        """The agents any of `assignments` (or the onboarding window) reaches: two queries."""
        user_ids = {a.target_user_id for a in assignments if a.target_kind == "agent"}
        team_names = {a.target_team for a in assignments if a.target_kind == "team"}
        levels = {a.target_level for a in assignments if a.target_kind == "level"}
        cohort_ids = {a.target_cohort_id for a in assignments if a.target_kind == "cohort"}
        conditions = []
        if user_ids:
            conditions.append(User.id.in_(user_ids))
        if team_names:
            conditions.append(User.team.in_(team_names))
        if levels:
            conditions.append(User.star_level.in_(levels))
        if cohort_ids:
            conditions.append(User.id.in_(select(CohortMember.user_id).where(CohortMember.cohort_id.in_(cohort_ids))))
        if onboarding:
            conditions.append(and_(User.star_level == 0, User.hire_date.is_not(None)))
        if not conditions or (only is not None and not only):
            return cls([], {})
        statement = active_agents().where(or_(*conditions)).order_by(User.team, User.employee_no)
        if only is not None:
            statement = statement.where(User.id.in_(only))
        users = list(db.session.scalars(statement))
        members: dict[int, set[int]] = defaultdict(set)
        if cohort_ids and users:
            rows = db.session.execute(select(CohortMember.cohort_id, CohortMember.user_id)
                                      .where(CohortMember.cohort_id.in_(cohort_ids)))
            for cohort_id, user_id in rows:
                members[cohort_id].add(user_id)
        return cls(users, members)

    def reached(self, assignment: Assignment) -> list[User]:
        if assignment.target_kind == "agent":
            user = self.by_id.get(assignment.target_user_id)
            return [user] if user is not None else []
        if assignment.target_kind == "team":
            return self.by_team.get(assignment.target_team, [])
        if assignment.target_kind == "level":
            return self.by_level.get(assignment.target_level, [])
        ids = self.members.get(assignment.target_cohort_id, set())
        return [user for user in self.users if user.id in ids]

    def new_hires(self) -> list[User]:
        return [user for user in self.users if user.star_level == 0 and user.hire_date is not None]


# --- what is done ----------------------------------------------------------------------------------

class _Results:
    """When each agent completed each item, from facts loaded at once (six or seven queries)."""

    def __init__(self, users: list[User], courses: dict[int, Course], exams: dict[int, Exam], scenario_slugs: bool,
                 now: datetime):
        ids = [user.id for user in users]
        self.now = now
        self.courses = courses
        self.exams = exams
        self.facts = completion.load_facts(ids) if ids and (courses or scenario_slugs) else None
        self.attempts: dict[tuple[int, int], list] = defaultdict(list)
        if ids and exams:
            for row in db.session.execute(
                    select(ExamAttempt.user_id, ExamAttempt.exam_id, ExamAttempt.percent, ExamAttempt.submitted_at)
                    .where(ExamAttempt.user_id.in_(ids), ExamAttempt.exam_id.in_(list(exams)),
                           ExamAttempt.state != "open")
                    .order_by(ExamAttempt.number)):
                self.attempts[(row.user_id, row.exam_id)].append(row)

    def done_at(self, user_id: int, item: Item) -> tuple[bool, datetime | None]:
        """(done, when); when may be None for a course complete without any dated requirement."""
        if item.kind == "course":
            state = completion.course_state(self.courses[item.id], user_id, self.facts, self.now)
            if not state.counts:
                return False, None
            return True, state.completion.occurred_at if state.completion is not None else state.met_at
        if item.kind == "exam":
            exam = self.exams[item.id]
            attempts = self.attempts.get((user_id, item.id), [])
            percents = [row.percent for row in attempts]
            if not grading.passed_exam(exam.grading_method, exam.pass_percent, percents):
                return False, None  # ("last" or "average" may have gone below the mark again)
            for index, row in enumerate(attempts):  # the attempt by which it was passed
                if grading.passed_exam(exam.grading_method, exam.pass_percent, percents[:index + 1]):
                    return True, row.submitted_at
            return True, None
        entries = self.facts.practicals[user_id].get(item.slug, []) if self.facts else []
        passing = [entry for entry in entries if entry.passed]
        return (True, passing[0].occurred_at) if passing else (False, None)


# --- tasks: one item for one agent -----------------------------------------------------------------

@dataclass(frozen=True)
class PlanRef:
    key: str  # "plan:12" or "onboarding"
    id: int | None
    name: str

    @property
    def onboarding(self) -> bool:
        return self.id is None


@dataclass
class Task:
    user: User
    plan: PlanRef
    assignment_id: int | None  # None in the onboarding window
    item: Item
    starts_on: date
    due_on: date
    month: str
    status: str
    done_on: date | None

    @property
    def late(self) -> bool:
        return is_late(self.done_on, self.due_on)

    @property
    def reminder_key(self) -> str:
        """Per agent and assignment (onboarding: per course)."""
        return f"{self.assignment_id}" if self.assignment_id is not None else f"onboarding:{self.item.slug}"


def today_of(now: datetime) -> date:
    return local_date(now, center_zone())


def evaluate(assignments: list[Assignment], now: datetime, *, onboarding: bool = False,
             only: set[int] | None = None) -> list[Task]:
    """Every (agent, item) that `assignments` and, with `onboarding`, the onboarding window give,
    with its status at `now`; only the agents in `only` when given. A fixed number of queries."""
    index = _Index.load(assignments, onboarding=onboarding, only=only)
    courses = onboarding_courses() if onboarding and index.users else []
    course_map = {course.id: course for course in courses}
    course_map.update({a.course.id: a.course for a in assignments if a.item_kind == "course"})
    exams = {a.exam.id: a.exam for a in assignments if a.item_kind == "exam"}
    results = _Results(index.users, course_map, exams, any(a.item_kind == "scenario" for a in assignments), now)
    today = today_of(now)
    soon = int(current_app.config.get("LMS_DUE_SOON_DAYS", 3))
    zone = center_zone()

    def task(user, plan, assignment_id, item, starts_on, due_on, month) -> Task:
        done, when = results.done_at(user.id, item)
        done_on = local_date(when, zone) if when is not None else None
        return Task(user, plan, assignment_id, item, starts_on, due_on, month,
                    status_of(starts_on=starts_on, due_on=due_on, done_on=done_on, done=done, today=today,
                              due_soon_days=soon), done_on)

    tasks = []
    plans: dict[int, PlanRef] = {}
    for assignment in assignments:
        plan = plans.setdefault(assignment.plan_id, PlanRef(f"plan:{assignment.plan_id}", assignment.plan_id,
                                                            assignment.plan.name))
        item = item_of(assignment)
        for user in index.reached(assignment):
            tasks.append(task(user, plan, assignment.id, item, assignment.starts_on, assignment.due_on,
                              assignment.month))
    if onboarding:
        plan = PlanRef(ONBOARDING, None, ONBOARDING_NAME)
        for user in index.new_hires():
            due_on = onboarding_due(user.hire_date)
            for course in courses:
                tasks.append(task(user, plan, None, Item("course", course.id, course.slug, course.title),
                                  user.hire_date, due_on, month_of(due_on)))
    return tasks


# --- summaries -------------------------------------------------------------------------------------

@dataclass
class Tally:
    total: int = 0
    done: int = 0
    late: int = 0
    overdue: int = 0
    due_soon: int = 0
    open: int = 0
    upcoming: int = 0

    def add(self, task: Task) -> None:
        self.total += 1
        if task.status == DONE:
            self.done += 1
            self.late += task.late
        elif task.status == OVERDUE:
            self.overdue += 1
        elif task.status == DUE_SOON:
            self.due_soon += 1
        elif task.status == OPEN:
            self.open += 1
        else:
            self.upcoming += 1

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total else None


def tally(tasks) -> Tally:
    result = Tally()
    for task in tasks:
        result.add(task)
    return result


@dataclass
class AgentRow:
    user: User
    tally: Tally
    tasks: list[Task]


@dataclass
class AssignmentRow:
    assignment: Assignment | None  # None: an onboarding course
    item: Item
    tally: Tally


@dataclass
class PlanReport:
    plan: TrainingPlan | None  # None: the onboarding pseudo-plan
    total: Tally
    assignments: list[AssignmentRow]
    months: list[tuple[str, list[AssignmentRow]]]
    teams: list[tuple[str, Tally]]
    agents: list[AgentRow]

    @property
    def onboarding(self) -> bool:
        return self.plan is None


def _by_team(tasks: list[Task]) -> list[tuple[str, Tally]]:
    teams_: dict[str, Tally] = defaultdict(Tally)
    for task in tasks:
        teams_[task.user.team].add(task)
    return sorted(teams_.items(), key=lambda pair: (-pair[1].overdue, pair[0]))


def _by_agent(tasks: list[Task]) -> list[AgentRow]:
    rows: dict[int, AgentRow] = {}
    for task in tasks:
        row = rows.setdefault(task.user.id, AgentRow(task.user, Tally(), []))
        row.tally.add(task)
        row.tasks.append(task)
    for row in rows.values():
        row.tasks.sort(key=lambda t: (STATUSES.index(t.status), t.due_on))
    return sorted(rows.values(), key=lambda r: (-r.tally.overdue, -r.tally.due_soon, r.user.team, r.user.employee_no))


def plan_report(plan: TrainingPlan | None, now: datetime) -> PlanReport:
    """A plan's (or, for None, the onboarding window's) assignments with completion per
    assignment, month, team and agent. A fixed number of queries whatever the number of agents."""
    if plan is None:
        tasks = evaluate([], now, onboarding=True)
        rows: dict[int, AssignmentRow] = {}
        for course in onboarding_courses():
            rows[course.id] = AssignmentRow(None, Item("course", course.id, course.slug, course.title), Tally())
        for task in tasks:
            rows[task.item.id].tally.add(task)
        assignment_rows = list(rows.values())
        months = []
    else:
        assignments = plan_assignments(plan)
        live = [a for a in assignments if a.cancelled_at is None]
        tasks = evaluate(live, now)
        per: dict[int, Tally] = defaultdict(Tally)
        for task in tasks:
            per[task.assignment_id].add(task)
        assignment_rows = [AssignmentRow(a, item_of(a), per[a.id]) for a in assignments]
        grouped: dict[str, list[AssignmentRow]] = defaultdict(list)
        for row in assignment_rows:
            if row.assignment.cancelled_at is None:
                grouped[row.assignment.month].append(row)
        months = sorted(grouped.items())
    return PlanReport(plan, tally(tasks), assignment_rows, months, _by_team(tasks), _by_agent(tasks))


@dataclass
class PlanSummary:
    plan: TrainingPlan | None
    tally: Tally
    assignments: int


def plan_summaries(now: datetime) -> tuple[PlanSummary, list[PlanSummary], list[TrainingPlan]]:
    """(the onboarding window, each active plan, archived plans) with completion and overdue counts."""
    active, archived = list_plans()
    assignments = live_assignments()
    tasks = evaluate(assignments, now, onboarding=True)
    per: dict[str, Tally] = defaultdict(Tally)
    for task in tasks:
        per[task.plan.key].add(task)
    counts: dict[int, int] = defaultdict(int)
    for assignment in assignments:
        counts[assignment.plan_id] += 1
    onboarding = PlanSummary(None, per[ONBOARDING], len(onboarding_courses()))
    return onboarding, [PlanSummary(p, per[f"plan:{p.id}"], counts[p.id]) for p in active], archived


@dataclass
class Overview:
    tasks: list[Task]
    teams: list[tuple[str, Tally]]
    agents: list[AgentRow]


def overdue_overview(now: datetime) -> Overview:
    """Every overdue item across the active plans and the onboarding window, per team and agent."""
    tasks = [t for t in evaluate(live_assignments(), now, onboarding=True) if t.status == OVERDUE]
    tasks.sort(key=lambda t: (t.due_on, t.user.employee_no))
    return Overview(tasks, _by_team(tasks), _by_agent(tasks))


# --- an agent's own list ---------------------------------------------------------------------------

@dataclass
class MyAssignments:
    """What an agent has to do: `items` started and not done, overdue first, then due soon, then by
    due date; `done` and `upcoming` are counted only. Iterating gives the items; empty is false."""

    items: list[Task]
    done: int = 0
    upcoming: int = 0

    def __iter__(self):
        return iter(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def overdue(self) -> int:
        return sum(task.status == OVERDUE for task in self.items)


def _assignments_of(user: User) -> list[Assignment]:
    in_cohort = select(CohortMember.cohort_id).where(CohortMember.user_id == user.id)
    return list(db.session.scalars(
        _assignments_query().join(TrainingPlan, TrainingPlan.id == Assignment.plan_id)
        .where(Assignment.cancelled_at.is_(None), TrainingPlan.archived_at.is_(None),
               or_(Assignment.target_user_id == user.id,
                   and_(Assignment.target_kind == "team", Assignment.target_team == user.team),
                   and_(Assignment.target_kind == "level", Assignment.target_level == user.star_level),
                   Assignment.target_cohort_id.in_(in_cohort)))))


def _most_urgent(tasks: list[Task]) -> list[Task]:
    """One task per item: the most urgent of those giving it (a team's and a plan's, say)."""
    best: dict[tuple[str, int], Task] = {}
    for task in sorted(tasks, key=lambda t: (STATUSES.index(t.status), t.due_on)):
        best.setdefault(task.item.key, task)
    return list(best.values())


def my_assignments(user: User, now: datetime) -> MyAssignments:
    """What `user` (an active agent; anyone else has nothing) is assigned, for their home page."""
    if not user.is_authenticated or not user.active or not user.has_role("agent"):
        return MyAssignments([])
    tasks = _most_urgent(evaluate(_assignments_of(user), now, onboarding=True, only={user.id}))
    items = [t for t in tasks if t.status in ACTIVE]
    items.sort(key=lambda t: (STATUSES.index(t.status), t.due_on, t.item.title))
    return MyAssignments(items, done=sum(t.status == DONE for t in tasks),
                         upcoming=sum(t.status == UPCOMING for t in tasks))


def assignment_summary_for(user_ids, now: datetime) -> dict[int, tuple[int, int]]:
    """{user_id: (open, overdue)} for the active agents among `user_ids` (a mentor's mentees):
    open = started, not done and not overdue yet; overdue = past the due date and not done.
    Items given twice count once. A fixed number of queries."""
    ids = set(user_ids)
    assignments = [a for a in live_assignments() if a.target_kind != "agent" or a.target_user_id in ids]
    tasks = evaluate(assignments, now, onboarding=True, only=ids)
    per_user: dict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        per_user[task.user.id].append(task)
    summary = {user_id: (0, 0) for user_id in ids}
    for user_id, user_tasks in per_user.items():
        unique = _most_urgent(user_tasks)
        summary[user_id] = (sum(t.status in (OPEN, DUE_SOON) for t in unique),
                            sum(t.status == OVERDUE for t in unique))
    return summary


# --- reminders -------------------------------------------------------------------------------------

def send_reminders(actor: User, plan: TrainingPlan | None, now: datetime, *, employee_no: str | None = None) -> int:
    """Remind each agent with started, not done items of `plan` (None: the onboarding window),
    or only the agent `employee_no`, and commit. Once per plan, agent and day: a second click
    the same day reminds nobody again. Returns how many agents were reminded."""
    if plan is None:
        tasks = evaluate([], now, onboarding=True)
        plan_key, plan_name = ONBOARDING, ONBOARDING_NAME
    else:
        tasks = evaluate(plan_assignments(plan, include_cancelled=False), now) if plan.archived_at is None else []
        plan_key, plan_name = f"plan:{plan.id}", plan.name
    per_user: dict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        if task.status in ACTIVE and (employee_no is None or task.user.employee_no == employee_no):
            per_user[task.user.id].append(task)
    day = today_of(now).isoformat()
    reminded = 0
    for user_id, user_tasks in per_user.items():
        overdue = sum(t.status == OVERDUE for t in user_tasks)
        added = notify(user_id, "assignment_reminder", link="/", now=now,
                       key=f"plans:reminder:{plan_key}:{day}",
                       params={"plan": plan_name, "onboarding": plan is None, "count": len(user_tasks),
                               "open": len(user_tasks) - overdue, "overdue": overdue})
        reminded += added is not None
    audit(actor, "plan.reminded", "training_plan", plan.id if plan is not None else 0, plan=plan_key,
          reminded=reminded, employee_no=employee_no)
    db.session.commit()
    return reminded


def reminded_message(count: int) -> str:
    if count == 0:
        return _("Nobody was reminded: no open items, or everyone was reminded today already.")
    return ngettext("%(num)s agent reminded.", "%(num)s agents reminded.", count)
