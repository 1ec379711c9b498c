"""Scenario scripts and rubrics: written in the browser or imported from `courses/*/scenarios/*.md`
(`lms sync`), each change a new version. Earlier versions stay: a practical or a rehearsal keeps
the script and rubric version it was scored against. Raises the domain exceptions of
lms/practicals/services.py; each operation commits once (the importer's write step leaves the
commit to `lms sync`).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from lms.content.errors import ContentError, ContentInvalid
from lms.content.scenarios import ScenarioSpec, ScriptSpec, load_scenario_tree, parse_scenario
from lms.extensions import db
from lms.models import Course, Practical, Rehearsal, RubricCriterion, RubricVersion, Scenario, ScriptVersion, User
from lms.practicals.services import ScenarioInvalid, ScenarioNotFound, ScenarioSlugTaken
from lms.rendering import render_markdown
from lms.search import index as search_index


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
        report.remove(session, slug, scenario, in_use=scenario.id in in_use, now=now)
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
