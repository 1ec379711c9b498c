"""Training plans, cohorts (named groups such as a new-hire intake) and assignments.

An assignment gives one item (a course, a standalone exam or a scenario's practical) to one
target (an agent, a team, a star level or a cohort) between two dates. Targets are resolved when
read (lms/plans/reach.py), so an agent who joins the team later has the team's assignments.
Onboarding windows have no rows: they follow from each new hire's hire date.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.courses import Course
from lms.models.exams import Exam
from lms.models.practicals import Scenario
from lms.models.users import User

ITEM_KINDS = ("course", "exam", "scenario")
TARGET_KINDS = ("agent", "team", "level", "cohort")


class TrainingPlan(Base):
    __tablename__ = "training_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="plan", order_by="Assignment.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<TrainingPlan {self.id} {self.name}>"


class Cohort(Base):
    """A named group of agents, e.g. "2026-11 新员工入职批次"."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[CohortMember]] = relationship(back_populates="cohort", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Cohort {self.name}>"


class CohortMember(Base):
    __tablename__ = "cohort_members"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)

    cohort: Mapped[Cohort] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint(f"item_kind IN {ITEM_KINDS!r}", name="known_item_kind"),
        CheckConstraint(f"target_kind IN {TARGET_KINDS!r}", name="known_target_kind"),
        CheckConstraint(
            "(item_kind = 'course' AND course_id IS NOT NULL AND exam_id IS NULL AND scenario_id IS NULL)"
            " OR (item_kind = 'exam' AND exam_id IS NOT NULL AND course_id IS NULL AND scenario_id IS NULL)"
            " OR (item_kind = 'scenario' AND scenario_id IS NOT NULL AND course_id IS NULL AND exam_id IS NULL)",
            name="one_item"),
        CheckConstraint(
            "(target_kind = 'agent' AND target_user_id IS NOT NULL AND target_team IS NULL"
            " AND target_level IS NULL AND target_cohort_id IS NULL)"
            " OR (target_kind = 'team' AND target_team IS NOT NULL AND target_user_id IS NULL"
            " AND target_level IS NULL AND target_cohort_id IS NULL)"
            " OR (target_kind = 'level' AND target_level IS NOT NULL AND target_user_id IS NULL"
            " AND target_team IS NULL AND target_cohort_id IS NULL)"
            " OR (target_kind = 'cohort' AND target_cohort_id IS NOT NULL AND target_user_id IS NULL"
            " AND target_team IS NULL AND target_level IS NULL)",
            name="one_target"),
        CheckConstraint("target_level IS NULL OR target_level BETWEEN 0 AND 5", name="target_level_range"),
        CheckConstraint("due_on >= starts_on", name="due_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("training_plans.id", ondelete="CASCADE"), index=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    exam_id: Mapped[int | None] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_team: Mapped[str | None] = mapped_column(String(100))
    target_level: Mapped[int | None] = mapped_column(Integer)
    target_cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))  # "2027-03": where the plan's monthly breakdown shows it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    plan: Mapped[TrainingPlan] = relationship(back_populates="assignments")
    course: Mapped[Course | None] = relationship()
    exam: Mapped[Exam | None] = relationship()
    scenario: Mapped[Scenario | None] = relationship()
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])
    target_cohort: Mapped[Cohort | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def item(self) -> Course | Exam | Scenario | None:
        return {"course": self.course, "exam": self.exam, "scenario": self.scenario}.get(self.item_kind)

    def __repr__(self) -> str:
        return f"<Assignment {self.id} {self.item_kind}->{self.target_kind}>"
