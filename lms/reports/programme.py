"""The programme reports (overview, by team, by course, one team, one course) without HTTP.

Everything starts from `load_programme(period, filters, now)`: the active agents in scope (team and
star level filters) and, for each, the figures every page sums, loaded in a fixed number of queries
whatever the number of agents:

- assigned courses: the live required courses of the agent's own star level, plus the courses that
  plans and the onboarding window give them (lms.plans.progress); complete = the one completion
  rule says the course counts (complete, or due for recertification but not expired);
- overdue: plan and onboarding items past their due date and not done (an item given twice counts
  once);
- results: exam and practical entries in force that occurred in the period, with pass/fail, percent
  and band; course completions of the period for the trend;
- refreshers: completions whose validity ends in the next 30 / 60 / 90 days;
- onboarding: per intake (a cohort, or the hire month of agents in no cohort hired in the period),
  the agents who read every onboarding lesson, passed every onboarding exam, passed every
  onboarding practical, and were promoted from 0 stars. Each stage is counted on its own (an
  agent promoted by an import before any reading still counts as promoted).

The track and course filters narrow the courses (assigned, complete, overdue, results, expiring);
the onboarding funnel always reads the onboarding courses.

Every number of the overview is the sum (or count) of a drill-down list (`drill_down`), so the
two always agree.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.extensions import db
from lms.models import Course, RecordEntry, StarChange, User
from lms.models.courses import TRACKS
from lms.models.plans import Cohort, CohortMember
from lms.plans.progress import evaluate
from lms.plans.reach import active_agents, onboarding_courses
from lms.plans.services import live_assignments
from lms.plans.windows import OVERDUE
from lms.records import completion
from lms.records.kpi import month_finder, month_of, monthly_kpi
from lms.reports.period import Period
from lms.reports.tables import Column, Filters, ReportTable, report

EXPIRY_WINDOWS = (30, 60, 90)
FUNNEL_STAGES = ("lessons", "exams", "practicals", "promoted")
BAND_KEYS = ("excellent", "good", "pass", "needs_improvement")
MAX_LEVEL = 5


class FilterInvalid(ValueError):
    """A filter names no team, level, track or course that exists."""


class ReportNotAllowed(PermissionError):
    """Programme reports are for trainers and admins."""


def may_read(viewer: User | None) -> bool:
    return viewer is None or viewer.has_role("trainer", "admin")  # None: the command line


# --- what the filters may name ------------------------------------------------------------------------

def teams() -> list[str]:
    """The teams of the active agents (one query)."""
    scope = active_agents().subquery()
    return list(db.session.scalars(select(scope.c.team).where(scope.c.team != "").distinct().order_by(scope.c.team)))


def courses_offered() -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.retired_at.is_(None))
                                   .order_by(Course.star_level, Course.position, Course.id)))


def check_filters(filters: Filters, known_teams: list[str] | None = None) -> None:
    """Raise FilterInvalid when a filter names nothing that exists."""
    if filters.team is not None and filters.team not in (teams() if known_teams is None else known_teams):
        raise FilterInvalid("team")
    if filters.level is not None and not 0 <= filters.level <= MAX_LEVEL:
        raise FilterInvalid("level")
    if filters.track is not None and filters.track not in TRACKS:
        raise FilterInvalid("track")
    if filters.course_slug is not None and db.session.scalar(
            select(Course.id).where(Course.slug == filters.course_slug)) is None:
        raise FilterInvalid("course")


# --- the figures ------------------------------------------------------------------------------------------

@dataclass
class Result:
    kind: str  # exam | practical
    course_id: int | None
    percent: float | None
    passed: bool | None
    band: str | None
    month: str


@dataclass
class AgentFigures:
    user: User
    assigned: set[int] = field(default_factory=set)  # course ids
    complete: set[int] = field(default_factory=set)
    overdue: set[tuple[str, int]] = field(default_factory=set)  # item keys
    overdue_courses: set[int] = field(default_factory=set)
    results: list[Result] = field(default_factory=list)
    completions: list[tuple[int | None, str]] = field(default_factory=list)  # (course id, month) in the period
    expiring: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))  # window -> valid_until
    stages: set[str] = field(default_factory=set)
    intakes: list[str] = field(default_factory=list)  # intake keys
    kpi: dict[str, float] = field(default_factory=dict)  # month -> training index (months with data)

    def of(self, kind: str, course_id: int | None = None) -> list[Result]:
        return [r for r in self.results if r.kind == kind and (course_id is None or r.course_id == course_id)]


@dataclass
class Intake:
    key: str  # "cohort:3" or "hired:2026-10"
    label: str
    user_ids: list[int] = field(default_factory=list)


@dataclass
class Programme:
    period: Period
    filters: Filters
    now: datetime
    courses: list[Course]  # in focus (track / course filters)
    agents: list[AgentFigures]
    intakes: list[Intake]

    @property
    def by_id(self) -> dict[int, AgentFigures]:
        return {figures.user.id: figures for figures in self.agents}


def _focus(courses: list[Course], filters: Filters) -> list[Course]:
    return [c for c in courses if (filters.track is None or c.track == filters.track)
            and (filters.course_slug is None or c.slug == filters.course_slug)]


def scope_statement(filters: Filters):
    statement = active_agents()
    if filters.team is not None:
        statement = statement.where(User.team == filters.team)
    if filters.level is not None:
        statement = statement.where(User.star_level == filters.level)
    return statement


def load_programme(period: Period, filters: Filters, now: datetime) -> Programme:
    """Every figure of the programme reports for the agents in scope; a fixed number of queries."""
    users = list(db.session.scalars(scope_statement(filters).order_by(User.team, User.employee_no)))
    all_courses = completion.live_courses()
    focus = _focus(all_courses, filters)
    focus_ids = {course.id for course in focus}
    figures = {user.id: AgentFigures(user) for user in users}
    programme = Programme(period, filters, now, focus, list(figures.values()), [])
    if not users:
        return programme
    ids = set(figures)
    standings = completion.load_standings(users, now, all_courses)

    # assigned and complete: required courses of the agent's level, plus plan and onboarding courses
    for user in users:
        mine = figures[user.id]
        mine.assigned = {c.id for c in focus if c.kind == "required" and c.star_level == user.star_level}
    facts = next(iter(standings.values())).facts  # loaded once for every agent in scope
    tasks = evaluate(live_assignments(), now, onboarding=True, only=ids, facts=facts)
    for task in tasks:
        mine = figures[task.user.id]
        in_focus = task.item.kind == "course" and task.item.id in focus_ids
        if task.item.kind == "course" and in_focus:
            mine.assigned.add(task.item.id)
        if task.status == OVERDUE and (in_focus or (filters.track is None and filters.course_slug is None)):
            mine.overdue.add(task.item.key)
            if in_focus:
                mine.overdue_courses.add(task.item.id)
    by_course = {course.id: course for course in all_courses}
    windows = {days: now + timedelta(days=days) for days in EXPIRY_WINDOWS}
    for user in users:
        standing, mine = standings[user.id], figures[user.id]
        mine.complete = {cid for cid in mine.assigned if cid in by_course and standing.state(by_course[cid]).counts}
        for state in standing.expiring():
            if state.course.id not in focus_ids:
                continue
            for days, limit in windows.items():
                if state.valid_until <= limit:
                    mine.expiring[days].append(state.valid_until)

    # results and completions in the period
    statement = (select(RecordEntry.user_id, RecordEntry.kind, RecordEntry.course_id, RecordEntry.percent,
                        RecordEntry.passed, RecordEntry.band, RecordEntry.occurred_at)
                 .where(RecordEntry.user_id.in_(scope_statement(filters).with_only_columns(User.id)),
                        RecordEntry.kind.in_(("exam", "practical", "course")), completion.in_force(),
                        RecordEntry.occurred_at >= period.start, RecordEntry.occurred_at < period.end))
    if filters.track is not None or filters.course_slug is not None:
        statement = statement.where(RecordEntry.course_id.in_(focus_ids or {-1}))
    month_in = month_finder(period.months)
    for row in db.session.execute(statement.order_by(RecordEntry.occurred_at, RecordEntry.id)):
        mine = figures.get(row.user_id)
        if mine is None:
            continue
        month = month_in(row.occurred_at) or month_of(row.occurred_at)
        if row.kind == "course":
            if row.passed:
                mine.completions.append((row.course_id, month))
        else:
            mine.results.append(Result(row.kind, row.course_id, row.percent, row.passed, row.band, month))

    # the training index by month (no course filter applies to it)
    for (user_id, month), cell in monthly_kpi(ids, period.months).items():
        if cell.index is not None:
            figures[user_id].kpi[month] = cell.index

    _onboarding(programme, figures, standings, period)
    return programme


def _onboarding(programme: Programme, figures: dict[int, AgentFigures], standings, period: Period) -> None:
    ids = list(figures)
    intro = onboarding_courses()
    promoted = set(db.session.scalars(
        select(StarChange.user_id).where(StarChange.user_id.in_(ids), StarChange.from_level == 0,
                                         StarChange.to_level > 0, StarChange.kind != "declined")))
    intakes: dict[str, Intake] = {}
    in_cohort: set[int] = set()
    for cohort_id, name, user_id in db.session.execute(
            select(Cohort.id, Cohort.name, CohortMember.user_id).join(CohortMember, CohortMember.cohort_id == Cohort.id)
            .where(CohortMember.user_id.in_(ids)).order_by(Cohort.name, Cohort.id)):
        intakes.setdefault(f"cohort:{cohort_id}", Intake(f"cohort:{cohort_id}", name)).user_ids.append(user_id)
        in_cohort.add(user_id)
    hired: dict[str, Intake] = {}
    for figures_ in figures.values():
        user = figures_.user
        if user.id in in_cohort or user.hire_date is None:
            continue
        month = f"{user.hire_date.year:04d}-{user.hire_date.month:02d}"
        if month in period.months:
            hired.setdefault(month, Intake(f"hired:{month}", str(_l("Hired %(month)s", month=month)))
                             ).user_ids.append(user.id)
    programme.intakes = list(intakes.values()) + [hired[month] for month in sorted(hired)]
    for intake in programme.intakes:
        for user_id in intake.user_ids:
            mine = figures[user_id]
            mine.intakes.append(intake.key)
            states = [standings[user_id].state(course) for course in intro]
            stages = set()
            if all(s.requirement("lessons").met for s in states):
                stages.add("lessons")
            if all(r.met for s in states for r in s.requirements if r.kind == "exam"):
                stages.add("exams")
            if all(r.met for s in states for r in s.requirements if r.kind == "practical"):
                stages.add("practicals")
            if user_id in promoted:
                stages.add("promoted")
            mine.stages = stages


# --- small sums ---------------------------------------------------------------------------------------------

def rate(passed: int, taken: int) -> float | None:
    return round(100.0 * passed / taken, 1) if taken else None


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 1) if values else None


def _passed(results: list[Result]) -> int:
    return sum(1 for r in results if r.passed)


def _taken(results: list[Result]) -> list[Result]:
    return [r for r in results if r.passed is not None]


def _scored(results: list[Result]) -> list[float]:
    return [r.percent for r in results if r.percent is not None]


# --- drill-down: every number is the sum of the values of a list of agents ----------------------------------

@dataclass(frozen=True)
class Metric:
    key: str
    label: object
    value: Callable[[AgentFigures], float | int | None]
    kind: str = "int"  # the value column's kind
    counts_agents: bool = False  # the overview number is how many agents are listed, not a sum


def _count(fn):
    return lambda f: len(fn(f))


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("agents", _l("Agents in scope"), lambda f: len(f.assigned), counts_agents=True),
    Metric("assigned", _l("Courses assigned"), lambda f: len(f.assigned)),
    Metric("complete", _l("Courses complete"), lambda f: len(f.complete)),
    Metric("incomplete", _l("Courses not complete"), lambda f: len(f.assigned - f.complete)),
    Metric("overdue", _l("Overdue items"), lambda f: len(f.overdue)),
    Metric("exams_taken", _l("Exam results"), _count(lambda f: _taken(f.of("exam")))),
    Metric("exams_passed", _l("Exams passed"), lambda f: _passed(f.of("exam"))),
    Metric("exams_failed", _l("Exams failed"), lambda f: len(_taken(f.of("exam"))) - _passed(f.of("exam"))),
    Metric("practicals_taken", _l("Practical results"), _count(lambda f: _taken(f.of("practical")))),
    Metric("practicals_passed", _l("Practicals passed"), lambda f: _passed(f.of("practical"))),
    Metric("practicals_failed", _l("Practicals failed"),
           lambda f: len(_taken(f.of("practical"))) - _passed(f.of("practical"))),
    Metric("scored", _l("Scored results"), lambda f: len(_scored(f.results))),
    *(Metric(f"band_{band}", label, (lambda b: lambda f: sum(1 for r in f.results if r.band == b))(band))
      for band, label in (("excellent", _l("Excellent")), ("good", _l("Good")), ("pass", _l("Pass")),
                          ("needs_improvement", _l("Needs improvement")))),
    *(Metric(f"expiring_{days}", _l("Expiring within %(days)s days", days=days),
             (lambda d: lambda f: len(f.expiring.get(d, [])))(days)) for days in EXPIRY_WINDOWS),
    *(Metric(f"funnel_{stage}", label, (lambda s: lambda f: 1 if s in f.stages else 0)(stage), counts_agents=True)
      for stage, label in (("lessons", _l("Onboarding lessons read")), ("exams", _l("Onboarding exams passed")),
                           ("practicals", _l("Onboarding practicals passed")),
                           ("promoted", _l("Promoted from 0 stars")))),
    Metric("intake", _l("Agents in the intake"), lambda f: 1, counts_agents=True),
)}


def listed(programme: Programme, metric: Metric, intake: str | None = None) -> list[tuple[AgentFigures, int]]:
    """The agents behind `metric` (those with a value above 0; for "agents", everyone), with the value."""
    rows = []
    for figures in programme.agents:
        if metric.key.startswith("funnel_") or metric.key == "intake":
            if intake is None or intake not in figures.intakes:
                continue
        value = metric.value(figures)
        if metric.key == "agents" or value:
            rows.append((figures, value))
    return rows


def total(programme: Programme, metric: Metric, intake: str | None = None) -> int:
    rows = listed(programme, metric, intake)
    return len(rows) if metric.counts_agents else sum(value for _, value in rows)


class UnknownMetric(LookupError):
    pass


def drill_down(programme: Programme, metric_key: str, intake: str | None = None) -> ReportTable:
    """The agents behind one number of the overview, with team, level and the value. Raises UnknownMetric."""
    metric = METRICS.get(metric_key)
    if metric is None or ((metric_key.startswith("funnel_") or metric_key == "intake")
                          and intake not in {i.key for i in programme.intakes}):
        raise UnknownMetric(metric_key)
    columns = [Column("employee_no", _l("Employee no.")), Column("name", _l("Name")), Column("team", _l("Team")),
               Column("level", _l("Star level"), "int")]
    if not metric.counts_agents or metric.key == "agents":
        columns.append(Column("value", metric.label if metric.key != "agents" else _l("Courses assigned"), metric.kind))
    rows = [{"employee_no": f.user.employee_no, "name": f.user.name, "team": f.user.team, "level": f.user.star_level,
             "value": value} for f, value in listed(programme, metric, intake)]
    return ReportTable("agents", metric.label, columns, rows)


# --- the overview -------------------------------------------------------------------------------------------

@dataclass
class Overview:
    programme: Programme
    numbers: dict[str, int]
    exam_rate: float | None
    practical_rate: float | None
    average: float | None
    completion_rate: float | None
    funnel: list[tuple[Intake, dict[str, int]]]
    trend: ReportTable
    tables: list[ReportTable]


def overview(programme: Programme) -> Overview:
    numbers = {key: total(programme, metric) for key, metric in METRICS.items()
               if not (key.startswith("funnel_") or key == "intake")}
    results = [r for f in programme.agents for r in f.results]
    funnel = []
    for intake in programme.intakes:
        counts = {"intake": len(intake.user_ids)}
        counts.update({stage: total(programme, METRICS[f"funnel_{stage}"], intake.key) for stage in FUNNEL_STAGES})
        funnel.append((intake, counts))
    trend = trend_table(programme, "overview-trend")
    view = Overview(programme, numbers, rate(numbers["exams_passed"], numbers["exams_taken"]),
                    rate(numbers["practicals_passed"], numbers["practicals_taken"]), mean(_scored(results)),
                    rate(numbers["complete"], numbers["assigned"]), funnel, trend, [])
    view.tables = [_summary_table(view), _bands_table(view), _expiring_table(view), _funnel_table(view), trend]
    return view


def _summary_table(view: Overview) -> ReportTable:
    n = view.numbers
    rows = [
        {"metric": str(_l("Agents in scope")), "value": n["agents"], "of": None, "percent": None},
        {"metric": str(_l("Courses complete")), "value": n["complete"], "of": n["assigned"],
         "percent": view.completion_rate},
        {"metric": str(_l("Overdue items")), "value": n["overdue"], "of": None, "percent": None},
        {"metric": str(_l("Exams passed")), "value": n["exams_passed"], "of": n["exams_taken"],
         "percent": view.exam_rate},
        {"metric": str(_l("Practicals passed")), "value": n["practicals_passed"], "of": n["practicals_taken"],
         "percent": view.practical_rate},
        {"metric": str(_l("Average score")), "value": n["scored"], "of": None, "percent": view.average},
    ]
    return ReportTable("overview", _l("Programme overview"),
                       [Column("metric", _l("Figure")), Column("value", _l("Number"), "int"),
                        Column("of", _l("Out of"), "int"), Column("percent", _l("Percent"), "percent")], rows)


def _bands_table(view: Overview) -> ReportTable:
    labels = {"band_excellent": _l("Excellent"), "band_good": _l("Good"), "band_pass": _l("Pass"),
              "band_needs_improvement": _l("Needs improvement")}
    rows = [{"band": str(label), "key": key, "results": view.numbers[key]} for key, label in labels.items()]
    return ReportTable("overview-bands", _l("Results by band"),
                       [Column("band", _l("Band")), Column("results", _l("Results"), "int")], rows)


def _expiring_table(view: Overview) -> ReportTable:
    rows = [{"window": str(_l("%(days)s days", days=days)), "key": f"expiring_{days}",
             "completions": view.numbers[f"expiring_{days}"]} for days in EXPIRY_WINDOWS]
    return ReportTable("overview-expiring", _l("Refresher completions expiring"),
                       [Column("window", _l("Within")), Column("completions", _l("Completions"), "int")], rows)


def _funnel_table(view: Overview) -> ReportTable:
    rows = [{"intake": intake.label, "key": intake.key, "intake_agents": counts["intake"],
             **{stage: counts[stage] for stage in FUNNEL_STAGES}} for intake, counts in view.funnel]
    return ReportTable("overview-onboarding", _l("Onboarding by intake"), [
        Column("intake", _l("Intake")), Column("intake_agents", _l("Agents"), "int"),
        Column("lessons", _l("Lessons read"), "int"), Column("exams", _l("Exams passed"), "int"),
        Column("practicals", _l("Practicals passed"), "int"), Column("promoted", _l("Promoted"), "int")], rows)


def funnel_chart_table(intake: Intake, counts: dict[str, int]) -> ReportTable:
    """One intake's funnel as a chart's table: stage, agents."""
    labels = (("intake", _l("In the intake")), ("lessons", _l("Lessons read")), ("exams", _l("Exams passed")),
              ("practicals", _l("Practicals passed")), ("promoted", _l("Promoted")))
    safe = "".join(ch if ch.isalnum() else "-" for ch in intake.key)
    return ReportTable(f"funnel-{safe}", intake.label,
                       [Column("stage", _l("Stage")), Column("agents", _l("Agents"), "int")],
                       [{"stage": str(label), "key": key, "agents": counts[key]} for key, label in labels])


# --- trends by month ------------------------------------------------------------------------------------------

TREND_COLUMNS = [Column("month", _l("Month")), Column("completions", _l("Course completions"), "int"),
                 Column("exam_rate", _l("Exam pass rate"), "percent"),
                 Column("practical_rate", _l("Practical pass rate"), "percent"),
                 Column("average", _l("Average score"), "percent"),
                 Column("index", _l("Training index"), "number")]


def trend_table(programme: Programme, name: str, agents: list[AgentFigures] | None = None,
                course_id: int | None = None) -> ReportTable:
    """Month by month over the period: course completions, pass rates, average score and the mean
    training index of the agents with data (not for one course: the index is not per course)."""
    agents = programme.agents if agents is None else agents
    rows = []
    results_in: dict[str, list[Result]] = defaultdict(list)  # by month: one pass, not one per month
    for figures in agents:
        for result in figures.results:
            if course_id is None or result.course_id == course_id:
                results_in[result.month].append(result)
    for month in programme.period.months:
        results = results_in[month]
        exams = _taken([r for r in results if r.kind == "exam"])
        practicals = _taken([r for r in results if r.kind == "practical"])
        rows.append({"month": month,
                     "completions": sum(1 for f in agents for cid, m in f.completions
                                        if m == month and (course_id is None or cid == course_id)),
                     "exam_rate": rate(_passed(exams), len(exams)),
                     "practical_rate": rate(_passed(practicals), len(practicals)),
                     "average": mean(_scored(results)),
                     "index": None if course_id is not None else mean(f.kpi[month] for f in agents if month in f.kpi)})
    return ReportTable(name, _l("Trend by month"), list(TREND_COLUMNS), rows)


def variant(table: ReportTable, suffix: str, title=None) -> ReportTable:
    """The same rows under another name (and title): a second chart of one table needs its own id."""
    return replace(table, name=f"{table.name}-{suffix}", title=title if title is not None else table.title)


# --- by team and by course ------------------------------------------------------------------------------------

TEAM_COLUMNS = [Column("team", _l("Team")), Column("agents", _l("Agents"), "int"),
                Column("assigned", _l("Courses assigned"), "int"), Column("complete", _l("Courses complete"), "int"),
                Column("completion_rate", _l("Completion"), "percent"), Column("overdue", _l("Overdue items"), "int"),
                Column("exam_rate", _l("Exam pass rate"), "percent"),
                Column("practical_rate", _l("Practical pass rate"), "percent"),
                Column("average", _l("Average score"), "percent"), Column("index", _l("Training index"), "number")]
COURSE_COLUMNS = [Column("course", _l("Course")), Column("slug", _l("Code")), Column("level", _l("Star level"), "int"),
                  Column("assigned", _l("Agents assigned"), "int"), Column("complete", _l("Complete"), "int"),
                  Column("completion_rate", _l("Completion"), "percent"), Column("overdue", _l("Agents overdue"), "int"),
                  Column("exam_results", _l("Exam results"), "int"), Column("exam_rate", _l("Exam pass rate"), "percent"),
                  Column("practical_rate", _l("Practical pass rate"), "percent"),
                  Column("average", _l("Average score"), "percent")]
AGENT_COLUMNS = [Column("employee_no", _l("Employee no.")), Column("name", _l("Name")),
                 Column("level", _l("Star level"), "int"), Column("assigned", _l("Courses assigned"), "int"),
                 Column("complete", _l("Courses complete"), "int"), Column("overdue", _l("Overdue items"), "int"),
                 Column("exam_rate", _l("Exam pass rate"), "percent"), Column("average", _l("Average score"), "percent"),
                 Column("index", _l("Training index"), "number")]


def _group_row(agents: list[AgentFigures]) -> dict:
    results = [r for f in agents for r in f.results]
    exams, practicals = _taken([r for r in results if r.kind == "exam"]), _taken(
        [r for r in results if r.kind == "practical"])
    assigned = sum(len(f.assigned) for f in agents)
    complete = sum(len(f.complete) for f in agents)
    return {"agents": len(agents), "assigned": assigned, "complete": complete,
            "completion_rate": rate(complete, assigned), "overdue": sum(len(f.overdue) for f in agents),
            "exam_rate": rate(_passed(exams), len(exams)), "practical_rate": rate(_passed(practicals), len(practicals)),
            "average": mean(_scored(results)), "index": mean(v for f in agents for v in f.kpi.values())}


def team_rows(programme: Programme) -> list[dict]:
    groups: dict[str, list[AgentFigures]] = defaultdict(list)
    for figures in programme.agents:
        groups[figures.user.team].append(figures)
    return [{"team": team, **_group_row(agents)} for team, agents in sorted(groups.items())]


def course_rows(programme: Programme) -> list[dict]:
    rows = []
    results_of: dict[int | None, list[Result]] = defaultdict(list)  # by course: one pass, not one per course
    for figures in programme.agents:
        for result in figures.results:
            results_of[result.course_id].append(result)
    for course in programme.courses:
        assigned = [f for f in programme.agents if course.id in f.assigned]
        results = results_of[course.id]
        exams, practicals = _taken([r for r in results if r.kind == "exam"]), _taken(
            [r for r in results if r.kind == "practical"])
        complete = sum(1 for f in assigned if course.id in f.complete)
        rows.append({"course": course.title, "slug": course.slug, "level": course.star_level,
                     "assigned": len(assigned), "complete": complete, "completion_rate": rate(complete, len(assigned)),
                     "overdue": sum(1 for f in programme.agents if course.id in f.overdue_courses),
                     "exam_results": len(exams), "exam_rate": rate(_passed(exams), len(exams)),
                     "practical_rate": rate(_passed(practicals), len(practicals)), "average": mean(_scored(results))})
    return rows


def agent_rows(agents: list[AgentFigures]) -> list[dict]:
    rows = []
    for f in agents:
        exams = _taken(f.of("exam"))
        rows.append({"employee_no": f.user.employee_no, "name": f.user.name, "level": f.user.star_level,
                     "assigned": len(f.assigned), "complete": len(f.complete), "overdue": len(f.overdue),
                     "exam_rate": rate(_passed(exams), len(exams)), "average": mean(_scored(f.results)),
                     "index": mean(f.kpi.values())})
    return rows


def sort_rows(rows: list[dict], columns: list[Column], sort: str | None, descending: bool) -> tuple[list[dict], str]:
    """Rows sorted by the column `sort` (an unknown key: the first column); empty cells last either way."""
    keys = [column.key for column in columns]
    key = sort if sort in keys else keys[0]
    present = [row for row in rows if row.get(key) is not None]
    missing = [row for row in rows if row.get(key) is None]
    present.sort(key=lambda row: row[key], reverse=descending)
    return present + missing, key


def teams_table(programme: Programme, sort: str | None = None, descending: bool = False) -> ReportTable:
    rows, _ = sort_rows(team_rows(programme), TEAM_COLUMNS, sort, descending)
    return ReportTable("teams", _l("By team"), list(TEAM_COLUMNS), rows)


def courses_table(programme: Programme, sort: str | None = None, descending: bool = False,
                  name: str = "courses") -> ReportTable:
    rows, _ = sort_rows(course_rows(programme), COURSE_COLUMNS, sort, descending)
    return ReportTable(name, _l("By course"), list(COURSE_COLUMNS), rows)


def agents_table(programme: Programme, name: str, sort: str | None = None, descending: bool = False) -> ReportTable:
    rows, _ = sort_rows(agent_rows(programme.agents), AGENT_COLUMNS, sort, descending)
    return ReportTable(name, _l("Agents"), list(AGENT_COLUMNS), rows)


def course_teams_table(programme: Programme, course: Course) -> ReportTable:
    """One course, team by team."""
    groups: dict[str, list[AgentFigures]] = defaultdict(list)
    for figures in programme.agents:
        groups[figures.user.team].append(figures)
    rows = []
    for team, agents in sorted(groups.items()):
        assigned = [f for f in agents if course.id in f.assigned]
        results = [r for f in agents for r in f.results if r.course_id == course.id]
        exams = _taken([r for r in results if r.kind == "exam"])
        practicals = _taken([r for r in results if r.kind == "practical"])
        complete = sum(1 for f in assigned if course.id in f.complete)
        rows.append({"team": team, "agents": len(agents), "assigned": len(assigned), "complete": complete,
                     "completion_rate": rate(complete, len(assigned)),
                     "overdue": sum(1 for f in agents if course.id in f.overdue_courses),
                     "exam_rate": rate(_passed(exams), len(exams)),
                     "practical_rate": rate(_passed(practicals), len(practicals)), "average": mean(_scored(results)),
                     "index": None})
    columns = [c for c in TEAM_COLUMNS if c.key != "index"]
    return ReportTable("course-teams", _l("By team"), columns, rows)


# --- the registered builders (exports and `lms reports export NAME`) -----------------------------------------

def _allowed(viewer: User | None) -> None:
    if not may_read(viewer):
        raise ReportNotAllowed()


@report("overview")
def build_overview(viewer, period: Period, filters: Filters, now: datetime) -> list[ReportTable]:
    _allowed(viewer)
    return overview(load_programme(period, filters, now)).tables


@report("teams")
def build_teams(viewer, period: Period, filters: Filters, now: datetime, sort=None, descending=False):
    _allowed(viewer)
    programme = load_programme(period, filters, now)
    return [teams_table(programme, sort, descending), trend_table(programme, "teams-trend")]


@report("courses")
def build_courses(viewer, period: Period, filters: Filters, now: datetime, sort=None, descending=False):
    _allowed(viewer)
    programme = load_programme(period, filters, now)
    return [courses_table(programme, sort, descending), trend_table(programme, "courses-trend")]


@report("team")
def build_team(viewer, period: Period, filters: Filters, now: datetime, sort=None, descending=False):
    """One team's printable page: its courses, its agents, its trend (filters.team names it)."""
    _allowed(viewer)
    programme = load_programme(period, filters, now)
    return [courses_table(programme, name="team-courses"), agents_table(programme, "team-agents", sort, descending),
            trend_table(programme, "team-trend")]


@report("course")
def build_course(viewer, period: Period, filters: Filters, now: datetime, sort=None, descending=False):
    """One course (filters.course_slug names it): team by team, and its trend."""
    _allowed(viewer)
    programme = load_programme(period, filters, now)
    course = programme.courses[0] if len(programme.courses) == 1 else None
    tables = [trend_table(programme, "course-trend", course_id=course.id if course else None)]
    if course is not None:
        tables.insert(0, course_teams_table(programme, course))
    return tables
