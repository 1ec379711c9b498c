"""Certificates for completed courses and promotions, verifiable by their code on a public page."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.courses import Course
from lms.models.ladder import StarChange
from lms.models.records import RecordEntry
from lms.models.users import User

CERTIFICATE_KINDS = ("course", "promotion", "recognition")


class Certificate(Base):
    __tablename__ = "certificates"
    # A recognition (表彰榜) is given once per agent and month (`period`); NULL periods never clash.
    __table_args__ = (CheckConstraint(f"kind IN {CERTIFICATE_KINDS!r}", name="known_kind"),
                      UniqueConstraint("user_id", "kind", "period"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))  # the course title, or the star level's, as it was then
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    star_level: Mapped[int | None] = mapped_column(Integer)
    record_entry_id: Mapped[int | None] = mapped_column(ForeignKey("record_entries.id", ondelete="RESTRICT"),
                                                        unique=True)
    star_change_id: Mapped[int | None] = mapped_column(ForeignKey("star_changes.id", ondelete="RESTRICT"),
                                                       unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None]
    period: Mapped[str | None] = mapped_column(String(7))  # "2026-10": the month a recognition is for

    user: Mapped[User] = relationship()
    course: Mapped[Course | None] = relationship()
    record_entry: Mapped[RecordEntry | None] = relationship()
    star_change: Mapped[StarChange | None] = relationship()
