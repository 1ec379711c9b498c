"""Role-play scenario scripts and rubrics (versioned), rehearsals, and practicals signed off by mentors.

Every change to a script or a rubric adds a version; rehearsals and practicals point at the
versions they showed, so later edits never change a past result. A signed practical and its
scores are never updated (a guard below refuses it): a correction is a new record entry that
references the old one, and an acknowledgement is a row of its own.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text,
                        UniqueConstraint, event, inspect)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.courses import Course
from lms.models.records import RecordEntry
from lms.models.users import User

MOODS = ("calm", "angry", "confused")
PRACTICAL_STATUSES = ("scheduled", "signed", "cancelled")


class Scenario(Base):
    """A role-play script with its rubric. Title and star level repeat the newest version's, for lists."""

    __tablename__ = "scenarios"
    __table_args__ = (CheckConstraint("star_level BETWEEN 0 AND 5", name="star_level_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    star_level: Mapped[int] = mapped_column(Integer, default=0)
    source_path: Mapped[str] = mapped_column(String(300), default="")  # "" when written in the browser
    source_hash: Mapped[str] = mapped_column(String(64), default="")  # of the file as last imported
    source_text: Mapped[str] = mapped_column(Text, default="")  # the newest text, file or browser
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course | None] = relationship()
    script_versions: Mapped[list[ScriptVersion]] = relationship(
        back_populates="scenario", order_by="ScriptVersion.number", cascade="all, delete-orphan")
    rubric_versions: Mapped[list[RubricVersion]] = relationship(
        back_populates="scenario", order_by="RubricVersion.number", cascade="all, delete-orphan")

    @property
    def script(self) -> ScriptVersion | None:
        """The version in force: the newest."""
        return self.script_versions[-1] if self.script_versions else None

    @property
    def rubric(self) -> RubricVersion | None:
        return self.rubric_versions[-1] if self.rubric_versions else None

    def __repr__(self) -> str:
        return f"<Scenario {self.slug}>"


class ScriptVersion(Base):
    """The script as it was: persona, situation and steps, Markdown rendered at save time.

    `steps` is a list of {"title", "lines": {mood: html}, "good": html, "phrasings": [html],
    "mistakes": [html]}.
    """

    __tablename__ = "script_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    star_level: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(500), default="")
    persona_html: Mapped[str] = mapped_column(Text, default="")
    situation_html: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    scenario: Mapped[Scenario] = relationship(back_populates="script_versions")
    created_by: Mapped[User | None] = relationship()


class RubricVersion(Base):
    __tablename__ = "rubric_versions"
    __table_args__ = (
        UniqueConstraint("scenario_id", "number"),
        CheckConstraint("pass_percent > 0 AND pass_percent <= 100", name="pass_percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    pass_percent: Mapped[float] = mapped_column(Float)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    scenario: Mapped[Scenario] = relationship(back_populates="rubric_versions")
    criteria: Mapped[list[RubricCriterion]] = relationship(
        back_populates="rubric", order_by="RubricCriterion.position", cascade="all, delete-orphan")
    created_by: Mapped[User | None] = relationship()


class RubricCriterion(Base):
    """One criterion of one rubric version; `levels` are the descriptors, level i worth i points."""

    __tablename__ = "rubric_criteria"
    __table_args__ = (
        UniqueConstraint("rubric_version_id", "key"),
        CheckConstraint("weight > 0", name="positive_weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    weight: Mapped[int] = mapped_column(Integer)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_na: Mapped[bool] = mapped_column(Boolean, default=False)
    levels: Mapped[list[str]] = mapped_column(JSON, default=list)

    rubric: Mapped[RubricVersion] = relationship(back_populates="criteria")

    @property
    def max_points(self) -> int:
        return len(self.levels) - 1


class Rehearsal(Base):
    """An agent practising a script alone. Practice only: never a record entry.

    `replies` maps the step index (as text) to what the agent wrote, "" when they said it aloud;
    a step with a reply has had its model phrasing revealed. `self_marks` maps criterion keys
    to points, None for not applicable.
    """

    __tablename__ = "rehearsals"
    __table_args__ = (CheckConstraint(f"mood IN {MOODS!r}", name="known_mood"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="RESTRICT"), index=True)
    script_version_id: Mapped[int] = mapped_column(ForeignKey("script_versions.id", ondelete="RESTRICT"))
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id", ondelete="RESTRICT"))
    mood: Mapped[str] = mapped_column(String(16), default="calm")
    replies: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    self_marks: Mapped[dict[str, int | None]] = mapped_column(JSON, default=dict)
    self_comment: Mapped[str] = mapped_column(Text, default="")
    self_percent: Mapped[float | None] = mapped_column(Float)
    self_passed: Mapped[bool | None] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    scenario: Mapped[Scenario] = relationship()
    script_version: Mapped[ScriptVersion] = relationship()
    rubric_version: Mapped[RubricVersion] = relationship()


class Practical(Base):
    """An observation of an agent running a scenario, scheduled by a mentor or trainer and
    signed by one. The result lives in the training record (`record_entry`); corrections add
    entries that reference it."""

    __tablename__ = "practicals"
    __table_args__ = (
        CheckConstraint(f"status IN {PRACTICAL_STATUSES!r}", name="known_status"),
        CheckConstraint("status != 'signed' OR (signed_at IS NOT NULL AND record_entry_id IS NOT NULL "
                        "AND script_version_id IS NOT NULL AND rubric_version_id IS NOT NULL)", name="signed_complete"),
        CheckConstraint("signed_by_id IS NULL OR signed_by_id != agent_id", name="no_self_signoff"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    scheduled_for: Mapped[date | None] = mapped_column(Date)
    scheduled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # NO ACTION, not RESTRICT: checked at the end of a statement, so a table can still be emptied at once
    reobservation_of_id: Mapped[int | None] = mapped_column(ForeignKey("practicals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    # set once, at sign-off
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    signed_at: Mapped[datetime | None]
    script_version_id: Mapped[int | None] = mapped_column(ForeignKey("script_versions.id", ondelete="RESTRICT"))
    rubric_version_id: Mapped[int | None] = mapped_column(ForeignKey("rubric_versions.id", ondelete="RESTRICT"))
    mood: Mapped[str | None] = mapped_column(String(16))
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    work_on: Mapped[str] = mapped_column(Text, default="")  # what to practise after a fail
    record_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("record_entries.id", ondelete="RESTRICT"), unique=True)

    agent: Mapped[User] = relationship(foreign_keys=[agent_id])
    scenario: Mapped[Scenario] = relationship()
    scheduled_by: Mapped[User | None] = relationship(foreign_keys=[scheduled_by_id])
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])
    script_version: Mapped[ScriptVersion | None] = relationship()
    rubric_version: Mapped[RubricVersion | None] = relationship()
    record_entry: Mapped[RecordEntry | None] = relationship()
    reobservation_of: Mapped[Practical | None] = relationship(remote_side=[id])
    scores: Mapped[list[PracticalScore]] = relationship(
        back_populates="practical", order_by="PracticalScore.position", cascade="all, delete-orphan")
    corrections: Mapped[list[PracticalCorrection]] = relationship(
        back_populates="practical", order_by="PracticalCorrection.id")
    acknowledgements: Mapped[list[PracticalAcknowledgement]] = relationship(
        back_populates="practical", order_by="PracticalAcknowledgement.id")

    @property
    def signed(self) -> bool:
        return self.status == "signed"

    @property
    def current_entry(self) -> RecordEntry | None:
        """The result in force: the latest correction's entry, else the signed one."""
        return self.corrections[-1].record_entry if self.corrections else self.record_entry

    def acknowledgement_of(self, entry: RecordEntry | None) -> PracticalAcknowledgement | None:
        return next((ack for ack in self.acknowledgements if entry and ack.record_entry_id == entry.id), None)


class PracticalScore(Base):
    """The mark given to one criterion at sign-off; points None means not applicable."""

    __tablename__ = "practical_scores"
    __table_args__ = (UniqueConstraint("practical_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practical_id: Mapped[int] = mapped_column(ForeignKey("practicals.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criteria.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    points: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")

    practical: Mapped[Practical] = relationship(back_populates="scores")
    criterion: Mapped[RubricCriterion] = relationship()


class PracticalCorrection(Base):
    """A correction of a signed practical: who, why, the corrected marks, and the new record entry."""

    __tablename__ = "practical_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    practical_id: Mapped[int] = mapped_column(ForeignKey("practicals.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    record_entry_id: Mapped[int] = mapped_column(ForeignKey("record_entries.id", ondelete="RESTRICT"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    practical: Mapped[Practical] = relationship(back_populates="corrections")
    author: Mapped[User | None] = relationship()
    record_entry: Mapped[RecordEntry] = relationship()


class PracticalAcknowledgement(Base):
    """The agent has seen a result (the signed one, or a correction of it), with an optional comment."""

    __tablename__ = "practical_acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    practical_id: Mapped[int] = mapped_column(ForeignKey("practicals.id", ondelete="RESTRICT"), index=True)
    record_entry_id: Mapped[int] = mapped_column(ForeignKey("record_entries.id", ondelete="RESTRICT"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    practical: Mapped[Practical] = relationship(back_populates="acknowledgements")
    user: Mapped[User] = relationship()


class SignedPracticalImmutable(RuntimeError):
    """Something tried to change a signed practical or its scores."""


@event.listens_for(Practical, "before_update")
def _signed_practicals_are_final(mapper, connection, target: Practical) -> None:
    state = inspect(target)
    if not state.session or not state.session.is_modified(target, include_collections=False):
        return
    history = state.attrs.status.history
    was = history.deleted[0] if history.deleted else target.status
    if was == "signed":
        raise SignedPracticalImmutable(f"practical {target.id} is signed and cannot change")


@event.listens_for(PracticalScore, "before_update")
def _scores_are_final(mapper, connection, target: PracticalScore) -> None:
    raise SignedPracticalImmutable(f"score {target.id} belongs to a signed practical and cannot change")
