"""Who an assignment reaches, and the onboarding window, without HTTP. Targets are resolved when
read: an assignment to a team, a star level or a cohort reaches the active agents who are in it
*now* (`AgentIndex`: two queries for any number of assignments). The onboarding window needs no rows:
every active star-0 agent with a hire date has each live star-0 required course
(`onboarding_courses`), from the hire date to LMS_ONBOARDING_WORKING_DAYS working days after it
(`onboarding_due`, lms/plans/windows.py). The lowest module of the package after windows.py.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import Course, User, UserRole
from lms.models.plans import Assignment, CohortMember
from lms.plans.windows import add_working_days

# --- who an assignment reaches ---------------------------------------------------------------------

def active_agents():
    """Active users holding the agent role."""
    return select(User).where(User.active.is_(True), exists().where(UserRole.user_id == User.id,
                                                                    UserRole.role == "agent"))


@dataclass
class AgentIndex:
    users: list[User]
    members: dict[int, set[int]]  # cohort id -> user ids
    by_id: dict[int, User] = field(default_factory=dict)
    by_team: dict[str, list[User]] = field(default_factory=lambda: defaultdict(list))
    by_level: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self):
        for user in self.users:
            self.by_id[user.id] = user
            self.by_team[user.team].append(user)
            self.by_level[user.star_level].append(user)

    @classmethod
    def load(cls, assignments: list[Assignment], *, onboarding: bool, only: set[int] | None = None) -> AgentIndex:
        """The agents any of `assignments` (or the onboarding window) reaches: two queries."""
        user_ids = {a.target_user_id for a in assignments if a.target_kind == "agent"}
        team_names = {a.target_team for a in assignments if a.target_kind == "team"}
        levels = {a.target_level for a in assignments if a.target_kind == "level"}
        cohort_ids = {a.target_cohort_id for a in assignments if a.target_kind == "cohort"}
        conditions = []
        if user_ids:
            conditions.append(User.id.in_(user_ids))
        if team_names:
            conditions.append(User.team.in_(team_names))
        if levels:
            conditions.append(User.star_level.in_(levels))
        if cohort_ids:
            conditions.append(User.id.in_(select(CohortMember.user_id).where(CohortMember.cohort_id.in_(cohort_ids))))
        if onboarding:
            conditions.append(and_(User.star_level == 0, User.hire_date.is_not(None)))
        if not conditions or (only is not None and not only):
            return cls([], {})
        statement = active_agents().where(or_(*conditions)).order_by(User.team, User.employee_no)
        if only is not None:
            statement = statement.where(User.id.in_(only))
        users = list(db.session.scalars(statement))
        members: dict[int, set[int]] = defaultdict(set)
        if cohort_ids and users:
            rows = db.session.execute(select(CohortMember.cohort_id, CohortMember.user_id)
                                      .where(CohortMember.cohort_id.in_(cohort_ids)))
            for cohort_id, user_id in rows:
                members[cohort_id].add(user_id)
        return cls(users, members)

    def reached(self, assignment: Assignment) -> list[User]:
        if assignment.target_kind == "agent":
            user = self.by_id.get(assignment.target_user_id)
            return [user] if user is not None else []
        if assignment.target_kind == "team":
            return self.by_team.get(assignment.target_team, [])
        if assignment.target_kind == "level":
            return self.by_level.get(assignment.target_level, [])
        ids = self.members.get(assignment.target_cohort_id, set())
        return [user for user in self.users if user.id in ids]

    def new_hires(self) -> list[User]:
        return [user for user in self.users if user.star_level == 0 and user.hire_date is not None]


# --- the onboarding window -------------------------------------------------------------------------

def onboarding_courses() -> list[Course]:
    """The live star-0 required courses, with their lessons."""
    return list(db.session.scalars(
        select(Course).where(Course.retired_at.is_(None), Course.star_level == 0, Course.kind == "required")
        .options(selectinload(Course.lessons)).order_by(Course.position, Course.id)))


def onboarding_due(hire_date: date) -> date:
    return add_working_days(hire_date, int(current_app.config["LMS_ONBOARDING_WORKING_DAYS"]))
