"""Timed theory exams, the attempts agents make at them, and every answer they give.

An attempt stores everything it showed: which question versions, in which order, with which option
order. Grading and review always read those pinned rows, so editing a bank never changes a result.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.content.vocabulary import GRADING_METHODS, REVIEW_POLICIES  # noqa: F401 (the columns' values, also imported from here)
from lms.models.base import Base
from lms.models.courses import Course
from lms.models.questions import QuestionBank, QuestionVersion
from lms.models.records import RecordEntry
from lms.models.users import User

ATTEMPT_STATES = ("open", "pending", "graded")  # pending: submitted, essays wait for a marker


class Exam(Base):
    __tablename__ = "exams"
    __table_args__ = (
        CheckConstraint(f"grading_method IN {GRADING_METHODS!r}", name="known_grading_method"),
        CheckConstraint(f"review_policy IN {REVIEW_POLICIES!r}", name="known_review_policy"),
        CheckConstraint("time_limit_minutes > 0", name="positive_time_limit"),
        CheckConstraint("pass_percent BETWEEN 0 AND 100", name="pass_percent_range"),
        CheckConstraint("attempts_allowed >= 0", name="attempts_allowed_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    description_html: Mapped[str] = mapped_column(Text, default="")
    # The course this exam is the final exam of; a course has at most one.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), unique=True)
    time_limit_minutes: Mapped[int] = mapped_column(Integer, default=20)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    pass_percent: Mapped[float] = mapped_column(Float, default=60.0)
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=0)  # 0 = unlimited
    retake_delay_minutes: Mapped[int] = mapped_column(Integer, default=0)  # before the 2nd attempt
    later_retake_delay_minutes: Mapped[int] = mapped_column(Integer, default=0)  # before the 3rd and later
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    grading_method: Mapped[str] = mapped_column(String(16), default="highest")
    review_policy: Mapped[str] = mapped_column(String(16), default="after_close")
    source_path: Mapped[str] = mapped_column(String(300), default="")  # "" when made in the browser
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course | None] = relationship()
    pools: Mapped[list[ExamPool]] = relationship(
        back_populates="exam", order_by="ExamPool.position", cascade="all, delete-orphan")

    @property
    def question_count(self) -> int:
        return sum(pool.count for pool in self.pools)

    def __repr__(self) -> str:
        return f"<Exam {self.slug}>"


class ExamPool(Base):
    """Draw `count` questions from `bank`, only those carrying every one of `tags`."""

    __tablename__ = "exam_pools"
    __table_args__ = (CheckConstraint("count > 0", name="positive_count"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    count: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    exam: Mapped[Exam] = relationship(back_populates="pools")
    bank: Mapped[QuestionBank] = relationship()


class ExamAttempt(Base):
    __tablename__ = "exam_attempts"
    __table_args__ = (
        # Two Start clicks in the same instant both try number n+1: one of them loses here.
        UniqueConstraint("exam_id", "user_id", "number"),
        CheckConstraint(f"state IN {ATTEMPT_STATES!r}", name="known_state"),
        Index("ix_exam_attempts_state_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime]
    deadline: Mapped[datetime]
    submitted_at: Mapped[datetime | None]  # when it ended: submitted, or its deadline when time ran out
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)  # closed because time ran out
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    band: Mapped[str | None] = mapped_column(String(20))
    graded_at: Mapped[datetime | None]
    record_entry_id: Mapped[int | None] = mapped_column(ForeignKey("record_entries.id", ondelete="SET NULL"))

    exam: Mapped[Exam] = relationship()
    user: Mapped[User] = relationship()
    record_entry: Mapped[RecordEntry | None] = relationship()
    questions: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def __repr__(self) -> str:
        return f"<ExamAttempt {self.exam_id}/{self.user_id}#{self.number} {self.state}>"


class AttemptQuestion(Base):
    """One slot of an attempt: the pinned question version and the option order it was shown in."""

    __tablename__ = "attempt_questions"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # the slot, 0-based, as the browser names it
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    question_version_id: Mapped[int] = mapped_column(
        ForeignKey("question_versions.id", ondelete="RESTRICT"), index=True)
    question_type: Mapped[str] = mapped_column(String(16))
    option_order: Mapped[list[str]] = mapped_column(JSON, default=list)  # internal ids in shown order
    points: Mapped[float] = mapped_column(Float, default=1.0)  # the most this slot can score

    attempt: Mapped[ExamAttempt] = relationship(back_populates="questions")
    version: Mapped[QuestionVersion] = relationship()
    answer: Mapped[AttemptAnswer | None] = relationship(
        back_populates="attempt_question", uselist=False, cascade="all, delete-orphan")


class AttemptAnswer(Base):
    """The latest response to one slot. `seq` orders the browser's saves: an older one never wins."""

    __tablename__ = "attempt_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_question_id: Mapped[int] = mapped_column(
        ForeignKey("attempt_questions.id", ondelete="CASCADE"), unique=True)
    response: Mapped[Any | None] = mapped_column(JSON)  # internal ids; None = unanswered
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    points: Mapped[float | None] = mapped_column(Float)  # None until graded (essays: until marked)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime | None]
    marker_comment: Mapped[str] = mapped_column(Text, default="")

    attempt_question: Mapped[AttemptQuestion] = relationship(back_populates="answer")
    marked_by: Mapped[User | None] = relationship()


class AttemptGrant(Base):
    """A make-up (补考): a trainer gives one agent extra attempts at an exam, or lets the next attempt
    start now despite the retake delay (`waive_delay`), or both, always with a reason."""

    __tablename__ = "attempt_grants"
    __table_args__ = (
        CheckConstraint("extra_attempts >= 0", name="extra_attempts_not_negative"),
        Index("ix_attempt_grants_exam_id_user_id", "exam_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    extra_attempts: Mapped[int] = mapped_column(Integer, default=0)
    waive_delay: Mapped[bool] = mapped_column(Boolean, default=False)  # the next attempt may start at once
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    exam: Mapped[Exam] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])
