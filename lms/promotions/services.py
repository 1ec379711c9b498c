"""The star ladder's gate: who is eligible for the next star, and every change of star level.

Eligibility for level N+1 of an agent at N: every required course of level N complete and not
expired (lms.records.completion), plus the rules `courses/ladder.yaml` gives level N+1 (months
since hire, months since the last promotion, a minimum average score). A manager confirms or
declines; every star change, whoever makes it and however (promotion, demotion, a direct edit, a
bulk import), is a `StarChange` row with who, when and why, and an audit event.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.clock import months_between
from lms.extensions import db
from lms.models import RecordEntry, StarChange, StarLevel, User, UserRole
from lms.records.completion import CourseState, Standing, in_force, live_courses, load_standings
from lms.records.services import audit

MAX_STAR = 5


class PromotionError(Exception):
    pass


class NotEligible(PromotionError):
    """The agent does not (or no longer) meet every condition of the next star."""


class ReasonRequired(PromotionError):
    """Declines and demotions must say why."""


class TopLevel(PromotionError):
    """Five stars is the top of the ladder."""


@dataclass
class Check:
    """One line of the checklist to the next star. kind: course / months_since_hire /
    months_since_promotion / average_score."""

    kind: str
    met: bool
    state: CourseState | None = None
    needed: float | None = None
    actual: float | None = None


@dataclass
class Eligibility:
    user: User
    target: int
    title: str  # the target level's title from the ladder file, "" when it has none
    checks: list[Check] = field(default_factory=list)
    declined: StarChange | None = None  # the latest decline of this very step

    @property
    def eligible(self) -> bool:
        return all(check.met for check in self.checks)

    @property
    def missing(self) -> list[Check]:
        return [check for check in self.checks if not check.met]


def ladder() -> dict[int, StarLevel]:
    return {row.level: row for row in db.session.scalars(select(StarLevel))}


def level_title(level: int, rules: dict[int, StarLevel] | None = None) -> str:
    rules = ladder() if rules is None else rules
    return rules[level].title if level in rules else ""


def _histories(user_ids: list[int]) -> dict[int, list[StarChange]]:
    histories: dict[int, list[StarChange]] = defaultdict(list)
    if user_ids:
        for change in db.session.scalars(select(StarChange).where(StarChange.user_id.in_(user_ids))
                                         .options(selectinload(StarChange.changed_by))
                                         .order_by(StarChange.changed_at, StarChange.id)):
            histories[change.user_id].append(change)
    return histories


def last_promotion_at(history: list[StarChange]) -> datetime | None:
    raised = [c for c in history if c.applied and c.from_level is not None and c.to_level > c.from_level]
    return raised[-1].changed_at if raised else None


def _scores(user_ids: list[int]) -> dict[int, list[tuple[datetime, float]]]:
    scores: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    if user_ids:
        for row in db.session.execute(
                select(RecordEntry.user_id, RecordEntry.occurred_at, RecordEntry.percent)
                .where(RecordEntry.user_id.in_(user_ids), RecordEntry.kind.in_(("exam", "practical")),
                       RecordEntry.percent.is_not(None), in_force())):
            scores[row.user_id].append((row.occurred_at, row.percent))
    return scores


def _eligibility(standing: Standing, rules: dict[int, StarLevel], history: list[StarChange],
                 scores: list[tuple[datetime, float]], now: datetime) -> Eligibility:
    user = standing.user
    target = user.star_level + 1
    result = Eligibility(user, target, level_title(target, rules))
    if target > MAX_STAR:
        return result
    for course in standing.courses:
        if course.star_level == user.star_level and course.kind == "required":
            state = standing.state(course)
            result.checks.append(Check("course", state.counts, state=state))
    rule = rules.get(target)
    since = last_promotion_at(history)
    today = now.date()
    if rule is not None and rule.min_months_since_hire is not None:
        months = months_between(user.hire_date, today) if user.hire_date else None
        result.checks.append(Check("months_since_hire", months is not None and months >= rule.min_months_since_hire,
                                   needed=rule.min_months_since_hire, actual=months))
    if rule is not None and rule.min_months_since_promotion is not None:
        start: date | None = since.date() if since else user.hire_date
        months = months_between(start, today) if start else None
        result.checks.append(Check("months_since_promotion",
                                   months is not None and months >= rule.min_months_since_promotion,
                                   needed=rule.min_months_since_promotion, actual=months))
    if rule is not None and rule.min_average_score is not None:
        counted = [percent for moment, percent in scores if since is None or moment >= since]
        average = round(sum(counted) / len(counted), 1) if counted else None
        result.checks.append(Check("average_score", average is not None and average >= rule.min_average_score - 1e-9,
                                   needed=rule.min_average_score, actual=average))
    declines = [c for c in history if c.kind == "declined" and c.to_level == target]
    applied = [c for c in history if c.applied]
    if declines and (not applied or declines[-1].changed_at >= applied[-1].changed_at):
        result.declined = declines[-1]
    return result


def eligibilities(users: list[User], now: datetime) -> dict[int, Eligibility]:
    """Each user's checklist to the next star, in a fixed number of queries whatever their number."""
    return _checklists(list(load_standings(users, now, live_courses()).values()), now)


def eligibility(user: User, now: datetime) -> Eligibility:
    return eligibilities([user], now)[user.id]


def eligibility_of(standing: Standing, now: datetime) -> Eligibility:
    """The checklist of an agent whose standing is already loaded (the home page's)."""
    return _checklists([standing], now)[standing.user.id]


def _checklists(standings: list[Standing], now: datetime) -> dict[int, Eligibility]:
    ids = [standing.user.id for standing in standings]
    rules, histories, scores = ladder(), _histories(ids), _scores(ids)
    return {standing.user.id: _eligibility(standing, rules, histories[standing.user.id], scores[standing.user.id],
                                           now) for standing in standings}


def ready_for_promotion(now: datetime) -> list[Eligibility]:
    """Active agents below five stars who meet every condition of their next star, declined ones last."""
    agents = list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == "agent", User.active.is_(True), User.star_level < MAX_STAR)
        .order_by(User.team, User.employee_no)))
    ready = [e for e in eligibilities(agents, now).values() if e.eligible]
    return sorted(ready, key=lambda e: (e.declined is not None, e.user.team, e.user.employee_no))


def star_history(user: User) -> list[StarChange]:
    return list(db.session.scalars(select(StarChange).where(StarChange.user_id == user.id)
                                   .options(selectinload(StarChange.changed_by))
                                   .order_by(StarChange.changed_at, StarChange.id)))


# --- changing star levels ---------------------------------------------------------------------------

def record_star_change(user: User, to_level: int, *, kind: str, actor: User | None, reason: str,
                       now: datetime) -> StarChange | None:
    """Set `user`'s star level and keep the step in the history, audited. Does not commit.

    `kind` is how it happened: initial (a new account), edit, import, promotion; a lower level is
    always recorded as a demotion and needs a reason (ReasonRequired). Nothing happens when the
    level does not change (None is returned)."""
    reason = (reason or "").strip()
    from_level = user.star_level if kind != "initial" else None
    if from_level == to_level:
        return None
    if from_level is not None and to_level < from_level:
        kind = "demotion"
        if not reason:
            raise ReasonRequired()
    change = StarChange(user=user, kind=kind, from_level=from_level, to_level=to_level, reason=reason,
                        changed_at=now, changed_by=actor)
    user.star_level = to_level
    db.session.add(change)
    db.session.flush()
    audit(actor, f"star.{kind}", "user", user.id, from_level=from_level, to_level=to_level, reason=reason,
          star_change_id=change.id)
    return change


def confirm_promotion(actor: User, agent: User, now: datetime, reason: str = "") -> StarChange:
    """Promote an eligible agent one star, with a certificate. Raises TopLevel, NotEligible (also for
    a deactivated account or one without the agent role: the ready list never offers them)."""
    from lms.certificates.services import issue_for_promotion

    if agent.star_level >= MAX_STAR:
        raise TopLevel()
    standing = eligibility(agent, now)
    if not standing.eligible or not agent.active or not agent.has_role("agent"):
        raise NotEligible()
    change = record_star_change(agent, agent.star_level + 1, kind="promotion", actor=actor, reason=reason, now=now)
    issue_for_promotion(change, standing.title)
    db.session.commit()
    return change


def decline_promotion(actor: User, agent: User, reason: str, now: datetime) -> StarChange:
    """Keep the agent at their level, with the reason. Raises TopLevel, ReasonRequired."""
    reason = (reason or "").strip()
    if agent.star_level >= MAX_STAR:
        raise TopLevel()
    if not reason:
        raise ReasonRequired()
    change = StarChange(user=agent, kind="declined", from_level=agent.star_level, to_level=agent.star_level + 1,
                        reason=reason, changed_at=now, changed_by=actor)
    db.session.add(change)
    db.session.flush()
    audit(actor, "star.declined", "user", agent.id, from_level=agent.star_level, to_level=agent.star_level + 1,
          reason=reason, star_change_id=change.id)
    db.session.commit()
    return change
