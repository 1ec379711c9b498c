"""Rehearsals and practicals: who may observe whom, sign-off, corrections, acknowledgements and
re-observations (the scenario scripts and rubrics themselves: lms/practicals/scripts.py).

Services take plain values and raise the domain exceptions below; each operation commits once.
Practical results go to the training record through `add_entry`, every sign-off, correction
and acknowledgement to the audit log through `audit`, in the same commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from lms.content.errors import ContentError
from lms.extensions import db
from lms.models import (Practical, PracticalAcknowledgement, PracticalCorrection, PracticalScore,
                        RecordEntry, Rehearsal, RubricCriterion, RubricVersion, Scenario, ScriptVersion, User)
from lms.practicals.scoring import Criterion, NothingToScore, RubricResult, ScoringError, score_rubric
from lms.records import completion
from lms.records.access import is_mentor_of
from lms.records.services import add_entry, audit

MAX_REPLY = 4000
MAX_COMMENT = 2000


# --- exceptions ---------------------------------------------------------------------------------

class ScenarioNotFound(LookupError):
    pass


class PracticalNotFound(LookupError):
    pass


class RehearsalNotFound(LookupError):
    pass


class AgentNotFound(LookupError):
    pass


class ScenarioInvalid(ValueError):
    """The script text does not parse; `errors` say where."""

    def __init__(self, errors: list[ContentError]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class ScenarioSlugTaken(ScenarioInvalid):
    """Another scenario already has this slug (a problem of the id field, not of a line of the text)."""


class NotAllowed(PermissionError):
    """The user may not see or do this."""


class NotYourMentee(NotAllowed):
    def __init__(self):
        super().__init__("Only the agent's mentor or a trainer may observe and sign off this agent's practicals.")


class SelfSignoff(NotAllowed):
    def __init__(self):
        super().__init__("Nobody may observe or sign off their own practical.")


class NotYourPractical(NotAllowed):
    def __init__(self):
        super().__init__("Only the agent who was observed may acknowledge the result.")


class ScenarioLocked(NotAllowed):
    def __init__(self, level: int):
        super().__init__(f"This scenario opens at star level {level}.")
        self.level = level


class ScenarioRetired(ValueError):
    pass


class AlreadySigned(ValueError):
    """The practical is signed (or cancelled): its result can only be corrected."""


class NotSigned(ValueError):
    pass


class AlreadyAcknowledged(ValueError):
    pass


class MarksInvalid(ValueError):
    pass


class NothingScored(MarksInvalid):
    """Every criterion was marked not applicable."""


class WorkOnRequired(ValueError):
    pass


class ReasonRequired(ValueError):
    pass


class ReobservationExists(ValueError):
    pass


class NothingToReobserve(ValueError):
    pass


# --- who may do what ----------------------------------------------------------------------------

def check_observer(actor: User, agent: User) -> None:
    """Raise SelfSignoff or NotYourMentee unless `actor` may observe and sign off `agent`."""
    if actor.id == agent.id:
        raise SelfSignoff()
    if actor.has_role("trainer") or is_mentor_of(actor, agent):
        return
    raise NotYourMentee()


def may_observe(actor: User, agent: User) -> bool:
    try:
        check_observer(actor, agent)
    except NotAllowed:
        return False
    return True


def may_view_work_of(viewer: User, agent: User) -> bool:
    """The agent, their mentor, trainers and admins see an agent's practicals and rehearsals."""
    return viewer.id == agent.id or is_mentor_of(viewer, agent) or viewer.has_role("trainer", "admin")


def may_rehearse(user: User, scenario: Scenario) -> bool:
    return scenario.retired_at is None and (user.can_author or scenario.star_level <= user.star_level)


# --- rehearsals ---------------------------------------------------------------------------------

def start_rehearsal(user: User, scenario: Scenario, now: datetime) -> Rehearsal:
    """Practise the scenario's current versions alone. Raises ScenarioRetired, ScenarioLocked."""
    if scenario.retired_at is not None:
        raise ScenarioRetired(scenario.slug)
    if not may_rehearse(user, scenario):
        raise ScenarioLocked(scenario.star_level)
    rehearsal = Rehearsal(user=user, scenario=scenario, script_version=scenario.script,
                          rubric_version=scenario.rubric, started_at=now, replies={}, self_marks={})
    db.session.add(rehearsal)
    db.session.commit()
    return rehearsal


def load_rehearsal_for(user: User, rehearsal_id: int, *, to_write: bool = False) -> Rehearsal:
    """The rehearsal if `user` may see it (its agent, their mentor, trainers, admins) or, with
    `to_write`, work on it (its agent only). Raises RehearsalNotFound, NotAllowed."""
    rehearsal = db.session.scalar(select(Rehearsal).where(Rehearsal.id == rehearsal_id).options(
        joinedload(Rehearsal.user), joinedload(Rehearsal.scenario), joinedload(Rehearsal.script_version),
        joinedload(Rehearsal.rubric_version).selectinload(RubricVersion.criteria)))
    if rehearsal is None:
        raise RehearsalNotFound(rehearsal_id)
    if to_write and rehearsal.user_id != user.id:
        raise NotAllowed("Only the agent who rehearses may write in this rehearsal.")
    if not may_view_work_of(user, rehearsal.user):
        raise NotAllowed("This rehearsal belongs to someone else.")
    return rehearsal


def save_reply(rehearsal: Rehearsal, step: int, reply: str, mood: str) -> None:
    """Keep what the agent answered at `step` (0-based); from then on its model phrasing shows."""
    if not 0 <= step < len(rehearsal.script_version.steps):
        raise RehearsalNotFound(step)
    rehearsal.replies = {**rehearsal.replies, str(step): reply.strip()[:MAX_REPLY]}
    if mood in ("calm", "angry", "confused"):
        rehearsal.mood = mood
    db.session.commit()


def rate_rehearsal(rehearsal: Rehearsal, marks: dict[int, int | None], comment: str, now: datetime) -> RubricResult:
    """The agent's self-rating against the rubric; practice only, nothing goes to the record."""
    result = _score(rehearsal.rubric_version, marks)
    by_id = {criterion.id: criterion.key for criterion in rehearsal.rubric_version.criteria}
    rehearsal.self_marks = {by_id[criterion_id]: points for criterion_id, points in marks.items()}
    rehearsal.self_comment = comment.strip()[:MAX_COMMENT]
    rehearsal.self_percent = result.percent
    rehearsal.self_passed = result.passed
    rehearsal.completed_at = now
    db.session.commit()
    return result


def rehearsals_of(user: User, limit: int = 20) -> list[Rehearsal]:
    return list(db.session.scalars(select(Rehearsal).where(Rehearsal.user_id == user.id)
                                   .options(joinedload(Rehearsal.scenario))
                                   .order_by(Rehearsal.started_at.desc(), Rehearsal.id.desc()).limit(limit)))


# --- practicals ---------------------------------------------------------------------------------

def find_agent(employee_no: str) -> User:
    agent = db.session.scalar(select(User).where(User.employee_no == employee_no.strip()))
    if agent is None or not agent.active:
        raise AgentNotFound(employee_no)
    return agent


def open_practical(actor: User, agent: User, scenario: Scenario, *, scheduled_for: date | None, now: datetime,
                   reobservation_of: Practical | None = None) -> Practical:
    """A practical to observe now or on `scheduled_for`. Raises SelfSignoff, NotYourMentee, ScenarioRetired."""
    check_observer(actor, agent)
    if scenario.retired_at is not None:
        raise ScenarioRetired(scenario.slug)
    practical = Practical(agent=agent, scenario=scenario, status="scheduled", scheduled_for=scheduled_for,
                          scheduled_by=actor, reobservation_of=reobservation_of, created_at=now)
    db.session.add(practical)
    db.session.flush()
    audit(actor, "practical.scheduled", "practical", practical.id, agent_id=agent.id, scenario=scenario.slug,
          scheduled_for=scheduled_for.isoformat() if scheduled_for else None,
          reobservation_of=reobservation_of.id if reobservation_of else None)
    if scheduled_for is not None or reobservation_of is not None:  # "observe now": the agent is right there
        _notify_agent(practical, "practical_scheduled", f"practical_scheduled:{practical.id}", actor, now,
                      scheduled_for=scheduled_for.isoformat() if scheduled_for else None)
    db.session.commit()
    return practical


def _notify_agent(practical: Practical, kind: str, key: str, actor: User, now: datetime, **params) -> None:
    from lms.notifications.services import notify

    notify(practical.agent_id, kind, key=key, link=f"/practicals/{practical.id}", now=now,
           params={"scenario": practical.scenario.title, "mentor": actor.name, **params})


def load_practical_for(user: User, practical_id: int) -> Practical:
    """The practical with everything its page shows, if `user` may see it (the agent, their
    mentor, trainers, admins). Raises PracticalNotFound, NotAllowed."""
    practical = db.session.scalar(select(Practical).where(Practical.id == practical_id).options(
        joinedload(Practical.agent), joinedload(Practical.signed_by), joinedload(Practical.record_entry),
        joinedload(Practical.scenario).selectinload(Scenario.script_versions),
        joinedload(Practical.scenario).selectinload(Scenario.rubric_versions).selectinload(RubricVersion.criteria),
        joinedload(Practical.script_version), joinedload(Practical.rubric_version),
        selectinload(Practical.scores).joinedload(PracticalScore.criterion),
        selectinload(Practical.corrections).options(joinedload(PracticalCorrection.record_entry),
                                                    joinedload(PracticalCorrection.author)),
        selectinload(Practical.acknowledgements)))
    if practical is None:
        raise PracticalNotFound(practical_id)
    if not may_view_work_of(user, practical.agent):
        raise NotAllowed("This practical belongs to someone else.")
    return practical


def _score(rubric: RubricVersion, marks: dict[int, int | None]) -> RubricResult:
    by_id = {criterion.id: criterion for criterion in rubric.criteria}
    if set(marks) - set(by_id):
        raise MarksInvalid("The marks do not belong to this rubric.")
    try:
        return score_rubric(
            [Criterion(c.key, c.weight, c.max_points, c.fatal, c.allow_na) for c in rubric.criteria],
            {by_id[criterion_id].key: points for criterion_id, points in marks.items()},
            rubric.pass_percent,
        )
    except NothingToScore as exc:
        raise NothingScored("Every criterion is marked not applicable: score at least one.") from exc
    except ScoringError as exc:
        raise MarksInvalid(str(exc)) from exc


def _details(practical: Practical, script: ScriptVersion, rubric: RubricVersion, result: RubricResult,
             marks: dict[int, int | None], comments: dict[int, str], **extra) -> dict:
    """The snapshot kept in the record: versions and every criterion as it was scored."""
    earned = {item.key: item for item in result.criteria}
    return {
        "practical_id": practical.id, "scenario": practical.scenario.slug,
        "script_version_id": script.id, "script_version": script.number,
        "rubric_version_id": rubric.id, "rubric_version": rubric.number,
        "pass_percent": rubric.pass_percent, "percent": result.percent,
        "fatal_failed": list(result.fatal_failed),
        "criteria": [{
            "criterion_id": c.id, "key": c.key, "title": c.title, "weight": c.weight, "max_points": c.max_points,
            "fatal": c.fatal, "points": marks[c.id], "na": marks[c.id] is None,
            "level": c.levels[marks[c.id]] if marks[c.id] is not None else None,
            "earned": earned[c.key].earned, "comment": comments.get(c.id, ""),
        } for c in rubric.criteria],
        **extra,
    }


def _clean(text: str | None) -> str:
    return (text or "").strip()[:MAX_COMMENT]


def sign_off(actor: User, practical: Practical, *, script_version_id: int, rubric_version_id: int,
             marks: dict[int, int | None], comments: dict[int, str], overall_comment: str, work_on: str,
             mood: str | None, now: datetime) -> RecordEntry:
    """Score and sign: the result (score, percent, pass/fail, band) becomes a training-record
    entry and the sign-off is audited, in one commit. A signed practical never changes again.

    Raises SelfSignoff, NotYourMentee, AlreadySigned, MarksInvalid, WorkOnRequired (a fail must
    say what to work on).
    """
    check_observer(actor, practical.agent)
    if practical.status != "scheduled":
        raise AlreadySigned(practical.id)
    script = db.session.get(ScriptVersion, script_version_id)
    rubric = db.session.get(RubricVersion, rubric_version_id)
    if script is None or rubric is None or practical.scenario_id not in (script.scenario_id, rubric.scenario_id) \
            or script.scenario_id != rubric.scenario_id:
        raise MarksInvalid("The script or rubric version does not belong to this scenario.")
    result = _score(rubric, marks)
    work_on = _clean(work_on)
    if not result.passed and not work_on:
        raise WorkOnRequired("The result is a fail: say what the agent should work on before the re-observation.")
    comments = {criterion_id: _clean(text) for criterion_id, text in comments.items()}
    overall_comment = _clean(overall_comment)
    mood = mood if mood in ("calm", "angry", "confused") else None
    entry = add_entry(
        user=practical.agent, kind="practical", title=script.title, course=practical.scenario.course,
        score=result.score, max_score=result.max_score, passed=result.passed, source_type="practical",
        source_id=practical.id, recorded_by=actor, occurred_at=now,
        details=_details(practical, script, rubric, result, marks, comments, mood=mood,
                         overall_comment=overall_comment, work_on=work_on),
    )
    for position, criterion in enumerate(rubric.criteria):
        db.session.add(PracticalScore(practical_id=practical.id, criterion_id=criterion.id, position=position,
                                      points=marks[criterion.id], comment=comments.get(criterion.id, "")))
    try:
        db.session.flush()
    except IntegrityError:  # another request signed it first: its scores are there
        db.session.rollback()
        raise AlreadySigned(practical.id)
    # Only a practical still scheduled is signed: a second tap on "sign" finds nothing to update.
    signed = db.session.execute(
        update(Practical).where(Practical.id == practical.id, Practical.status == "scheduled").values(
            status="signed", signed_by_id=actor.id, signed_at=now, script_version_id=script.id,
            rubric_version_id=rubric.id, mood=mood, overall_comment=overall_comment, work_on=work_on,
            record_entry_id=entry.id),
        execution_options={"synchronize_session": False})
    if signed.rowcount != 1:
        db.session.rollback()
        raise AlreadySigned(practical.id)
    audit(actor, "practical.signed", "practical", practical.id, record_entry_id=entry.id, agent_id=practical.agent_id,
          passed=result.passed, percent=result.percent, script_version_id=script.id, rubric_version_id=rubric.id)
    if result.passed:
        completion.record_completions(practical.agent, now)
    _notify_agent(practical, "practical_waiting", f"practical_waiting:{entry.id}", actor, now)
    db.session.commit()
    db.session.expire(practical)
    return entry


def correct_practical(actor: User, practical: Practical, *, marks: dict[int, int | None], comments: dict[int, str],
                      reason: str, now: datetime) -> PracticalCorrection:
    """Correct a signed result: a new record entry that references the one in force, scored
    against the same rubric version, with its reason and author, audited. Nothing old changes.

    Raises SelfSignoff, NotYourMentee, NotSigned, ReasonRequired, MarksInvalid.
    """
    check_observer(actor, practical.agent)
    if practical.status != "signed":
        raise NotSigned(practical.id)
    reason = _clean(reason)
    if not reason:
        raise ReasonRequired("Say why the result is corrected.")
    rubric, script = practical.rubric_version, practical.script_version
    result = _score(rubric, marks)
    comments = {criterion_id: _clean(text) for criterion_id, text in comments.items()}
    previous = practical.current_entry
    entry = add_entry(
        user=practical.agent, kind="practical", title=script.title, course=practical.scenario.course,
        score=result.score, max_score=result.max_score, passed=result.passed, source_type="practical",
        source_id=practical.id, recorded_by=actor, occurred_at=previous.occurred_at, corrects=previous,
        reason=reason, details=_details(practical, script, rubric, result, marks, comments, mood=practical.mood,
                                        overall_comment=practical.overall_comment, work_on=practical.work_on,
                                        corrected_at=now.isoformat()),
    )
    correction = PracticalCorrection(practical=practical, author=actor, reason=reason, record_entry=entry,
                                     created_at=now)
    db.session.add(correction)
    db.session.flush()
    audit(actor, "practical.corrected", "practical", practical.id, record_entry_id=entry.id,
          corrects=previous.id, reason=reason, passed=result.passed, percent=result.percent)
    completion.after_correction(practical.agent, previous, reason, actor, now)
    _notify_agent(practical, "practical_waiting", f"practical_waiting:{entry.id}", actor, now, corrected=True)
    db.session.commit()
    return correction


def acknowledge(user: User, practical: Practical, comment: str, now: datetime) -> PracticalAcknowledgement:
    """The agent confirms they have seen the result in force (with an optional comment), audited.
    Raises NotYourPractical, NotSigned, AlreadyAcknowledged."""
    if user.id != practical.agent_id:
        raise NotYourPractical()
    if practical.status != "signed":
        raise NotSigned(practical.id)
    entry = practical.current_entry
    if practical.acknowledgement_of(entry) is not None:
        raise AlreadyAcknowledged(practical.id)
    ack = PracticalAcknowledgement(practical=practical, record_entry_id=entry.id, user=user, comment=_clean(comment),
                                   created_at=now)
    db.session.add(ack)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyAcknowledged(practical.id)
    audit(user, "practical.acknowledged", "practical", practical.id, record_entry_id=entry.id, comment=ack.comment)
    db.session.commit()
    return ack


def schedule_reobservation(actor: User, practical: Practical, *, scheduled_for: date | None,
                           now: datetime) -> Practical:
    """After a fail, schedule a new observation of the same scenario; both stay in the record.
    Raises SelfSignoff, NotYourMentee, NotSigned, NothingToReobserve, ReobservationExists."""
    check_observer(actor, practical.agent)
    if practical.status != "signed":
        raise NotSigned(practical.id)
    if practical.current_entry.passed:
        raise NothingToReobserve(practical.id)
    pending = exists().where(Practical.reobservation_of_id == practical.id, Practical.status != "cancelled")
    if db.session.scalar(select(pending)):
        raise ReobservationExists(practical.id)
    return open_practical(actor, practical.agent, practical.scenario, scheduled_for=scheduled_for, now=now,
                          reobservation_of=practical)


def cancel_practical(actor: User, practical: Practical, now: datetime) -> None:
    """Call off a practical that was not signed. Raises SelfSignoff, NotYourMentee, AlreadySigned."""
    check_observer(actor, practical.agent)
    if practical.status != "scheduled":
        raise AlreadySigned(practical.id)
    practical.status = "cancelled"
    practical.cancelled_at = now
    audit(actor, "practical.cancelled", "practical", practical.id, agent_id=practical.agent_id)
    db.session.commit()


def observation_state(practical: Practical, today: date) -> str:
    """What the practical's badge says on `today` (the center's local date): "scheduled" before
    its date, "in_progress" from its date on (or at once when it has none: "observe now"),
    else its status ("signed", "cancelled")."""
    if practical.status != "scheduled":
        return practical.status
    if practical.scheduled_for is not None and practical.scheduled_for > today:
        return "scheduled"
    return "in_progress"


def practicals_of(agent: User) -> list[Practical]:
    """Every practical of `agent`, newest first, with what the list shows, in a fixed number of queries."""
    return list(db.session.scalars(
        select(Practical).where(Practical.agent_id == agent.id, Practical.status != "cancelled").options(
            joinedload(Practical.scenario), joinedload(Practical.record_entry), joinedload(Practical.signed_by),
            selectinload(Practical.corrections).joinedload(PracticalCorrection.record_entry),
            selectinload(Practical.acknowledgements))
        .order_by(Practical.created_at.desc(), Practical.id.desc())))


@dataclass(frozen=True)
class Mark:
    criterion: RubricCriterion
    points: int | None
    comment: str

    @property
    def level(self) -> str | None:
        return self.criterion.levels[self.points] if self.points is not None else None


def marks_of_entry(entry: RecordEntry, rubric: RubricVersion) -> list[Mark]:
    """A record entry's per-criterion snapshot, matched to the rubric's criteria for display."""
    by_id = {item["criterion_id"]: item for item in (entry.details or {}).get("criteria", [])}
    return [Mark(c, by_id[c.id]["points"], by_id[c.id].get("comment", "")) for c in rubric.criteria if c.id in by_id]
