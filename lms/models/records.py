"""The training record: an append-only history of every result, and the audit log.

A record entry is never edited: a correction is a new entry that points at the one it corrects,
with its reason and author.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.courses import Course
from lms.models.users import User

ENTRY_KINDS = ("exam", "practical", "course", "evaluation", "attendance")
BANDS = ("excellent", "good", "pass", "needs_improvement")


class RecordEntry(Base):
    __tablename__ = "record_entries"
    __table_args__ = (
        Index("ix_record_entries_user_id_kind", "user_id", "kind"),
        Index("ix_record_entries_source", "source_type", "source_id"),  # the entry of a practical, a session...
        CheckConstraint(f"kind IN {ENTRY_KINDS!r}", name="known_kind"),
        CheckConstraint(f"band IS NULL OR band IN {BANDS!r}", name="known_band"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))  # what was assessed, as it was called then
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)  # None while pending (essay marking, say)
    band: Mapped[str | None] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    period: Mapped[str | None] = mapped_column(String(7))  # "2026-10": the month a monthly result is for
    valid_until: Mapped[datetime | None]  # a refresher course's completion expires then
    source_type: Mapped[str | None] = mapped_column(String(30))  # e.g. "exam_attempt", "signoff"
    source_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("record_entries.id"), index=True)  # NO ACTION: a corrected entry stays
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # snapshots: versions, criteria
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    course: Mapped[Course | None] = relationship()
    corrects: Mapped[RecordEntry | None] = relationship(remote_side=[id])


class AuditEvent(Base):
    """Who did what to which record: sign-offs, corrections, acknowledgements, grade changes."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()
