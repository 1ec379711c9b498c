"""Question banks and versioned questions.

A question's content lives in its versions: editing creates version n+1 and exam attempts keep
pointing at the version they showed, so a result never changes under an agent's feet.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.users import User

QUESTION_TYPES = ("single", "multi", "truefalse", "fill", "matching", "essay")


class QuestionBank(Base):
    __tablename__ = "question_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source_path: Mapped[str] = mapped_column(String(300), default="")  # "" when made in the browser
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questions: Mapped[list[Question]] = relationship(back_populates="bank", order_by="Question.id")


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("bank_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))  # the stable id within the bank, e.g. "ch-001"
    # Its name (Moodle's "::name::"): a label in any script, shown in lists and exported; never the id.
    title: Mapped[str] = mapped_column(String(255), default="", server_default="")
    type: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    difficulty: Mapped[int | None] = mapped_column(Integer)  # 1 (easy) to 5 (hard)
    version: Mapped[int] = mapped_column(Integer, default=1)  # the current version's number
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    bank: Mapped[QuestionBank] = relationship(back_populates="questions")
    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question", order_by="QuestionVersion.number", cascade="all, delete-orphan")
    current: Mapped[QuestionVersion] = relationship(
        primaryjoin=lambda: and_(foreign(QuestionVersion.question_id) == Question.id,
                                 QuestionVersion.number == Question.version),
        viewonly=True, uselist=False, lazy="selectin")


class QuestionVersion(Base):
    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    stem: Mapped[str] = mapped_column(Text)  # source in `text_format`
    # markdown, moodle (auto-format), plain or html: how stem and explanation are rendered (lms.rendering)
    text_format: Mapped[str] = mapped_column(String(16), default="markdown", server_default="markdown")
    stem_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitized once, at save
    # Type-specific content and key, e.g. {"options": [{"id": "a", "text": ..., "weight": 1.0}]}.
    # Never sent to a browser while an attempt is open: types expose a separate public view.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    explanation: Mapped[str] = mapped_column(Text, default="")
    explanation_html: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[float] = mapped_column(Float, default=1.0)
    content_hash: Mapped[str] = mapped_column(String(64), default="")  # unchanged content makes no version
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    question: Mapped[Question] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()
