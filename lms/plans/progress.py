"""How far each agent is, without HTTP: tasks (one item for one agent, with its status at `now`),
and their sums per plan, month, team and agent (a plan's report, the plans' summaries, the overdue
overview) or for one agent (their own list, a mentor's summary of mentees). Whether an item is
done asks the owners of each rule: a course the one completion rule (lms.records.completion), an
exam its grading method (lms.exams.grading), a scenario a passed practical in force; a result from
before the assignment counts too. Everything about any number of agents is computed in a fixed
number of queries (`evaluate`). The onboarding window is shown as a pseudo-plan (`ONBOARDING`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import and_, or_, select

from lms.clock import center_zone
from lms.exams import grading
from lms.extensions import db
from lms.models import Course, Exam, ExamAttempt, User
from lms.models.plans import Assignment, CohortMember, TrainingPlan
from lms.plans.reach import AgentIndex, onboarding_courses, onboarding_due
from lms.plans.services import Item, assignments_query, item_of, list_plans, live_assignments, plan_assignments
from lms.plans.windows import (ACTIVE, DONE, DUE_SOON, OPEN, OVERDUE, STATUSES, UPCOMING, is_late, local_date,
                               month_of, status_of)
from lms.records import completion

ONBOARDING = "onboarding"  # the pseudo-plan's key
ONBOARDING_NAME = "入职培训"  # in notification params (the renderer may translate by `onboarding`)


# --- what is done ----------------------------------------------------------------------------------

class _Results:
    """When each agent completed each item, from facts loaded at once (six or seven queries)."""

    def __init__(self, users: list[User], courses: dict[int, Course], exams: dict[int, Exam], scenario_slugs: bool,
                 now: datetime, facts: completion.Facts | None = None):
        ids = [user.id for user in users]
        self.now = now
        self.courses = courses
        self.exams = exams
        if facts is None and ids and (courses or scenario_slugs):
            facts = completion.load_facts(ids)
        self.facts = facts
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
             only: set[int] | None = None, facts: completion.Facts | None = None) -> list[Task]:
    """Every (agent, item) that `assignments` and, with `onboarding`, the onboarding window give,
    with its status at `now`; only the agents in `only` when given. A fixed number of queries.
    `facts`: the completion facts of (at least) those agents when the caller has them already."""
    index = AgentIndex.load(assignments, onboarding=onboarding, only=only)
    courses = onboarding_courses() if onboarding and index.users else []
    course_map = {course.id: course for course in courses}
    course_map.update({a.course.id: a.course for a in assignments if a.item_kind == "course"})
    exams = {a.exam.id: a.exam for a in assignments if a.item_kind == "exam"}
    results = _Results(index.users, course_map, exams, any(a.item_kind == "scenario" for a in assignments), now,
                       facts)
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
        assignments_query().join(TrainingPlan, TrainingPlan.id == Assignment.plan_id)
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


def my_assignments(user: User, now: datetime, facts: completion.Facts | None = None) -> MyAssignments:
    """What `user` (an active agent; anyone else has nothing) is assigned, for their home page
    (`facts`: the user's completion facts when the caller has them already)."""
    if not user.is_authenticated or not user.active or not user.has_role("agent"):
        return MyAssignments([])
    tasks = _most_urgent(evaluate(_assignments_of(user), now, onboarding=True, only={user.id}, facts=facts))
    items = [t for t in tasks if t.status in ACTIVE]
    items.sort(key=lambda t: (STATUSES.index(t.status), t.due_on, t.item.title))
    return MyAssignments(items, done=sum(t.status == DONE for t in tasks),
                         upcoming=sum(t.status == UPCOMING for t in tasks))


def assignment_summary_for(user_ids, now: datetime,
                           facts: completion.Facts | None = None) -> dict[int, tuple[int, int]]:
    """{user_id: (open, overdue)} for the active agents among `user_ids` (a mentor's mentees):
    open = started, not done and not overdue yet; overdue = past the due date and not done.
    Items given twice count once. A fixed number of queries (`facts`: theirs, when already loaded)."""
    ids = set(user_ids)
    assignments = [a for a in live_assignments() if a.target_kind != "agent" or a.target_user_id in ids]
    tasks = evaluate(assignments, now, onboarding=True, only=ids, facts=facts)
    per_user: dict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        per_user[task.user.id].append(task)
    summary = {user_id: (0, 0) for user_id in ids}
    for user_id, user_tasks in per_user.items():
        unique = _most_urgent(user_tasks)
        summary[user_id] = (sum(t.status in (OPEN, DUE_SOON) for t in unique),
                            sum(t.status == OVERDUE for t in unique))
    return summary
