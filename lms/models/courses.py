"""Courses and lessons, imported from course folders; the database is the runtime source."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base

KINDS = ("required", "elective")
TRACKS = ("onboarding", "in-service", "refresher")

course_prerequisites = Table(
    "course_prerequisites",
    Base.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("prerequisite_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
)


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("star_level BETWEEN 0 AND 5", name="star_level_range"),
        CheckConstraint(f"kind IN {KINDS!r}", name="known_kind"),
        CheckConstraint(f"track IN {TRACKS!r}", name="known_track"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    star_level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    track: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(500), default="")
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    valid_months: Mapped[int | None] = mapped_column(Integer)
    # What completes the course beyond its lessons and final exam (see lms.records.completion):
    # scenario slugs whose practical must be signed off as passed, and the customer-satisfaction
    # percentage the agent's latest evaluation must reach.
    practicals: Mapped[list[str]] = mapped_column(JSON, default=list)
    evaluation_threshold: Mapped[float | None] = mapped_column(Float)
    intro_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    source_path: Mapped[str] = mapped_column(String(300), default="")
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan"
    )
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.prerequisite_id,
        order_by=lambda: Course.position,
    )

    @property
    def live_lessons(self) -> list[Lesson]:
        return [lesson for lesson in self.lessons if lesson.retired_at is None]

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    body_html: Mapped[str] = mapped_column(Text, default="")
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    retired_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship(back_populates="lessons")

    def __repr__(self) -> str:
        return f"<Lesson {self.course_id}/{self.slug}>"
