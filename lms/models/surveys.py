"""Survey templates and the answers to them, kept apart from who answered (anonymity).

`SurveyResponse` says only that a person answered a subject (a course or a classroom session), so
the survey is not asked again. `SurveyAnswer` holds what was answered and carries no user id, no
time of day (only the date, in the center's zone) and a random id, so an answer cannot be traced
back to the person through the application's data.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.courses import Course
from lms.models.users import User

SUBJECT_TYPES = ("course", "session")
QUESTION_KINDS = ("rating", "choice", "text")


def _random_id() -> str:
    return uuid.uuid4().hex


class SurveyTemplate(Base):
    """The questions asked after a course or a session, besides the two fixed ratings (the course;
    the instructor, for a session with one). `questions` is a list of
    {"id": "q1", "kind": "rating|choice|text", "prompt": "...", "options": [...], "required": bool};
    ids never change, and the questions of a template that has answers are never edited."""

    __tablename__ = "survey_templates"
    __table_args__ = (CheckConstraint(f"applies_to IN {SUBJECT_TYPES!r}", name="known_applies_to"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    applies_to: Mapped[str] = mapped_column(String(10))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # one per applies_to (the service keeps it so)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()


class SurveyResponse(Base):
    """`user_id` has answered the survey of this subject: no time, no link to the answer."""

    __tablename__ = "survey_responses"
    __table_args__ = (CheckConstraint(f"subject_type IN {SUBJECT_TYPES!r}", name="known_subject_type"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class SurveyAnswer(Base):
    """One anonymous answer. `answers` maps the template's question ids to a rating (1-5), the index
    of the option chosen, or a text. `instructor_id` is the session's instructor when answered."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        Index("ix_survey_answers_subject_type_subject_id", "subject_type", "subject_id"),
        CheckConstraint(f"subject_type IN {SUBJECT_TYPES!r}", name="known_subject_type"),
        CheckConstraint("course_rating BETWEEN 1 AND 5", name="course_rating_range"),
        CheckConstraint("instructor_rating IS NULL OR instructor_rating BETWEEN 1 AND 5",
                        name="instructor_rating_range"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)  # random: no order
    template_id: Mapped[int] = mapped_column(ForeignKey("survey_templates.id", ondelete="RESTRICT"), index=True)
    subject_type: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int] = mapped_column(Integer)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    instructor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    course_rating: Mapped[int] = mapped_column(Integer)
    instructor_rating: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_on: Mapped[date] = mapped_column(Date)  # the day only, in the center's zone

    template: Mapped[SurveyTemplate] = relationship()
    course: Mapped[Course | None] = relationship()
