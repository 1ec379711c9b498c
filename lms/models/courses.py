"""Courses and lessons, imported from course folders; the database is the runtime source."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, CheckConstraint, Column, Float, ForeignKey, Integer, LargeBinary, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.content.vocabulary import COURSE_TYPES, KINDS, TRACKS  # noqa: F401 (the columns' values, also imported from here)
from lms.models.base import Base

LESSON_ORIGINS = ("file", "browser")
MEDIA_KINDS = ("image", "audio", "video")

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
    course_type: Mapped[str | None] = mapped_column(String(16))  # one of COURSE_TYPES, or not classified
    intro_md: Mapped[str] = mapped_column(Text, default="", server_default="")
    intro_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    source_path: Mapped[str] = mapped_column(String(300), default="")
    source_hash: Mapped[str] = mapped_column(String(64), default="")
    # Of every file of the course folder (course.md, lessons, media) as last imported: `lms sync` leaves a
    # course whose folder is unchanged alone, so browser edits stay until a file of the folder changes.
    folder_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    edited_at: Mapped[datetime | None]  # the last browser edit since the files were last imported
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan"
    )
    media: Mapped[list[CourseMedia]] = relationship(back_populates="course", cascade="all, delete-orphan",
                                                    order_by="CourseMedia.name")
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.prerequisite_id,
        order_by=lambda: Course.position,
    )

    @property
    def from_files(self) -> bool:
        """Imported from a course folder (else made in the browser)."""
        return bool(self.source_path)

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
    body_md: Mapped[str] = mapped_column(Text, default="", server_default="")  # the Markdown source
    body_html: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # the current version's number
    source_hash: Mapped[str] = mapped_column(String(64), default="")  # of its file as last imported; "" if none
    retired_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship(back_populates="lessons")
    versions: Mapped[list[LessonVersion]] = relationship(back_populates="lesson", cascade="all, delete-orphan",
                                                         order_by="LessonVersion.number")

    def __repr__(self) -> str:
        return f"<Lesson {self.course_id}/{self.slug}>"


class LessonVersion(Base):
    """Every saved state of a lesson, from its file or from the browser; progress stays on the lesson."""
    __tablename__ = "lesson_versions"
    __table_args__ = (
        UniqueConstraint("lesson_id", "number"),
        CheckConstraint(f"origin IN {LESSON_ORIGINS!r}", name="known_origin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(8))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lesson: Mapped[Lesson] = relationship(back_populates="versions")


class MediaBlob(Base):
    """A media file's bytes, stored once per content (sha256), whichever courses use it. The database is
    the truth, so every app node can serve it; each node keeps a disk copy to serve byte ranges from."""
    __tablename__ = "media_blobs"
    __table_args__ = (CheckConstraint(f"kind IN {MEDIA_KINDS!r}", name="known_media_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded only to fill a node's disk copy
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CourseMedia(Base):
    """A course's media file by the name its lessons use (`media/call.mp3`), pointing at its bytes."""
    __tablename__ = "course_media"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    blob_id: Mapped[int] = mapped_column(ForeignKey("media_blobs.id"), index=True)

    course: Mapped[Course] = relationship(back_populates="media")
    blob: Mapped[MediaBlob] = relationship(lazy="joined")
