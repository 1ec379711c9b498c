"""Classroom sessions, who is invited or signed up (with the waiting list), and attendance."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.courses import Course
from lms.models.users import User

REGISTRATION_STATUSES = ("registered", "waitlisted", "cancelled")
ATTENDANCE_STATUSES = ("present", "late", "excused", "absent")
CHECKIN_METHODS = ("code", "manual")


class ClassSession(Base):
    """One classroom (or online) lecture at a set time. `audience` says who is invited:
    {"agents": [user ids], "teams": ["热线一组"], "levels": [0, 1]}; anyone matching one of them is."""

    __tablename__ = "class_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="positive_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))  # the topic; the course's title when a course is given
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    instructor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    location: Mapped[str] = mapped_column(String(200), default="")  # a room
    online_url: Mapped[str] = mapped_column(String(500), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    signup_required: Mapped[bool] = mapped_column(Boolean, default=False)  # else every invited agent is expected
    signup_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24)  # sign-up and cancel close this long before
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    survey_template_id: Mapped[int | None] = mapped_column(Integer)  # lms.models.surveys; None: the default
    attendance_closed_at: Mapped[datetime | None]  # attendance written to the training record then
    cancelled_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course | None] = relationship()
    instructor: Mapped[User | None] = relationship(foreign_keys=[instructor_id])
    registrations: Mapped[list[ClassRegistration]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True)
    attendance: Mapped[list[ClassAttendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True)


class ClassRegistration(Base):
    """An agent's place on a sign-up session, or on its waiting list. One row per agent and session:
    cancelling keeps the row (status "cancelled"); signing up again reuses it. The waiting list is in
    order of `updated_at`, the moment the row last became "waitlisted"."""

    __tablename__ = "class_registrations"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        CheckConstraint(f"status IN {REGISTRATION_STATUSES!r}", name="known_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[ClassSession] = relationship(back_populates="registrations")
    user: Mapped[User] = relationship()


class ClassAttendance(Base):
    """Whether an agent came: checked in with the room's code, or marked by the instructor. Written
    to the training record (one "attendance" entry per expected agent) when attendance is closed."""

    __tablename__ = "class_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        CheckConstraint(f"status IN {ATTENDANCE_STATUSES!r}", name="known_status"),
        CheckConstraint(f"method IN {CHECKIN_METHODS!r}", name="known_method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    checked_in_at: Mapped[datetime | None]  # the first code check-in; a manual mark leaves it as it was
    method: Mapped[str] = mapped_column(String(16))
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[ClassSession] = relationship(back_populates="attendance")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    marked_by: Mapped[User | None] = relationship(foreign_keys=[marked_by_id])
