"""What a mentor sees of their mentees, each figure in one SQL query whatever the numbers.

A practical's result in force is its newest record entry: the signed one, or the latest
correction of it. Pass rates count those, so a corrected result counts once.

Each mentee's learning (courses of their level, latest exam results, essays waiting for marks,
refreshers due) comes from lms.records.completion for all mentees at once. Exam results show
the grade and pass/fail, never answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from lms.clock import center_zone, utcnow
from lms.exams.makeup import out_of_attempts
from lms.plans.progress import assignment_summary_for
from lms.practicals.services import observation_state
from lms.extensions import db
from lms.models import Exam, ExamAttempt, Practical, RecordEntry, Rehearsal, User
from lms.records.access import is_mentor_of
from lms.records.completion import CourseState, Facts, load_facts, load_standings

RECENT = 10
LATEST_EXAMS = 3  # graded attempts shown per mentee


class MenteeNotFound(LookupError):
    pass


class NotYourMentee(PermissionError):
    pass


@dataclass
class ExamResult:
    """A finished attempt as the mentor sees it: the grade, never the answers."""

    exam_title: str
    number: int
    state: str  # graded / pending (essays wait for a marker)
    percent: float | None
    passed: bool | None
    submitted_at: datetime | None


# What the mentor does next with a mentee, most pressing first (MenteeRow.next_action).
REOBSERVE = "reobserve"  # a failed practical waits for its re-observation to be scheduled
IN_PROGRESS = "in_progress"  # a practical is open for today (or undated): observe it now
SCHEDULED = "scheduled"  # a practical is scheduled for a later day
TO_OBSERVE = "to_observe"  # no practical result yet, none open
UP_TO_DATE = "up_to_date"  # results in force, none failed and waiting


@dataclass
class MenteeRow:
    user: User
    observed: int = 0
    passed: int = 0
    required_done: int = 0  # required courses of the mentee's current star level that count
    required_total: int = 0
    exams: list[ExamResult] = field(default_factory=list)  # latest graded attempts, newest first
    pending: list[ExamResult] = field(default_factory=list)  # attempts whose essays wait for marks
    refreshers: list[CourseState] = field(default_factory=list)  # due or expired, most urgent first
    assigned_open: int = 0  # training-plan and onboarding items started and not done (lms.plans)
    assigned_overdue: int = 0
    next_action: str = TO_OBSERVE
    # the practical the next action is about: the failed one (REOBSERVE), the open one (IN_PROGRESS,
    # SCHEDULED); None when a new observation is the thing to do
    action_practical: Practical | None = None

    @property
    def pass_rate(self) -> int | None:
        return round(100 * self.passed / self.observed) if self.observed else None


@dataclass
class MentorOverview:
    mentees: list[MenteeRow]
    scheduled: list[Practical]
    awaiting_reobservation: list[tuple[RecordEntry, Practical]]
    recent: list[RecordEntry]
    rehearsals: list[Rehearsal]
    observed: int = field(default=0)
    passed: int = field(default=0)
    out_of_attempts: list = field(default_factory=list)  # lms.exams.makeup.OutOfAttempts of the mentees

    @property
    def pass_rate(self) -> int | None:
        return round(100 * self.passed / self.observed) if self.observed else None


def results_in_force():
    """Practical record entries that no later entry corrects."""
    later = aliased(RecordEntry)
    return and_(RecordEntry.kind == "practical", ~exists().where(later.corrects_id == RecordEntry.id))


def _add_learning(rows: dict[int, MenteeRow], mentees: list[User], now: datetime, facts: Facts) -> None:
    """Course progress of each mentee's level, latest exam results, pending essays, refreshers:
    a fixed number of queries for all mentees."""
    for user_id, standing in load_standings(mentees, now, facts=facts).items():
        row = rows[user_id]
        for course in standing.courses:
            if course.star_level == row.user.star_level and course.kind == "required":
                row.required_total += 1
                row.required_done += standing.state(course).counts
        row.refreshers = standing.due_or_expired()
    if not rows:
        return
    newest = func.row_number().over(partition_by=ExamAttempt.user_id,
                                    order_by=(ExamAttempt.submitted_at.desc(), ExamAttempt.id.desc()))
    graded = (select(ExamAttempt.user_id, Exam.title, ExamAttempt.number, ExamAttempt.state, ExamAttempt.percent,
                     ExamAttempt.passed, ExamAttempt.submitted_at, newest.label("rank"))
              .join(Exam, Exam.id == ExamAttempt.exam_id)
              .where(ExamAttempt.user_id.in_(list(rows)), ExamAttempt.state == "graded").subquery())
    for row in db.session.execute(select(graded).where(graded.c.rank <= LATEST_EXAMS)
                                  .order_by(graded.c.user_id, graded.c.rank)):
        rows[row.user_id].exams.append(ExamResult(row.title, row.number, row.state, row.percent, row.passed,
                                                  row.submitted_at))
    for row in db.session.execute(
            select(ExamAttempt.user_id, Exam.title, ExamAttempt.number, ExamAttempt.state, ExamAttempt.submitted_at)
            .join(Exam, Exam.id == ExamAttempt.exam_id)
            .where(ExamAttempt.user_id.in_(list(rows)), ExamAttempt.state == "pending")
            .order_by(ExamAttempt.submitted_at, ExamAttempt.id)):
        rows[row.user_id].pending.append(ExamResult(row.title, row.number, row.state, None, None, row.submitted_at))


def mentor_overview(mentor: User, now: datetime | None = None) -> MentorOverview:
    mentees = list(db.session.scalars(select(User).where(User.mentor_id == mentor.id, User.active.is_(True))
                                      .order_by(User.name, User.employee_no)))
    mentee_ids = select(User.id).where(User.mentor_id == mentor.id, User.active.is_(True)).scalar_subquery()
    rows = {user.id: MenteeRow(user) for user in mentees}
    rates = db.session.execute(
        select(RecordEntry.user_id, func.count(), func.sum(case((RecordEntry.passed.is_(True), 1), else_=0)))
        .where(results_in_force(), RecordEntry.user_id.in_(mentee_ids)).group_by(RecordEntry.user_id))
    for user_id, observed, passed in rates:
        rows[user_id].observed, rows[user_id].passed = observed, int(passed or 0)
    facts = load_facts(rows)  # what the standings and the assignments both read: loaded once
    _add_learning(rows, mentees, now or utcnow(), facts)
    scheduled = list(db.session.scalars(
        select(Practical).where(Practical.agent_id.in_(mentee_ids), Practical.status == "scheduled")
        .options(joinedload(Practical.agent), joinedload(Practical.scenario))
        .order_by(Practical.scheduled_for.is_(None), Practical.scheduled_for, Practical.created_at)))
    follow_up = aliased(Practical)
    failed = db.session.execute(
        select(RecordEntry, Practical).join(Practical, Practical.id == RecordEntry.source_id)
        .where(results_in_force(), RecordEntry.source_type == "practical", RecordEntry.passed.is_(False),
               RecordEntry.user_id.in_(mentee_ids),
               ~exists().where(follow_up.reobservation_of_id == Practical.id, follow_up.status != "cancelled"))
        .options(joinedload(RecordEntry.user), joinedload(Practical.scenario))
        .order_by(RecordEntry.occurred_at.desc())).all()
    recent = list(db.session.scalars(
        select(RecordEntry).where(results_in_force(), RecordEntry.user_id.in_(mentee_ids))
        .options(joinedload(RecordEntry.user)).order_by(RecordEntry.occurred_at.desc(), RecordEntry.id.desc())
        .limit(RECENT)))
    rehearsals = list(db.session.scalars(
        select(Rehearsal).where(Rehearsal.user_id.in_(mentee_ids))
        .options(joinedload(Rehearsal.user), joinedload(Rehearsal.scenario))
        .order_by(Rehearsal.started_at.desc(), Rehearsal.id.desc()).limit(RECENT)))
    overview = MentorOverview(list(rows.values()), scheduled, [tuple(row) for row in failed], recent, rehearsals)
    _set_next_actions(rows, scheduled, overview.awaiting_reobservation,
                      (now or utcnow()).astimezone(center_zone()).date())
    overview.observed = sum(row.observed for row in overview.mentees)
    overview.out_of_attempts = out_of_attempts(now or utcnow(), user_ids=list(rows))
    for user_id, (open_items, overdue) in assignment_summary_for(list(rows), now or utcnow(), facts).items():
        rows[user_id].assigned_open, rows[user_id].assigned_overdue = open_items, overdue
    overview.passed = sum(row.passed for row in overview.mentees)
    return overview


def _set_next_actions(rows: dict[int, MenteeRow], scheduled: list[Practical],
                      awaiting: list[tuple[RecordEntry, Practical]], today: date) -> None:
    """Each mentee's next action from what the overview loaded already (no query): a failed result
    waiting for its re-observation, else an open practical (today's or undated before later ones),
    else a first observation when nothing is signed yet."""
    for row in rows.values():
        row.next_action = UP_TO_DATE if row.observed else TO_OBSERVE
    for practical in reversed(scheduled):  # the list is soonest first: the soonest one wins
        row = rows.get(practical.agent_id)
        if row is not None:
            state = observation_state(practical, today)
            if state == IN_PROGRESS or row.next_action != IN_PROGRESS:
                row.next_action, row.action_practical = state, practical
    for entry, practical in awaiting:
        row = rows.get(entry.user_id)
        if row is not None:
            row.next_action, row.action_practical = REOBSERVE, practical


def load_mentee_for(viewer: User, user_id: int) -> User:
    """The agent if `viewer` is their mentor (the mentor role and the link), a trainer or an admin.
    Raises MenteeNotFound, NotYourMentee."""
    mentee = db.session.get(User, user_id)
    if mentee is None:
        raise MenteeNotFound(user_id)
    if not is_mentor_of(viewer, mentee) and not viewer.has_role("trainer", "admin"):
        raise NotYourMentee(user_id)
    return mentee
