"""The one rule of course completion, and the recertification cycle it runs in.

A course is complete when
  1. every live lesson is read,
  2. its final exam, if it has one, is passed by the exam's grading method,
  3. every practical it names (`practicals:` in course.md) has a result in force that passed, and
  4. where it sets `customer_evaluation:`, the agent's latest evaluation reaches that percentage.

The completion is written to the training record once, as a `course` entry dated when the last
requirement was met (`record_completions`, called by whatever operation met it). A recorded
completion stands: content added to the course later does not take it back; only a correction of
a result it rested on can (`after_correction` then writes a correcting entry).

A course with `valid_months` (a refresher) expires that many months after its completion. From
`LMS_RECERT_LEAD_DAYS` before expiry a new cycle opens: the course is *due*, and its lessons
(read again: opened since the cycle began), the exam's attempts and the practicals count afresh
from the cycle's start. Until expiry a due course still counts for promotion; an expired one
does not.

Everything is computed from `Facts` loaded in a fixed number of queries for any number of agents,
so the catalog, the exam card, the archive, the mentor page and the promotion list all ask here.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, subqueryload

from lms.clock import add_months
from lms.exams import grading
from lms.extensions import db
from lms.models import Course, Exam, ExamAttempt, LessonProgress, RecordEntry, Scenario, User

DEFAULT_LEAD_DAYS = 30

COMPLETE, DUE, EXPIRED, IN_PROGRESS, NOT_STARTED = "complete", "due", "expired", "in_progress", "not_started"


def lead_time() -> timedelta:
    return timedelta(days=int(current_app.config.get("LMS_RECERT_LEAD_DAYS", DEFAULT_LEAD_DAYS)))


def in_force():
    """Record entries no later entry corrects."""
    later = aliased(RecordEntry)
    return ~exists().where(later.corrects_id == RecordEntry.id)


def live_courses() -> list[Course]:
    """The live catalog with lessons and prerequisites: three queries however many courses there are
    (subqueryload; selectinload would send one more query per 500 courses)."""
    return list(db.session.scalars(
        select(Course).where(Course.retired_at.is_(None))
        .options(subqueryload(Course.lessons), subqueryload(Course.prerequisites))
        .order_by(Course.star_level, Course.position, Course.id)))


# --- what is known about agents --------------------------------------------------------------------

@dataclass
class AttemptFact:
    exam_id: int
    number: int
    state: str
    percent: float | None
    started_at: datetime
    submitted_at: datetime | None


@dataclass
class Facts:
    """Everything the rule reads about a set of agents, loaded at once."""

    exams: dict[int, Exam]  # course id -> its live final exam
    scenario_titles: dict[str, str]
    progress: dict[int, dict[int, Any]] = field(
        default_factory=lambda: defaultdict(dict))  # user -> lesson id -> its progress row (one per lesson)
    attempts: dict[int, dict[int, list[AttemptFact]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))  # user -> exam -> finished attempts
    # Record entries are rows of _RULE_ENTRIES: a RecordEntry's columns but `details`, plus `scenario`.
    practicals: dict[int, dict[str, list[Any]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))  # user -> scenario slug -> in force
    evaluations: dict[int, list[Any]] = field(default_factory=lambda: defaultdict(list))  # oldest first
    completions: dict[int, dict[int, list[Any]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))  # user -> course -> in force, oldest first
    _live_lessons: dict[int, set[int]] = field(default_factory=dict)  # course id -> its live lesson ids

    def live_lesson_ids(self, course: Course) -> set[int]:
        """The course's live lessons, worked out once for all the agents these facts are of."""
        if course.id not in self._live_lessons:
            self._live_lessons[course.id] = {lesson.id for lesson in course.live_lessons}
        return self._live_lessons[course.id]


# The record entries the rule reads, as rows rather than ORM objects (a whole center's are ~150,000,
# and an object costs several times its row): every column but `details`, of which only a
# practical's scenario is read, by the database.
_RULE_ENTRIES = select(*(column for column in RecordEntry.__table__.c if column.key != "details"),
                       RecordEntry.details["scenario"].as_string().label("scenario"))


def load_facts(user_ids: Iterable[int]) -> Facts:
    """The facts of `user_ids` in six queries, whatever their number and history."""
    ids = list(set(user_ids))
    exams = {exam.course_id: exam for exam in db.session.scalars(
        select(Exam).where(Exam.course_id.is_not(None), Exam.retired_at.is_(None)))}
    facts = Facts(exams=exams, scenario_titles=dict(db.session.execute(select(Scenario.slug, Scenario.title)).all()))
    if not ids:
        return facts
    for row in db.session.execute(
            select(LessonProgress.user_id, LessonProgress.lesson_id, LessonProgress.opened_at,
                   LessonProgress.completed_at).where(LessonProgress.user_id.in_(ids))):
        facts.progress[row.user_id][row.lesson_id] = row
    exam_ids = [exam.id for exam in exams.values()]
    if exam_ids:
        for row in db.session.execute(
                select(ExamAttempt.user_id, ExamAttempt.exam_id, ExamAttempt.number, ExamAttempt.state,
                       ExamAttempt.percent, ExamAttempt.started_at, ExamAttempt.submitted_at)
                .where(ExamAttempt.user_id.in_(ids), ExamAttempt.exam_id.in_(exam_ids), ExamAttempt.state != "open")
                .order_by(ExamAttempt.number)):
            facts.attempts[row.user_id][row.exam_id].append(
                AttemptFact(row.exam_id, row.number, row.state, row.percent, row.started_at, row.submitted_at))
    entries = db.session.execute(
        _RULE_ENTRIES.where(RecordEntry.user_id.in_(ids), RecordEntry.kind.in_(("practical", "evaluation", "course")),
                            in_force())
        .order_by(RecordEntry.occurred_at, RecordEntry.id))
    for entry in entries:
        if entry.kind == "practical":
            facts.practicals[entry.user_id][entry.scenario or ""].append(entry)
        elif entry.kind == "evaluation":
            facts.evaluations[entry.user_id].append(entry)
        elif entry.passed and entry.course_id is not None:
            facts.completions[entry.user_id][entry.course_id].append(entry)
    for user_id in facts.evaluations:
        facts.evaluations[user_id].sort(key=lambda entry: (entry.period or "", entry.occurred_at, entry.id))
    return facts


def cycle_start(user: User, course: Course, now: datetime) -> datetime | None:
    """When the open recertification cycle of `user` in `course` began, else None (one query)."""
    if not course.valid_months:
        return None
    valid_until = db.session.scalar(
        select(RecordEntry.valid_until).where(RecordEntry.user_id == user.id, RecordEntry.course_id == course.id,
                                              RecordEntry.kind == "course", RecordEntry.passed.is_(True), in_force())
        .order_by(RecordEntry.occurred_at.desc(), RecordEntry.id.desc()).limit(1))
    return _open_cycle(valid_until, now)


def _open_cycle(valid_until: datetime | None, now: datetime) -> datetime | None:
    """A completion valid until `valid_until` opens its next cycle `lead_time()` before: when, if by `now`."""
    if valid_until is None or now < valid_until - lead_time():
        return None
    return valid_until - lead_time()


# --- one course for one agent ----------------------------------------------------------------------

@dataclass
class Requirement:
    """One thing a course asks: `kind` lessons / exam / practical / evaluation."""

    kind: str
    met: bool
    met_at: datetime | None = None
    title: str = ""  # the exam's or the scenario's
    slug: str = ""
    done: int = 0  # lessons read, or attempts used in this cycle
    total: int = 0  # lessons in the course
    percent: float | None = None  # the exam's combined grade, the practical's or the evaluation's score
    threshold: float | None = None  # the pass mark asked
    entry: Any = None  # the record entry it rests on (a row of _RULE_ENTRIES)


@dataclass
class CourseState:
    course: Course
    requirements: list[Requirement]
    completion: Any  # the latest completion in force (a row of _RULE_ENTRIES), else None
    cycle_start: datetime | None  # a recertification cycle is open since then
    now: datetime

    @property
    def met(self) -> bool:
        return all(requirement.met for requirement in self.requirements)

    @property
    def met_at(self) -> datetime | None:
        moments = [requirement.met_at for requirement in self.requirements if requirement.met_at is not None]
        return max(moments) if moments else None

    @property
    def valid_until(self) -> datetime | None:
        return self.completion.valid_until if self.completion is not None else None

    @property
    def status(self) -> str:
        if self.completion is not None and self.cycle_start is None:
            return COMPLETE
        if self.met:
            return COMPLETE  # (re)completed; the entry is written by the operation that got here
        if self.completion is not None:
            return DUE if self.now < self.completion.valid_until else EXPIRED
        if any(r.done for r in self.requirements if r.kind in ("lessons", "exam")) or any(
                r.met for r in self.requirements):
            return IN_PROGRESS
        return NOT_STARTED

    @property
    def counts(self) -> bool:
        """Counts for promotion: complete, or due for recertification but not expired yet."""
        return self.status in (COMPLETE, DUE)

    @property
    def ever_completed(self) -> bool:
        return self.completion is not None or self.met

    @property
    def missing(self) -> list[Requirement]:
        return [requirement for requirement in self.requirements if not requirement.met]

    def requirement(self, kind: str) -> Requirement | None:
        return next((r for r in self.requirements if r.kind == kind), None)


def course_state(course: Course, user_id: int, facts: Facts, now: datetime) -> CourseState:
    completions = facts.completions[user_id].get(course.id, [])
    completion = completions[-1] if completions else None
    cycle_start = _open_cycle(completion.valid_until, now) if completion is not None else None
    requirements = [_lessons(facts.live_lesson_ids(course), facts.progress[user_id], cycle_start)]
    exam = facts.exams.get(course.id)
    if exam is not None:
        requirements.append(_exam(exam, facts.attempts[user_id].get(exam.id, []), cycle_start))
    for slug in course.practicals or []:
        requirements.append(_practical(slug, facts.scenario_titles.get(slug, slug),
                                       facts.practicals[user_id].get(slug, []), cycle_start))
    if course.evaluation_threshold is not None:
        requirements.append(_evaluation(course.evaluation_threshold, facts.evaluations[user_id]))
    return CourseState(course, requirements, completion, cycle_start, now)


def _lessons(live: set[int], rows: dict[int, Any], since: datetime | None) -> Requirement:
    """Every live lesson (`live`: their ids) read; in a recertification cycle, read again (opened)
    since it began. `rows`: the agent's progress by lesson id (looked up per live lesson: a mentor's
    page asks this for every mentee and course, and an agent of a year has hundreds of rows)."""
    read = []
    for lesson_id in live:
        row = rows.get(lesson_id)
        if row is None or row.completed_at is None:
            continue
        if since is None or row.completed_at >= since:
            read.append(row.completed_at)
        elif row.opened_at >= since:
            read.append(row.opened_at)
    met = len(read) >= len(live)
    return Requirement("lessons", met, max(read) if met and read else None, done=len(read), total=len(live))


def _exam(exam: Exam, attempts: list[AttemptFact], since: datetime | None) -> Requirement:
    counted = [a for a in attempts if since is None or a.started_at >= since]
    requirement = Requirement("exam", False, title=exam.title, slug=exam.slug, done=len(counted),
                              threshold=exam.pass_percent)
    requirement.percent = grading.combine(exam.grading_method, [a.percent for a in counted])
    for index, attempt in enumerate(counted):  # the attempt by which the exam was passed
        if grading.passed_exam(exam.grading_method, exam.pass_percent, [a.percent for a in counted[:index + 1]]):
            requirement.met, requirement.met_at = True, attempt.submitted_at
            break
    if requirement.met and not grading.passed_exam(exam.grading_method, exam.pass_percent,
                                                   [a.percent for a in counted]):
        requirement.met, requirement.met_at = False, None  # "last" or "average" went below the mark since
    return requirement


def _practical(slug: str, title: str, entries: list, since: datetime | None) -> Requirement:
    counted = [entry for entry in entries if since is None or entry.occurred_at >= since]
    passing = [entry for entry in counted if entry.passed]
    latest = (passing or counted or [None])[-1]
    return Requirement("practical", bool(passing), passing[0].occurred_at if passing else None, title=title, slug=slug,
                       done=len(counted), percent=latest.percent if latest else None, entry=latest)


def _evaluation(threshold: float, evaluations: list) -> Requirement:
    latest = evaluations[-1] if evaluations else None
    met = latest is not None and latest.score is not None and latest.score >= threshold - 1e-9
    return Requirement("evaluation", met, latest.occurred_at if met else None, threshold=threshold,
                       percent=latest.score if latest else None, entry=latest)


# --- an agent's standing over the catalog -----------------------------------------------------------

@dataclass
class Standing:
    user: User
    courses: list[Course]
    facts: Facts
    now: datetime
    _states: dict[int, CourseState] = field(default_factory=dict)

    def state(self, course: Course) -> CourseState:
        if course.id not in self._states:
            self._states[course.id] = course_state(course, self.user.id, self.facts, self.now)
        return self._states[course.id]

    @property
    def completed_lesson_ids(self) -> set[int]:
        progress = self.facts.progress[self.user.id]
        return {lesson_id for lesson_id, row in progress.items() if row.completed_at is not None}

    def due_or_expired(self) -> list[CourseState]:
        """Refreshers in a recertification cycle, most urgent first."""
        states = [self.state(course) for course in self.courses if course.valid_months]
        waiting = [state for state in states if state.status in (DUE, EXPIRED)]
        return sorted(waiting, key=lambda state: state.valid_until)

    def expiring(self) -> list[CourseState]:
        """Completions with an expiry still ahead, soonest first."""
        states = [self.state(course) for course in self.courses if course.valid_months]
        ahead = [s for s in states if s.completion is not None and s.completion.valid_until > self.now]
        return sorted(ahead, key=lambda state: state.valid_until)


def load_standing(user: User, now: datetime, courses: list[Course] | None = None) -> Standing:
    return load_standings([user], now, courses)[user.id]


def load_standings(users: list[User], now: datetime, courses: list[Course] | None = None,
                   facts: Facts | None = None) -> dict[int, Standing]:
    """Each user's standing over the live catalog, in a fixed number of queries (`facts`: those of
    these users when the caller has loaded them already)."""
    courses = live_courses() if courses is None else courses
    facts = load_facts(user.id for user in users) if facts is None else facts
    return {user.id: Standing(user, courses, facts, now) for user in users}


# --- writing completions ----------------------------------------------------------------------------

def record_completions(user: User, now: datetime, *, courses: list[Course] | None = None) -> list[RecordEntry]:
    """Write a `course` entry for every course `user` has newly met (a first completion, or a
    recertification in an open cycle), with its certificate. Call it after the operation's own
    writes are flushed; it does not commit. Returns the new entries."""
    db.session.flush()
    return _write_completions(load_standing(user, now, courses), now)


def record_completions_of(users: Iterable[User], now: datetime, *,
                          courses: list[Course] | None = None) -> list[RecordEntry]:
    """record_completions() for many users, their facts loaded in one go (an import of thousands
    of rows stays a fixed number of queries, not seven per agent)."""
    db.session.flush()
    written = []
    for standing in load_standings(list(users), now, courses).values():
        written += _write_completions(standing, now)
    return written


def _write_completions(standing: Standing, now: datetime) -> list[RecordEntry]:
    from lms.certificates.services import issue_for_completion
    from lms.records.services import add_entry

    user = standing.user
    written = []
    for course in standing.courses:
        state = standing.state(course)
        if not state.met or (state.completion is not None and state.cycle_start is None):
            continue
        met_at = state.met_at or now
        if state.completion is not None and met_at < state.cycle_start:
            met_at = now
        entry = add_entry(
            user=user, kind="course", title=course.title, course=course, passed=True, occurred_at=met_at,
            source_type="course", source_id=course.id,
            details=_completion_details(state, cycle=len(standing.facts.completions[user.id].get(course.id, [])) + 1),
        )
        entry.valid_until = add_months(met_at, course.valid_months) if course.valid_months else None
        db.session.flush()
        issue_for_completion(entry)
        written.append(entry)
    return written


def _completion_details(state: CourseState, *, cycle: int) -> dict:
    details: dict = {"cycle": cycle, "cycle_start": state.cycle_start.isoformat() if state.cycle_start else None}
    for requirement in state.requirements:
        if requirement.kind == "lessons":
            details["lessons"] = requirement.total
        elif requirement.kind == "exam":
            details["exam"] = {"slug": requirement.slug, "percent": requirement.percent}
        elif requirement.kind == "practical":
            details.setdefault("practical_entry_ids", []).append(requirement.entry.id if requirement.entry else None)
        elif requirement.kind == "evaluation":
            details["evaluation_entry_id"] = requirement.entry.id if requirement.entry else None
    return details


def _chain(entry: RecordEntry) -> set[int]:
    """The entry and every earlier entry it corrects, back to the original result."""
    ids = set()
    while entry is not None and entry.id not in ids:
        ids.add(entry.id)
        entry = entry.corrects
    return ids


def after_correction(user: User, corrected: RecordEntry, reason: str, actor: User | None,
                     now: datetime) -> list[RecordEntry]:
    """A result was corrected: completions resting on it that no longer hold are corrected too
    (a `course` entry that fails, with the reason), and courses it now completes are recorded.
    Does not commit. Returns the new entries."""
    return after_corrections([(user, corrected)], reason, actor, now)


def after_corrections(corrections: list[tuple[User, RecordEntry]], reason: str, actor: User | None,
                      now: datetime) -> list[RecordEntry]:
    """after_correction() for many corrected results at once (an import's), in a fixed number of
    queries whatever their number. Does not commit. Returns the new entries."""
    from lms.records.services import add_entry

    db.session.flush()
    users: dict[int, User] = {}
    corrected_of: dict[int, list[RecordEntry]] = defaultdict(list)
    for user, corrected in corrections:
        users[user.id] = user
        corrected_of[user.id].append(corrected)
    courses = live_courses()
    lapsed = []  # (standing, course, the id of its completion in force, the corrected results with their chains)
    for standing in load_standings(list(users.values()), now, courses).values():
        chains = [(corrected, _chain(corrected)) for corrected in corrected_of[standing.user.id]]
        for course in standing.courses:
            state = standing.state(course)
            if state.completion is not None and not state.met:
                lapsed.append((standing, course, state.completion.id, chains))
    # The standings hold entries as rows without `details`: the lapsed completions as objects, at once.
    entries = {entry.id: entry for entry in db.session.scalars(
        select(RecordEntry).where(RecordEntry.id.in_([completion_id for _s, _c, completion_id, _ch in lapsed])))
    } if lapsed else {}
    written = []
    for standing, course, completion_id, chains in lapsed:
        completion = entries[completion_id]
        rested_on = set((completion.details or {}).get("practical_entry_ids") or [])
        rested_on.add((completion.details or {}).get("evaluation_entry_id"))
        corrected = next((entry for entry, chain in chains if not rested_on.isdisjoint(chain)), None)
        if corrected is None:
            continue
        written.append(add_entry(
            user=standing.user, kind="course", title=course.title, course=course, passed=False,
            occurred_at=now, source_type="course", source_id=course.id, recorded_by=actor, corrects=completion,
            reason=reason, details={"corrected_entry_id": corrected.id, "corrected_title": corrected.title},
        ))
    return written + record_completions_of(users.values(), now, courses=courses)
