"""Saving a lesson: its current content on the lesson, every change as a new version.

One function for both ways a lesson changes (`lms sync` from its file, the trainer's editor in the
browser). Progress, bookmarks and record entries point at the lesson, never at a version, so a new
version keeps everyone's progress; the versions are the history of what the lesson said when.
"""
from __future__ import annotations

from datetime import datetime

from lms.models import Lesson, LessonVersion


def save_lesson(lesson: Lesson, *, title: str, minutes: int, body_md: str, body_html: str, origin: str,
                now: datetime, author_id: int | None = None) -> bool:
    """Make `lesson` say this; a new version when the title, length or text differ from the current one.

    Returns whether a version was added. The HTML is always refreshed (a renderer or media change
    can change it for the same Markdown)."""
    lesson.body_html = body_html
    current = lesson.versions[-1] if lesson.versions else None
    if current is not None and (current.title, current.minutes, current.body_md) == (title, minutes, body_md):
        current.body_html = body_html
        return False
    number = current.number + 1 if current is not None else 1
    lesson.title, lesson.minutes, lesson.body_md, lesson.version = title, minutes, body_md, number
    lesson.versions.append(LessonVersion(number=number, title=title, minutes=minutes, body_md=body_md,
                                         body_html=body_html, origin=origin, author_id=author_id, created_at=now))
    return True
