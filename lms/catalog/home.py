"""The agent home: what matters today first, then the level's progress and courses.

`load_home(user, now)` gathers everything the page shows in a fixed number of queries whatever
the catalog size: the learner's snapshot (lms.catalog.services), their assignments, sessions and
surveys (each capability's own home service), practicals to acknowledge, exams to retake or to
finish, refreshers due, the next star's checklist and the recognition board. `build_agenda` turns the
dated things into one timeline (overdue, today, this week, later), a pure function of plain values.

Someone without the agent role (a trainer or an admin browsing at /learn) gets the catalog only:
no agenda, no ring, no star.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.catalog.services import LearnerProgress, LevelGroup, load_progress
from lms.clock import center_zone
from lms.extensions import db
from lms.models import ExamAttempt, User
from lms.models.exams import AttemptGrant
from lms.models.practicals import Practical, PracticalCorrection
from lms.plans.windows import OVERDUE as PLAN_OVERDUE
from lms.records import completion

OVERDUE, TODAY, WEEK, LATER = "overdue", "today", "week", "later"
BUCKETS = (OVERDUE, TODAY, WEEK, LATER)
WEEK_DAYS = 7  # "this week": the next seven days, today excluded
GROUP_FROM = 3  # this many assignments of one plan due the same day show as one line
ACKNOWLEDGE_DAYS = 30  # a practical result older than this no longer asks for an acknowledgement on the home

# kinds of agenda items, in the order they come within the same moment
ASSIGNMENT, ASSIGNMENTS, EXAM_OPEN, ACKNOWLEDGE, RETAKE, REFRESHER, SESSION, SURVEY = (
    "assignment", "assignments", "exam_open", "acknowledge", "retake", "refresher", "session", "survey")
_KIND_ORDER = (EXAM_OPEN, ACKNOWLEDGE, RETAKE, SESSION, REFRESHER, ASSIGNMENT, ASSIGNMENTS, SURVEY)


@dataclass
class AgendaItem:
    """One line of the timeline. `when` is the moment it is about (a due date, a start time; None for
    "waiting now"); `source` is the object its line is drawn from (a plans Task, a MySession, a surveys
    Subject, a CourseState, a Practical, a Retake, an ExamAttempt); `tasks` the grouped assignments."""

    kind: str
    bucket: str
    when: datetime | date | None
    source: Any = None
    tasks: list = field(default_factory=list)


@dataclass
class Agenda:
    groups: dict[str, list[AgendaItem]]

    def __bool__(self) -> bool:
        return any(self.groups.values())

    def __len__(self) -> int:
        return sum(len(items) for items in self.groups.values())

    def __getitem__(self, bucket: str) -> list[AgendaItem]:
        return self.groups.get(bucket, [])


@dataclass
class Retake:
    """A failed exam the agent may sit again: now (`at` None) or from `at`."""

    state: completion.CourseState  # the course's, for its title and link
    exam: Any
    at: datetime | None
    attempts_left: int | None  # None: unlimited


def bucket_of(day: date, today: date) -> str:
    if day < today:
        return OVERDUE
    if day == today:
        return TODAY
    if day <= today + timedelta(days=WEEK_DAYS):
        return WEEK
    return LATER


def build_agenda(*, assignments=(), sessions=(), surveys=(), refreshers=(), to_acknowledge=(), retakes=(),
                 open_attempts=(), now: datetime, zone=None) -> Agenda:
    """One timeline of what is due or waiting, overdue first, then today, this week, later.

    Things waiting now (a result to acknowledge, a survey, an exam to retake at once or to finish) are
    today's. Assignments of one plan due the same day, `GROUP_FROM` or more, are one line."""
    zone = zone or center_zone()
    today = now.astimezone(zone).date()

    def local(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    items: list[AgendaItem] = []
    for attempt in open_attempts:
        items.append(AgendaItem(EXAM_OPEN, TODAY, attempt.deadline, attempt))
    for practical in to_acknowledge:
        items.append(AgendaItem(ACKNOWLEDGE, TODAY, None, practical))
    for retake in retakes:
        bucket = TODAY if retake.at is None else bucket_of(local(retake.at), today)  # `at` lies ahead
        items.append(AgendaItem(RETAKE, bucket, retake.at, retake))
    for state in refreshers:
        if state.status == completion.EXPIRED:
            items.append(AgendaItem(REFRESHER, OVERDUE, state.valid_until, state))
        else:
            items.append(AgendaItem(REFRESHER, bucket_of(local(state.valid_until), today), state.valid_until, state))
    for item in sessions:
        start = item.session.starts_at
        bucket = TODAY if start <= now else bucket_of(local(start), today)
        items.append(AgendaItem(SESSION, bucket, start, item))
    for subject in surveys:
        items.append(AgendaItem(SURVEY, TODAY, None, subject))
    grouped: dict[tuple, list] = defaultdict(list)
    for task in assignments:
        grouped[(task.plan.key, task.due_on, task.status == PLAN_OVERDUE)].append(task)
    for (_plan, due_on, overdue), tasks in grouped.items():
        bucket = OVERDUE if overdue else bucket_of(due_on, today)
        if len(tasks) >= GROUP_FROM:
            items.append(AgendaItem(ASSIGNMENTS, bucket, due_on, tasks[0], tasks=tasks))
        else:
            items.extend(AgendaItem(ASSIGNMENT, bucket, due_on, task) for task in tasks)

    def order(item: AgendaItem) -> tuple:
        """Things waiting now first, then by local day; a due date counts as the end of its day."""
        moment = item.when
        if isinstance(moment, datetime):
            key = (local(moment).toordinal(), moment.timestamp())
        elif isinstance(moment, date):
            key = (moment.toordinal(), float("inf"))
        else:
            key = (0, 0.0)
        return key + (_KIND_ORDER.index(item.kind),)

    return Agenda({bucket: sorted((i for i in items if i.bucket == bucket), key=order) for bucket in BUCKETS})


# --- what the agenda reads, each in a fixed number of queries ---------------------------------------

def practicals_to_acknowledge(user: User, now: datetime) -> list[Practical]:
    """Signed practicals of `user` whose result in force (after any correction) they have not
    acknowledged, from the last ACKNOWLEDGE_DAYS days, newest first. Three queries."""
    since = now - timedelta(days=ACKNOWLEDGE_DAYS)
    practicals = db.session.scalars(
        select(Practical).where(Practical.agent_id == user.id, Practical.status == "signed")
        .options(joinedload(Practical.scenario), joinedload(Practical.record_entry),
                 selectinload(Practical.corrections).joinedload(PracticalCorrection.record_entry),
                 selectinload(Practical.acknowledgements))
        .order_by(Practical.signed_at.desc(), Practical.id.desc()))
    waiting = []
    for practical in practicals:
        entry = practical.current_entry
        if entry is None or practical.acknowledgement_of(entry) is not None:
            continue
        if entry.created_at < since:
            continue  # recorded long ago: the practicals page still lists it
        waiting.append(practical)
    return waiting


def exams_in_hand(user: User, progress: LearnerProgress, now: datetime) -> tuple[list[ExamAttempt], list[Retake]]:
    """(attempts under way, exams to retake) of `user`: the final exams of open courses not passed
    yet whose retake rule lets another attempt start now or later. Two queries: the open attempts
    and the make-ups granted; the finished attempts come from the snapshot."""
    from lms.exams.services import ExamStatus  # the one rule of attempts left and retake delays

    facts = progress.standing.facts
    open_attempts = list(db.session.scalars(
        select(ExamAttempt).where(ExamAttempt.user_id == user.id, ExamAttempt.state == "open")
        .options(joinedload(ExamAttempt.exam)).order_by(ExamAttempt.deadline)))
    grants: dict[int, list[AttemptGrant]] = defaultdict(list)
    for grant in db.session.scalars(select(AttemptGrant).where(AttemptGrant.user_id == user.id)
                                    .order_by(AttemptGrant.created_at, AttemptGrant.id)):
        grants[grant.exam_id].append(grant)
    busy = {attempt.exam_id for attempt in open_attempts}
    under_way = [attempt for attempt in open_attempts if attempt.deadline > now]
    retakes = []
    for course in progress.courses:
        exam = facts.exams.get(course.id)
        if exam is None or exam.id in busy or not progress.access(course).is_open:
            continue
        state = progress.state(course)
        requirement = state.requirement("exam")
        if requirement is None or requirement.met or not requirement.done:
            continue
        since = state.cycle_start
        attempts = [a for a in facts.attempts[user.id].get(exam.id, []) if since is None or a.started_at >= since]
        if any(a.state == "pending" for a in attempts):
            continue  # an essay waits for its marker: the result may still pass
        status = ExamStatus(exam=exam, attempts=attempts, now=now, cycle_start=since,
                            grants=[g for g in grants[exam.id] if since is None or g.created_at >= since])
        if status.blocker in (None, "wait"):
            retakes.append(Retake(state, exam, status.retake_at, status.attempts_left))
    return under_way, retakes


# --- the page -----------------------------------------------------------------------------------------

@dataclass
class Home:
    user: User
    progress: LearnerProgress
    is_agent: bool
    levels: list[LevelGroup]
    next_lesson: Any = None
    agenda: Agenda | None = None
    next_star: Any = None
    board: Any = None

    @property
    def current(self) -> LevelGroup | None:
        return next((group for group in self.levels if group.level == self.user.star_level), None)

    @property
    def earlier(self) -> list[LevelGroup]:
        return [group for group in self.levels if group.level < self.user.star_level]

    @property
    def higher(self) -> list[LevelGroup]:
        return [group for group in self.levels if group.level > self.user.star_level]

    @property
    def earlier_complete(self) -> bool:
        return all(group.complete for group in self.earlier)


def load_home(user: User, now: datetime) -> Home:
    """Everything the home shows for `user` at `now`, in a fixed number of queries."""
    from lms.classroom.agenda import upcoming_for
    from lms.plans.progress import my_assignments
    from lms.promotions.services import eligibility_of
    from lms.reports.recognition import board_for_home
    from lms.surveys.services import waiting_surveys

    progress = load_progress(user, now)
    home = Home(user=user, progress=progress, is_agent=user.has_role("agent"), levels=progress.levels())
    if not home.is_agent:
        return home
    home.next_lesson = progress.next_lesson()
    under_way, retakes = exams_in_hand(user, progress, now)
    home.agenda = build_agenda(
        assignments=my_assignments(user, now, progress.standing.facts), sessions=upcoming_for(user, now),
        surveys=waiting_surveys(user, now),
        refreshers=progress.standing.due_or_expired(), to_acknowledge=practicals_to_acknowledge(user, now),
        retakes=retakes, open_attempts=under_way, now=now)
    home.next_star = eligibility_of(progress.standing, now)
    home.board = board_for_home(now)
    return home
