"""Classroom sessions, who is invited or signed up (with the waiting list), and attendance."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.courses import Course
from lms.models.users import User


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
