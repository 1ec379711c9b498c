"""The tiered catalog: what a user may open, what they have finished, and what to do next.

Everything is computed from one snapshot (`load_progress`) taken in a fixed number of queries,
whatever the size of the catalog.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.exams.services import passed_course_ids
from lms.extensions import db
from lms.models import Course, Lesson, LessonProgress, User

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
    missing: tuple[Course, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.reason is None


OPEN = Access()


@dataclass
class CourseCard:
    course: Course
    done: int
    total: int
    access: Access
    exam_pending: bool = False  # the course has a final exam the user has not passed yet

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return self.done >= self.total and not self.exam_pending


@dataclass
class LevelGroup:
    level: int
    required: list[CourseCard] = field(default_factory=list)
    electives: list[CourseCard] = field(default_factory=list)
    locked: bool = False

    @property
    def required_done(self) -> int:
        return sum(card.complete for card in self.required)


@dataclass
class LearnerProgress:
    user: User
    courses: list[Course]
    completed_lesson_ids: set[int]
    last_opened_unfinished: Lesson | None
    last_completed: Lesson | None
    exam_course_ids: set[int] = field(default_factory=set)  # courses with a final exam
    passed_exam_course_ids: set[int] = field(default_factory=set)  # ... whose exam the user passed

    def exam_pending(self, course: Course) -> bool:
        return course.id in self.exam_course_ids and course.id not in self.passed_exam_course_ids

    def lessons_done(self, course: Course) -> int:
        return sum(lesson.id in self.completed_lesson_ids for lesson in course.live_lessons)

    def is_complete(self, course: Course) -> bool:
        """A course is complete when every live lesson is read and its final exam, if any, passed."""
        return self.lessons_done(course) >= len(course.live_lessons) and not self.exam_pending(course)

    def access(self, course: Course) -> Access:
        if self.user.can_author:
            return OPEN
        if course.star_level > self.user.star_level:
            return Access(reason="level", unlock_level=course.star_level)
        missing = tuple(
            prerequisite for prerequisite in course.prerequisites
            if prerequisite.retired_at is None and not self.is_complete(prerequisite)
        )
        if missing:
            return Access(reason="prerequisites", missing=missing)
        return OPEN

    def card(self, course: Course) -> CourseCard:
        return CourseCard(course, self.lessons_done(course), len(course.live_lessons), self.access(course),
                          exam_pending=self.exam_pending(course))

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


def live_courses_query():
    return (
        select(Course)
        .where(Course.retired_at.is_(None))
        .options(selectinload(Course.lessons), selectinload(Course.prerequisites))
        .order_by(Course.star_level, Course.position, Course.id)
    )


def load_progress(user: User) -> LearnerProgress:
    """Snapshot of `user`'s progress over the live catalog: five queries whatever its size."""
    courses = list(db.session.scalars(live_courses_query()))
    lessons = {lesson.id: lesson for course in courses for lesson in course.live_lessons}
    rows = db.session.execute(
        select(LessonProgress.lesson_id, LessonProgress.opened_at, LessonProgress.completed_at)
        .where(LessonProgress.user_id == user.id)
    ).all()
    completed = {row.lesson_id for row in rows if row.completed_at is not None}
    live_rows = [row for row in rows if row.lesson_id in lessons]
    unfinished = [row for row in live_rows if row.completed_at is None]
    finished = [row for row in live_rows if row.completed_at is not None]
    exam_courses, passed_exams = passed_course_ids(user)
    return LearnerProgress(
        user=user,
        courses=courses,
        completed_lesson_ids=completed,
        last_opened_unfinished=lessons[_latest(unfinished, "opened_at")] if unfinished else None,
        last_completed=lessons[_latest(finished, "completed_at")] if finished else None,
        exam_course_ids=exam_courses,
        passed_exam_course_ids=passed_exams,
    )


def _latest(rows, attribute: str) -> int:
    return max(rows, key=lambda row: (getattr(row, attribute), row.lesson_id)).lesson_id


def find_course(progress: LearnerProgress, slug: str) -> Course | None:
    return next((course for course in progress.courses if course.slug == slug), None)


def minutes_left(course: Course, progress: LearnerProgress) -> int:
    return sum(lesson.minutes for lesson in course.live_lessons if lesson.id not in progress.completed_lesson_ids)


