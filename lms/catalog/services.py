"""The tiered catalog: what a user may open, what they have finished, and what to do next.

Everything is computed from one snapshot (`load_progress`) taken in a fixed number of queries,
whatever the size of the catalog.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lms.clock import utcnow
from lms.models import Course, Lesson, User
from lms.records import completion
from lms.records.completion import CourseState, Standing

MAX_STAR = 5


class CourseLocked(Exception):
    """The user may see the course but not open its lessons yet."""

    def __init__(self, access: Access):
        super().__init__(access.reason)
        self.access = access


@dataclass(frozen=True)
class Access:
    reason: str | None = None  # None when open, "level" or "prerequisites"
    unlock_level: int | None = None
    missing: tuple[CourseState, ...] = ()  # the unfinished prerequisites, with what each still needs

    @property
    def is_open(self) -> bool:
        return self.reason is None


OPEN = Access()


# Where a course stands for its card, one word each (`CourseCard.phase`): locked, complete, a
# refresher due or expired, not started, or the first thing still to do (read, exam, practical, evaluation).
LOCKED, NOT_STARTED, READING, EXAM, PRACTICAL, EVALUATION = (
    "locked", "not_started", "reading", "exam", "practical", "evaluation")
COMPLETE, DUE, EXPIRED = completion.COMPLETE, completion.DUE, completion.EXPIRED
_PHASE_OF_REQUIREMENT = {"lessons": READING, "exam": EXAM, "practical": PRACTICAL, "evaluation": EVALUATION}


@dataclass
class CourseCard:
    """A course as its card shows it: what it holds (lessons, an exam, practicals) and where the
    user stands. Everything comes from the snapshot: no query of its own."""

    course: Course
    state: CourseState
    access: Access

    @property
    def done(self) -> int:
        return self.state.requirement("lessons").done

    @property
    def total(self) -> int:
        return self.state.requirement("lessons").total

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return self.state.status == completion.COMPLETE

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def has_exam(self) -> bool:
        return self.state.requirement("exam") is not None

    @property
    def practicals(self) -> int:
        return sum(requirement.kind == "practical" for requirement in self.state.requirements)

    @property
    def next_step(self):
        """The first requirement still open (lessons, then the exam, practicals, evaluation), else None."""
        missing = self.state.missing
        return missing[0] if missing else None

    @property
    def phase(self) -> str:
        if not self.access.is_open:
            return LOCKED
        status = self.state.status
        if status in (COMPLETE, DUE, EXPIRED, NOT_STARTED):
            return status
        step = self.next_step
        return _PHASE_OF_REQUIREMENT[step.kind] if step is not None else COMPLETE


@dataclass
class LevelGroup:
    level: int
    required: list[CourseCard] = field(default_factory=list)
    electives: list[CourseCard] = field(default_factory=list)
    locked: bool = False

    @property
    def required_done(self) -> int:
        return sum(card.state.counts for card in self.required)

    @property
    def required_total(self) -> int:
        return len(self.required)

    @property
    def percent(self) -> int:
        """Share of the required courses that count (complete, or a refresher due but valid), 0-100."""
        return round(100 * self.required_done / self.required_total) if self.required else 100

    @property
    def complete(self) -> bool:
        return self.required_done == self.required_total

    def only(self, course_type: str | None) -> LevelGroup:
        """The group with only the courses of `course_type` (the catalog's type filter); all when None."""
        if course_type is None:
            return self
        return LevelGroup(self.level, [card for card in self.required if card.course.course_type == course_type],
                          [card for card in self.electives if card.course.course_type == course_type], self.locked)


def course_types_of(courses) -> list[str]:
    """The course types that occur among `courses`, in the regime's order (the catalog's filter chips)."""
    from lms.catalog.types import COURSE_TYPE_LABELS

    present = {course.course_type for course in courses}
    return [course_type for course_type in COURSE_TYPE_LABELS if course_type in present]


@dataclass
class LearnerProgress:
    """`user`'s standing over the live catalog (lms.records.completion), with what the catalog
    adds: access, the lesson to resume, the level groups."""

    standing: Standing
    completed_lesson_ids: set[int]
    last_opened_unfinished: Lesson | None
    last_completed: Lesson | None

    @property
    def user(self) -> User:
        return self.standing.user

    @property
    def courses(self) -> list[Course]:
        return self.standing.courses

    def state(self, course: Course) -> CourseState:
        return self.standing.state(course)

    def lessons_done(self, course: Course) -> int:
        return self.state(course).requirement("lessons").done

    def is_complete(self, course: Course) -> bool:
        return self.state(course).status == completion.COMPLETE

    def access(self, course: Course) -> Access:
        if self.user.can_author:
            return OPEN
        if course.star_level > self.user.star_level:
            return Access(reason="level", unlock_level=course.star_level)
        # A prerequisite once completed stays fulfilled, even when its refresher is due again.
        missing = tuple(
            self.state(prerequisite) for prerequisite in course.prerequisites
            if prerequisite.retired_at is None and not self.state(prerequisite).ever_completed
        )
        if missing:
            return Access(reason="prerequisites", missing=missing)
        return OPEN

    def card(self, course: Course) -> CourseCard:
        return CourseCard(course, self.state(course), self.access(course))

    def levels(self) -> list[LevelGroup]:
        groups = {level: LevelGroup(level, locked=level > self.user.star_level and not self.user.can_author)
                  for level in range(0, MAX_STAR + 1)}
        for course in self.courses:
            group = groups[course.star_level]
            (group.required if course.kind == "required" else group.electives).append(self.card(course))
        return [group for group in groups.values() if group.required or group.electives]

    def next_lesson(self) -> Lesson | None:
        """The lesson to resume: the last one opened and not finished; else the one after the
        last one finished; else the first unread lesson of the first open course, required
        courses of the lowest level first."""
        for candidate in (self.last_opened_unfinished, self._after(self.last_completed)):
            if candidate is not None and self.access(candidate.course).is_open:
                return candidate
        ordered = sorted(
            (course for course in self.courses if course.star_level <= self.user.star_level),
            key=lambda course: (course.kind != "required", course.star_level, course.position),
        )
        for course in ordered:
            if self.access(course).is_open:
                unread = self.first_unread(course)
                if unread is not None:
                    return unread
        return None

    def first_unread(self, course: Course) -> Lesson | None:
        return next((lesson for lesson in course.live_lessons
                     if lesson.id not in self.completed_lesson_ids), None)

    def _after(self, lesson: Lesson | None) -> Lesson | None:
        if lesson is None:
            return None
        later = [candidate for candidate in lesson.course.live_lessons
                 if candidate.position > lesson.position and candidate.id not in self.completed_lesson_ids]
        return later[0] if later else None


def load_progress(user: User, now: datetime | None = None) -> LearnerProgress:
    """Snapshot of `user`'s progress over the live catalog, in a fixed number of queries."""
    standing = completion.load_standing(user, now or utcnow())
    lessons = {lesson.id: lesson for course in standing.courses for lesson in course.live_lessons}
    progress = standing.facts.progress[user.id]
    rows = [progress[lesson_id] for lesson_id in lessons if lesson_id in progress]
    unfinished = [row for row in rows if row.completed_at is None]
    finished = [row for row in rows if row.completed_at is not None]
    return LearnerProgress(
        standing=standing,
        completed_lesson_ids=standing.completed_lesson_ids,
        last_opened_unfinished=lessons[_latest(unfinished, "opened_at")] if unfinished else None,
        last_completed=lessons[_latest(finished, "completed_at")] if finished else None,
    )


def _latest(rows, attribute: str) -> int:
    return max(rows, key=lambda row: (getattr(row, attribute), row.lesson_id)).lesson_id


def find_course(progress: LearnerProgress, slug: str) -> Course | None:
    return next((course for course in progress.courses if course.slug == slug), None)


def minutes_left(course: Course, progress: LearnerProgress) -> int:
    return sum(lesson.minutes for lesson in course.live_lessons if lesson.id not in progress.completed_lesson_ids)


