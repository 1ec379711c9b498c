"""`lms sync`: bring the database in line with the content folders, in one transaction.

Every kind of content (courses, and later question banks and scenario scripts) is an importer:
`load` parses its folder into specs and errors, `apply` writes specs without committing.
`sync_content` parses everything first and writes nothing unless all of it is valid.

A course whose folder is unchanged is not written (browser edits stay until a file changes). A course or lesson gone from disk is deleted
while nobody has progress on it, retired (hidden, kept) once anyone has.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from lms.content.courses import CourseSpec, LessonSpec, load_course_tree
from lms.content.errors import ContentError, ContentInvalid

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lms.models import Course, Lesson
    from lms.rendering import MediaResolver

# Parsing (every importer's `load`) needs no database: `lms sync --check` runs it without building
# the app or importing SQLAlchemy, the models or the Markdown renderer (lms/cli.py). What writes
# imports them when it runs.


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired or self.deleted)

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged, {len(self.retired)} retired, {len(self.deleted)} deleted")

    def remove(self, session, slug: str, row, *, in_use: bool, now) -> bool:
        """A row whose file is gone: retired while anything points at it (the record and attempts keep
        what they showed), else deleted. True when it was retired."""
        if in_use:
            row.retired_at = now
            self.retired.append(slug)
        else:
            session.delete(row)
            self.deleted.append(slug)
        return in_use


_PARSED: ContextVar[dict[str, list] | None] = ContextVar("parsed_in_this_run", default=None)


def parsed_in_this_run(name: str) -> list | None:
    """The specs importer `name` parsed earlier in the running `sync_content` (exams name banks, which
    are then not parsed twice); None outside one or before that importer ran."""
    parsed = _PARSED.get()
    return None if parsed is None else parsed.get(name)


@dataclass(frozen=True)
class ContentImporter:
    name: str
    load: Callable[[Mapping[str, Any]], tuple[list, list[ContentError]]]  # app config -> specs, errors
    apply: Callable[[Session, list, datetime], Any]  # writes, never commits; returns a report with summary()


def sync_content(session: Session, config: Mapping[str, Any], now: datetime, *, check_only: bool = False) -> list[str]:
    """Parse every importer's folder, then (unless check_only) apply them all in one commit.

    Raises ContentInvalid with every problem of every folder; nothing is written then.
    Returns one summary line per importer.
    """
    parsed, errors = [], []
    so_far = _PARSED.set({})
    try:
        for importer in IMPORTERS:
            specs, found = importer.load(config)
            parsed.append((importer, specs))
            _PARSED.get()[importer.name] = specs
            errors.extend(found)
    finally:
        _PARSED.reset(so_far)
    if errors:
        raise ContentInvalid(errors)
    if check_only:
        return [f"{importer.name}: {len(specs)} valid" for importer, specs in parsed]
    from lms.search import index as search_index

    try:
        reports = [(importer, importer.apply(session, specs, now)) for importer, specs in parsed]
        search_index.refresh_all(session)  # the search index changes with the content, in the same commit
        session.commit()
    except Exception:
        session.rollback()
        raise
    return [f"{importer.name}: {report.summary()}" for importer, report in reports]


def check_courses(root: Path) -> list[CourseSpec]:
    """Parse and validate every course folder; raise ContentInvalid with every problem."""
    specs, errors = load_course_tree(root)
    if errors:
        raise ContentInvalid(errors)
    return specs


def sync_courses(session: Session, root: Path, now: datetime) -> SyncReport:
    """Import the course folders under `root`. Nothing is written unless all of them are valid."""
    specs = check_courses(root)
    try:
        report = _apply(session, specs, now)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return report


def _apply(session: Session, specs: list[CourseSpec], now: datetime) -> SyncReport:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from lms.models import Course, CourseMedia, Lesson, LessonProgress, MediaBlob

    report = SyncReport()
    existing = {course.slug: course for course in session.scalars(
        select(Course).options(selectinload(Course.lessons).selectinload(Lesson.versions),
                               selectinload(Course.prerequisites),
                               selectinload(Course.media).joinedload(CourseMedia.blob).defer(MediaBlob.data)))}
    with session.no_autoflush:
        lessons_in_use = set(session.scalars(select(LessonProgress.lesson_id).distinct()))
    wanted = {spec.slug for spec in specs}

    for spec in specs:
        course = existing.get(spec.slug)
        if course is None:
            course = existing[spec.slug] = Course(slug=spec.slug)
            session.add(course)
            media = _write_course(course, spec, session, now)
            for lesson_spec in spec.lessons:
                lesson = Lesson(slug=lesson_spec.slug)
                course.lessons.append(lesson)
                _write_lesson(lesson, lesson_spec, now, media)
            report.created.append(spec.slug)
            continue
        changed = _sync_course(course, spec, lessons_in_use, now, session)
        (report.updated if changed else report.unchanged).append(spec.slug)

    for spec in specs:  # prerequisites once every course exists
        course = existing[spec.slug]
        if [c.slug for c in course.prerequisites] != list(spec.prerequisites):
            course.prerequisites = [existing[slug] for slug in spec.prerequisites]
            if spec.slug in report.unchanged:
                report.unchanged.remove(spec.slug)
                report.updated.append(spec.slug)

    for slug, course in existing.items():
        # a course made in the browser has no folder: only a course whose folder is gone goes
        if slug in wanted or course.retired_at is not None or not course.from_files:
            continue
        report.remove(session, slug, course, in_use=any(lesson.id in lessons_in_use for lesson in course.lessons),
                      now=now)
    session.flush()
    return report


def _sync_course(course: Course, spec: CourseSpec, lessons_in_use: set[int], now: datetime,
                 session: Session) -> bool:
    """A course whose folder is unchanged since its last import is left as it is, browser edits and
    all; otherwise the folder wins: the course and every lesson say what the files say (a lesson whose
    text differs gets a new version), and lessons without a file are retired."""
    from lms.models import Lesson

    if (course.folder_hash == spec.folder_hash and course.source_hash == spec.source_hash
            and course.position == spec.position and course.source_path == spec.folder and course.retired_at is None):
        return False
    media = _write_course(course, spec, session, now)
    course.retired_at = None
    changed = True
    by_slug = {lesson.slug: lesson for lesson in course.lessons}
    for lesson_spec in spec.lessons:
        lesson = by_slug.get(lesson_spec.slug)
        if lesson is None:
            lesson = Lesson(slug=lesson_spec.slug)
            course.lessons.append(lesson)
        _write_lesson(lesson, lesson_spec, now, media)
        lesson.retired_at = None
    kept = {lesson_spec.slug for lesson_spec in spec.lessons}
    for lesson in list(course.lessons):
        if lesson.slug in kept or lesson.retired_at is not None:
            continue
        if lesson.id in lessons_in_use:
            lesson.retired_at = now
        else:
            course.lessons.remove(lesson)
    return changed


def _write_course(course: Course, spec: CourseSpec, session: Session, now: datetime) -> MediaResolver:
    """Write the course's fields and store its media/ folder (before anything is rendered with it);
    returns the resolver its lessons are rendered with."""
    from lms.media.store import resolver_for, sync_course_media  # imported late: lms.media builds on content
    from lms.rendering import render_markdown

    media = resolver_for(sync_course_media(session, course, spec.media, now))
    course.title = spec.title
    course.star_level = spec.star_level
    course.kind = spec.kind
    course.track = spec.track
    course.course_type = spec.course_type
    course.summary = spec.summary
    course.minutes = spec.minutes
    course.valid_months = spec.valid_months
    course.practicals = list(spec.practicals)
    course.evaluation_threshold = spec.evaluation_threshold
    course.intro_md = spec.intro
    course.intro_html = render_markdown(spec.intro, media=media) if spec.intro.strip() else ""
    course.position = spec.position
    course.source_path = spec.folder
    course.source_hash = spec.source_hash
    course.folder_hash = spec.folder_hash
    course.edited_at = None
    return media


def _write_lesson(lesson: Lesson, spec: LessonSpec, now: datetime, media: MediaResolver | None = None) -> None:
    from lms.content.lesson_versions import save_lesson
    from lms.rendering import render_markdown

    lesson.position = spec.position
    lesson.source_hash = spec.source_hash
    save_lesson(lesson, title=spec.title, minutes=spec.minutes, body_md=spec.body,
                body_html=render_markdown(spec.body, media=media), origin="file", now=now)


def _load_courses(config):
    from lms.content.media import limits_from_config

    return load_course_tree(Path(config["LMS_COURSES_DIR"]), media_limits=limits_from_config(config))


COURSES = ContentImporter(
    name="courses",
    load=_load_courses,
    apply=_apply,
)


def _load_scenarios(config):
    from lms.content.scenarios import load_scenario_tree  # the parser alone (lms.practicals writes them)

    return load_scenario_tree(Path(config["LMS_COURSES_DIR"]))


def _apply_scenarios(session, specs, now):
    from lms.practicals.scripts import import_scenarios

    return import_scenarios(session, specs, now)


SCENARIOS = ContentImporter(name="scenarios", load=_load_scenarios, apply=_apply_scenarios)


def _load_banks(config):
    from lms.content.banks import load_bank_tree  # imported late, as the other importers

    return load_bank_tree(Path(config["LMS_BANKS_DIR"]))


def _apply_banks(session, specs, now):
    from lms.banks.services import apply_banks

    return apply_banks(session, specs, now)


BANKS = ContentImporter(name="question banks", load=_load_banks, apply=_apply_banks)

# In dependency order: later importers may refer to what earlier ones wrote (a scenario to its
# course, an exam to its bank).
def _load_ladder(config):
    from lms.records.ladder_file import load_ladder  # imported late, as the other importers

    return load_ladder(config)


def _apply_ladder(session, specs, now):
    from lms.records.ladder_file import apply_ladder

    return apply_ladder(session, specs, now)


LADDER = ContentImporter(name="star ladder", load=_load_ladder, apply=_apply_ladder)

IMPORTERS: list[ContentImporter] = [COURSES, BANKS, SCENARIOS, LADDER]


def _load_exams(config):
    from lms.content.exams import load_exams  # imported late: it builds on this module

    return load_exams(config)


def _apply_exams(session, specs, now):
    from lms.content.exams import apply_exams

    return apply_exams(session, specs, now)


# Exams come last, whatever is added above: their pools name question banks, their files sit in
# course folders.
IMPORTERS.append(ContentImporter(name="exams", load=_load_exams, apply=_apply_exams))
