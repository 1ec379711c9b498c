"""Reading lessons: who may open one, and the per-lesson progress that follows a user across devices."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.catalog.services import CourseLocked, LearnerProgress, find_course, load_progress
from lms.clock import utcnow
from lms.extensions import commit_keeping_loaded, db
from lms.models import Lesson, LessonProgress, User
from lms.records import completion


class LessonNotFound(LookupError):
    pass


@dataclass
class LessonView:
    lesson: Lesson
    progress: LearnerProgress
    previous: Lesson | None
    next: Lesson | None

    @property
    def completed(self) -> bool:
        return self.lesson.id in self.progress.completed_lesson_ids


def load_lesson_for(user: User, course_slug: str, lesson_slug: str) -> LessonView:
    """The live lesson with its neighbours if `user` may read it.

    Raises LessonNotFound for an unknown or retired course or lesson, CourseLocked when the
    user's star level or unfinished prerequisites keep the course closed.
    """
    progress = load_progress(user)
    course = find_course(progress, course_slug)
    if course is None:
        raise LessonNotFound(course_slug)
    lessons = course.live_lessons
    index = next((i for i, lesson in enumerate(lessons) if lesson.slug == lesson_slug), None)
    if index is None:
        raise LessonNotFound(lesson_slug)
    access = progress.access(course)
    if not access.is_open:
        raise CourseLocked(access)
    return LessonView(
        lesson=lessons[index],
        progress=progress,
        previous=lessons[index - 1] if index > 0 else None,
        next=lessons[index + 1] if index + 1 < len(lessons) else None,
    )


def record_opened(user: User, lesson: Lesson) -> None:
    """Remember that `user` opened `lesson` now, so the continue card can bring them back."""
    _touch(user, lesson, completed=False)


def complete_lesson(user: User, lesson: Lesson) -> None:
    """Mark `lesson` read by `user`. Completing twice keeps the first completion time. A course
    whose every requirement is now met is written to the record as complete, in the same commit."""
    _touch(user, lesson, completed=True)


def _touch(user: User, lesson: Lesson, *, completed: bool) -> None:
    """One commit. It keeps what the request has loaded (the page drawn next reads the lesson, its
    course and the user again: reloading them all after the commit took six more queries a page)."""
    now = utcnow()
    for attempt in range(2):
        row = db.session.scalar(
            select(LessonProgress).where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
        )
        if row is None:
            row = LessonProgress(user_id=user.id, lesson_id=lesson.id, opened_at=now)
            db.session.add(row)
        else:
            row.opened_at = now
        if completed and row.completed_at is None:
            row.completed_at = now
        try:
            if completed:  # (it flushes first: the rule reads this lesson's progress from the database)
                completion.record_completions(user, now, courses=[lesson.course])
            commit_keeping_loaded()
            return
        except IntegrityError:
            # Two devices opened the lesson in the same instant: the other insert won, update it.
            db.session.rollback()
            if attempt:
                raise

