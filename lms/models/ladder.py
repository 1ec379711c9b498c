"""The star ladder: what each level is called and asks beyond its courses, and every star change.

`StarLevel` rows come from `courses/ladder.yaml` through `lms sync`. `StarChange` is the star
history: append-only, one row per promotion, demotion, direct edit or import, and per declined
promotion (which changes nothing but is kept with its reason).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.users import User

STAR_CHANGE_KINDS = ("initial", "promotion", "demotion", "edit", "import", "declined")


class StarLevel(Base):
    """Level `level` of the ladder; its rules say what it takes to be promoted *to* it."""

    __tablename__ = "star_levels"
    __table_args__ = (CheckConstraint("level BETWEEN 0 AND 5", name="level_range"),)

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(100))
    min_months_since_hire: Mapped[int | None] = mapped_column(Integer)
    min_months_since_promotion: Mapped[int | None] = mapped_column(Integer)
    min_average_score: Mapped[float | None] = mapped_column(Float)
    source_hash: Mapped[str] = mapped_column(String(64), default="")


class StarChange(Base):
    """One step of an agent's star history. `declined`: a promotion to `to_level` was refused."""

    __tablename__ = "star_changes"
    __table_args__ = (
        CheckConstraint(f"kind IN {STAR_CHANGE_KINDS!r}", name="known_kind"),
        CheckConstraint("to_level BETWEEN 0 AND 5", name="to_level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_level: Mapped[int | None] = mapped_column(Integer)
    to_level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])

    @property
    def applied(self) -> bool:
        return self.kind != "declined"
