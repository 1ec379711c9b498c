"""Scenario scripts and rubrics (authoring, import, versions), rehearsals, and practicals:
who may observe whom, sign-off, corrections, acknowledgements and re-observations.

Services take plain values and raise the domain exceptions below; each operation commits once.
Practical results go to the training record through `add_entry`, every sign-off, correction
and acknowledgement to the audit log through `audit`, in the same commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import exists, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from lms.content.errors import ContentError, ContentInvalid
from lms.content.scenarios import ScenarioSpec, ScriptSpec, load_scenario_tree, parse_scenario
from lms.extensions import db
from lms.models import (Course, Practical, PracticalAcknowledgement, PracticalCorrection, PracticalScore,
                        RecordEntry, Rehearsal, RubricCriterion, RubricVersion, Scenario, ScriptVersion, User)
from lms.practicals.scoring import Criterion, NothingToScore, RubricResult, ScoringError, score_rubric
from lms.records import completion
from lms.records.access import is_mentor_of
from lms.records.services import add_entry, audit
from lms.rendering import render_markdown
from lms.search import index as search_index

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


# --- scripts: versions, authoring, import --------------------------------------------------------

def _html(text: str) -> str:
    return render_markdown(text) if text.strip() else ""


def _step_html(step) -> dict:
    return {
        "title": step.title,
        "lines": {mood: _html(text) for mood, text in step.lines.items()},
        "good": _html(step.good),
        "phrasings": [_html(text) for text in step.phrasings],
        "mistakes": [_html(text) for text in step.mistakes],
    }


def _star_level(script: ScriptSpec, course: Course | None) -> int:
    if script.star_level is not None:
        return script.star_level
    return course.star_level if course is not None else 0


def _write_versions(scenario: Scenario, spec: ScenarioSpec, course: Course | None, author: User | None,
                    now: datetime) -> tuple[bool, bool]:
    """Add a script and/or rubric version when the spec differs from the newest; never touch old ones."""
    star_level = _star_level(spec.script, course)
    script = scenario.script
    script_changed = script is None or script.content_hash != spec.script.content_hash or script.star_level != star_level
    if script_changed:
        scenario.script_versions.append(ScriptVersion(
            number=(script.number + 1) if script else 1, title=spec.script.title, star_level=star_level,
            minutes=spec.script.minutes, summary=spec.script.summary,
            persona_html=_html(spec.script.persona), situation_html=_html(spec.script.situation),
            steps=[_step_html(step) for step in spec.script.steps], content_hash=spec.script.content_hash,
            created_at=now, created_by=author,
        ))
    rubric = scenario.rubric
    rubric_changed = rubric is None or rubric.content_hash != spec.rubric.content_hash
    if rubric_changed:
        scenario.rubric_versions.append(RubricVersion(
            number=(rubric.number + 1) if rubric else 1, pass_percent=spec.rubric.pass_percent,
            content_hash=spec.rubric.content_hash, created_at=now, created_by=author,
            criteria=[RubricCriterion(position=position, key=c.key, title=c.title, weight=c.weight, fatal=c.fatal,
                                      allow_na=c.allow_na, levels=list(c.levels))
                      for position, c in enumerate(spec.rubric.criteria)],
        ))
    scenario.title = spec.script.title
    scenario.star_level = star_level
    scenario.course = course
    return script_changed, rubric_changed


def list_scenarios(*, include_retired: bool = False) -> list[Scenario]:
    query = select(Scenario).options(joinedload(Scenario.course)).order_by(Scenario.star_level, Scenario.slug)
    if not include_retired:
        query = query.where(Scenario.retired_at.is_(None))
    return list(db.session.scalars(query))


def find_scenario(slug: str, *, include_retired: bool = False) -> Scenario:
    """The scenario with its versions, criteria and course. Raises ScenarioNotFound."""
    scenario = db.session.scalar(select(Scenario).where(Scenario.slug == slug).options(
        joinedload(Scenario.course), selectinload(Scenario.script_versions),
        selectinload(Scenario.rubric_versions).selectinload(RubricVersion.criteria)))
    if scenario is None or (scenario.retired_at is not None and not include_retired):
        raise ScenarioNotFound(slug)
    return scenario


def live_courses() -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.retired_at.is_(None))
                                   .order_by(Course.star_level, Course.position)))


def _parse(text: str, slug: str) -> ScenarioSpec:
    spec, errors = parse_scenario(text.replace("\r\n", "\n"), f"{slug or 'scenario'}.md", slug)
    if errors:
        raise ScenarioInvalid(errors)
    return spec


def create_scenario(*, author: User, slug: str, course: Course, text: str, now: datetime) -> Scenario:
    """A new script written in the browser. Raises ScenarioInvalid with line-numbered problems."""
    slug = slug.strip()
    text = text.replace("\r\n", "\n")
    spec = _parse(text, slug)
    if db.session.scalar(select(Scenario.id).where(Scenario.slug == slug)) is not None:
        raise ScenarioSlugTaken([ContentError(f"{slug}.md", 1, f"the slug {slug!r} is already used by another scenario")])
    scenario = Scenario(slug=slug, source_text=text, created_at=now, updated_at=now)
    _write_versions(scenario, spec, course, author, now)
    db.session.add(scenario)
    try:
        search_index.refresh_scenario(db.session, scenario)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ScenarioSlugTaken([ContentError(f"{slug}.md", 1, f"the slug {slug!r} is already used by another scenario")])
    return scenario


def update_scenario(scenario: Scenario, *, author: User, course: Course, text: str, now: datetime) -> tuple[bool, bool]:
    """Save edited text: a changed script or rubric becomes a new version, earlier versions stay
    for the results scored against them. Returns (script changed, rubric changed)."""
    text = text.replace("\r\n", "\n")
    spec = _parse(text, scenario.slug)
    moved = scenario.course_id != course.id
    changed = _write_versions(scenario, spec, course, author, now)
    if any(changed) or moved or text != scenario.source_text or scenario.retired_at is not None:
        scenario.source_text = text
        scenario.retired_at = None
        scenario.updated_at = now
        search_index.refresh_scenario(db.session, scenario)
        db.session.commit()
    else:
        db.session.rollback()
    return changed


def _scenarios_in_use(session: Session) -> set[int]:
    return set(session.scalars(union(select(Practical.scenario_id), select(Rehearsal.scenario_id))))


def import_scenarios(session: Session, specs: list[ScenarioSpec], now: datetime):
    """The `scenarios` importer's write step (no commit). Unchanged files write nothing; a changed
    script or rubric adds a version; a removed file's scenario is deleted while unused, retired
    once anyone rehearsed it or was observed on it. Scripts written in the browser are left alone."""
    from lms.content.sync import SyncReport

    report = SyncReport()
    existing = {scenario.slug: scenario for scenario in session.scalars(select(Scenario).options(
        selectinload(Scenario.script_versions), selectinload(Scenario.rubric_versions)))}
    courses = {course.slug: course for course in session.scalars(select(Course))}
    missing = [ContentError(spec.path, 1, f"the course {spec.course_slug!r} is not imported: import the courses first")
               for spec in specs if spec.course_slug not in courses]
    if missing:
        raise ContentInvalid(missing)
    for spec in specs:
        course = courses[spec.course_slug]
        scenario = existing.get(spec.slug)
        if scenario is None:
            scenario = Scenario(slug=spec.slug, created_at=now)
            session.add(scenario)
            report.created.append(spec.slug)
        elif (scenario.source_hash == spec.source_hash and scenario.source_path == spec.path
              and scenario.course_id == course.id and scenario.retired_at is None
              and scenario.star_level == _star_level(spec.script, course)):  # the course may have moved level
            report.unchanged.append(spec.slug)
            continue
        else:
            report.updated.append(spec.slug)
        _write_versions(scenario, spec, course, None, now)
        scenario.source_path, scenario.source_hash = spec.path, spec.source_hash
        scenario.source_text = spec.source_text
        scenario.retired_at = None
        scenario.updated_at = now
    wanted = {spec.slug for spec in specs}
    in_use = None
    for slug, scenario in existing.items():
        if slug in wanted or not scenario.source_path or scenario.retired_at is not None:
            continue
        in_use = _scenarios_in_use(session) if in_use is None else in_use
        if scenario.id in in_use:
            scenario.retired_at = now
            report.retired.append(slug)
        else:
            session.delete(scenario)
            report.deleted.append(slug)
    session.flush()
    return report


def load_scenarios(config) -> tuple[list[ScenarioSpec], list[ContentError]]:
    """The `scenarios` importer's read step: every `courses/*/scenarios/*.md`."""
    return load_scenario_tree(Path(config["LMS_COURSES_DIR"]))


def sync_scenarios(session: Session, root: Path, now: datetime):
    """Import the scenario files under `root` alone (the courses must be imported already)."""
    specs, errors = load_scenarios({"LMS_COURSES_DIR": str(root)})
    if errors:
        raise ContentInvalid(errors)
    try:
        report = import_scenarios(session, specs, now)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report


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
