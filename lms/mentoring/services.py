"""What a mentor sees of their mentees, each figure in one SQL query whatever the numbers.

A practical's result in force is its newest record entry: the signed one, or the latest
correction of it. Pass rates count those, so a corrected result counts once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from lms.extensions import db
from lms.models import Practical, RecordEntry, Rehearsal, User

RECENT = 10


class MenteeNotFound(LookupError):
    pass


class NotYourMentee(PermissionError):
    pass


@dataclass
class MenteeRow:
    user: User
    observed: int = 0
    passed: int = 0

    @property
    def pass_rate(self) -> int | None:
        return round(100 * self.passed / self.observed) if self.observed else None


@dataclass
class MentorOverview:
    mentees: list[MenteeRow]
    scheduled: list[Practical]
    awaiting_reobservation: list[tuple[RecordEntry, Practical]]
    recent: list[RecordEntry]
    rehearsals: list[Rehearsal]
    observed: int = field(default=0)
    passed: int = field(default=0)

    @property
    def pass_rate(self) -> int | None:
        return round(100 * self.passed / self.observed) if self.observed else None


def results_in_force():
    """Practical record entries that no later entry corrects."""
    later = aliased(RecordEntry)
    return and_(RecordEntry.kind == "practical", ~exists().where(later.corrects_id == RecordEntry.id))


def mentor_overview(mentor: User) -> MentorOverview:
    mentees = list(db.session.scalars(select(User).where(User.mentor_id == mentor.id, User.active.is_(True))
                                      .order_by(User.name, User.employee_no)))
    mentee_ids = select(User.id).where(User.mentor_id == mentor.id, User.active.is_(True)).scalar_subquery()
    rows = {user.id: MenteeRow(user) for user in mentees}
    rates = db.session.execute(
        select(RecordEntry.user_id, func.count(), func.sum(case((RecordEntry.passed.is_(True), 1), else_=0)))
        .where(results_in_force(), RecordEntry.user_id.in_(mentee_ids)).group_by(RecordEntry.user_id))
    for user_id, observed, passed in rates:
        rows[user_id].observed, rows[user_id].passed = observed, int(passed or 0)
    scheduled = list(db.session.scalars(
        select(Practical).where(Practical.agent_id.in_(mentee_ids), Practical.status == "scheduled")
        .options(joinedload(Practical.agent), joinedload(Practical.scenario))
        .order_by(Practical.scheduled_for.is_(None), Practical.scheduled_for, Practical.created_at)))
    follow_up = aliased(Practical)
    failed = db.session.execute(
        select(RecordEntry, Practical).join(Practical, Practical.id == RecordEntry.source_id)
        .where(results_in_force(), RecordEntry.source_type == "practical", RecordEntry.passed.is_(False),
               RecordEntry.user_id.in_(mentee_ids),
               ~exists().where(follow_up.reobservation_of_id == Practical.id, follow_up.status != "cancelled"))
        .options(joinedload(RecordEntry.user), joinedload(Practical.scenario))
        .order_by(RecordEntry.occurred_at.desc())).all()
    recent = list(db.session.scalars(
        select(RecordEntry).where(results_in_force(), RecordEntry.user_id.in_(mentee_ids))
        .options(joinedload(RecordEntry.user)).order_by(RecordEntry.occurred_at.desc(), RecordEntry.id.desc())
        .limit(RECENT)))
    rehearsals = list(db.session.scalars(
        select(Rehearsal).where(Rehearsal.user_id.in_(mentee_ids))
        .options(joinedload(Rehearsal.user), joinedload(Rehearsal.scenario))
        .order_by(Rehearsal.started_at.desc(), Rehearsal.id.desc()).limit(RECENT)))
    overview = MentorOverview(list(rows.values()), scheduled, [tuple(row) for row in failed], recent, rehearsals)
    overview.observed = sum(row.observed for row in overview.mentees)
    overview.passed = sum(row.passed for row in overview.mentees)
    return overview


def load_mentee_for(viewer: User, user_id: int) -> User:
    """The agent if `viewer` is their mentor, a trainer or an admin. Raises MenteeNotFound, NotYourMentee."""
    mentee = db.session.get(User, user_id)
    if mentee is None:
        raise MenteeNotFound(user_id)
    if mentee.mentor_id != viewer.id and not viewer.has_role("trainer", "admin"):
        raise NotYourMentee(user_id)
    return mentee
