"""Building and editing courses in the browser, with the same parser and errors as `lms sync`.

A form's values are written out as the file `lms sync` would read (`course.md`, `NN-<slug>.md`) and
parsed by lms.content.courses; the catalog rules (unique id, known prerequisites not above the
course's level, no cycle) are checked against the database, where the other courses are. Every
lesson save goes through lms.content.lesson_versions.save_lesson (a new version, progress kept).

A course from files keeps its browser edits until a file of its folder changes and `lms sync` runs;
then the folder wins for the whole course (lms.content.sync). A course made here has no folder
(source_path ""), starts hidden from learners, and is published once it has a lesson.

Every function takes plain values and commits its one operation; problems are raised as
`AuthoringInvalid` (with ContentErrors) or `MediaRefused`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lms.content.bank_writer import dump_yaml
from lms.content.courses import CourseSpec, LessonSpec, parse_course, parse_lesson, prerequisite_problem
from lms.content.errors import ContentError, _l
from lms.content.fields import SLUG
from lms.content.lesson_versions import save_lesson
from lms.models import Course, CourseMedia, Lesson, LessonVersion, MediaBlob, User
from lms.records.services import audit

COURSE_FILE = "course.md"
# The front matter keys the course form writes, in the order of course.md; the rest of a course's
# settings (practicals, customer evaluation) come from its file and are kept as they are.
FORM_KEYS = ("slug", "title", "star_level", "kind", "track", "type", "summary", "valid_months", "prerequisites")
LESSON_TITLE_LINE, LESSON_MINUTES_LINE = 2, 3  # where lesson_text puts them


class NotAuthor(PermissionError):
    """Only trainers and admins build and edit courses."""


class CourseNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Problem:
    """One reason a change was refused: `where` is the form field it belongs to ("title", "minutes",
    "body", "slug", "prerequisites", ...), `line` the line of a Markdown field (the editor's own
    numbering, 1 = its first line) or None, `message` the parser's translatable message."""
    where: str
    line: int | None
    message: object

    def __str__(self) -> str:
        return str(self.message)


class AuthoringInvalid(Exception):
    """The change was refused; nothing was saved. `problems`: every Problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = sorted(problems, key=lambda problem: (problem.where, problem.line or 0))


class MediaRefused(Exception):
    """An upload was refused (type, size, name); `message` says why in the reader's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class NotPublishable(Exception):
    """A course needs a lesson before learners can see it."""


# --- who may author, and finding what they edit -------------------------------------------------------

def check_author(user: User) -> None:
    """The one rule for this capability: trainers and admins author. Raises NotAuthor."""
    if user is None or not user.can_author:
        raise NotAuthor()


def course_for_author(session: Session, user: User, slug: str) -> Course:
    """The course (retired or hidden too) with its lessons and media. Raises NotAuthor, CourseNotFound."""
    check_author(user)
    course = session.scalar(select(Course).where(Course.slug == slug).options(
        selectinload(Course.lessons), selectinload(Course.prerequisites),
        # the files' bytes only when exported, not for every page and preview
        selectinload(Course.media).joinedload(CourseMedia.blob).defer(MediaBlob.data)))
    if course is None:
        raise CourseNotFound(slug)
    return course


def lesson_of(course: Course, lesson_slug: str) -> Lesson:
    lesson = next((lesson for lesson in course.lessons if lesson.slug == lesson_slug), None)
    if lesson is None:
        raise CourseNotFound(lesson_slug)
    return lesson


@dataclass
class CourseRow:
    course: Course
    lessons: int
    media: int


def list_courses(session: Session) -> list[CourseRow]:
    """Every course, from files and made here, by star level then position; three queries."""
    courses = session.scalars(select(Course).order_by(Course.star_level, Course.position, Course.id)).all()
    lessons = dict(session.execute(select(Lesson.course_id, func.count()).where(Lesson.retired_at.is_(None))
                                   .group_by(Lesson.course_id)).all())
    media = dict(session.execute(select(CourseMedia.course_id, func.count()).group_by(CourseMedia.course_id)).all())
    return [CourseRow(course, lessons.get(course.id, 0), media.get(course.id, 0)) for course in courses]


def course_choices(session: Session, exclude: Course | None = None) -> list[Course]:
    """Courses that may be named as prerequisites (live ones, not the course itself)."""
    query = select(Course).where(Course.retired_at.is_(None)).order_by(Course.star_level, Course.position)
    return [course for course in session.scalars(query) if exclude is None or course.id != exclude.id]


# --- the rule in words ----------------------------------------------------------------------------------

def origin_rule(course: Course):
    """What happens to browser edits of this course, as one sentence for its author."""
    if not course.from_files:
        return _l("This course was made in the browser: it exists only in the database. Export it as a zip "
                  "to keep it under version control; every saved version of its lessons stays in their history.")
    folder = f"courses/{course.source_path}"
    if course.edited_at is None:
        return _l("This course comes from the folder %(folder)s. If you change it here, your changes stay until "
                  "someone changes a file of that folder and runs lms sync: then the files win, and every version "
                  "you saved stays in the history.", folder=folder)
    return _l("This course comes from the folder %(folder)s and has been edited here. Your changes stay until "
              "someone changes a file of that folder and runs lms sync: then the files win for the whole course "
              "(lessons added here and their order included), and every version you saved stays in the history.",
              folder=folder)


# --- courses ------------------------------------------------------------------------------------------

@dataclass
class CourseFields:
    """What the course form holds, as plain values."""
    slug: str
    title: str
    star_level: int | None
    kind: str
    track: str
    course_type: str | None
    summary: str
    valid_months: int | None
    prerequisites: list[str] = field(default_factory=list)
    intro_md: str = ""


def fields_of(course: Course) -> CourseFields:
    return CourseFields(slug=course.slug, title=course.title, star_level=course.star_level, kind=course.kind,
                        track=course.track, course_type=course.course_type, summary=course.summary or "",
                        valid_months=course.valid_months,
                        prerequisites=[other.slug for other in course.prerequisites], intro_md=course.intro_md or "")


def course_document(values: CourseFields, *, practicals: Iterable[str] = (),
                    evaluation_threshold: float | None = None) -> dict:
    """The front matter of course.md for these values, keys in the file's order, empty ones left out."""
    meta: dict = {"slug": values.slug, "title": values.title}
    if values.star_level is not None:
        meta["star_level"] = values.star_level
    meta["kind"] = values.kind
    meta["track"] = values.track
    if values.course_type:
        meta["type"] = values.course_type
    if values.summary:
        meta["summary"] = values.summary
    if values.valid_months is not None:
        meta["valid_months"] = values.valid_months
    meta["prerequisites"] = list(values.prerequisites)
    if practicals:
        meta["practicals"] = list(practicals)
    if evaluation_threshold is not None:
        meta["customer_evaluation"] = evaluation_threshold
    return meta


def compose(meta: dict, body: str) -> str:
    """A content file: front matter between --- lines, then the Markdown body."""
    body = body.replace("\r\n", "\n")
    return "---\n" + dump_yaml(meta) + "---\n" + body + ("" if body.endswith("\n") or not body else "\n")


KEY_FIELDS = {"type": "course_type"}  # front matter key -> the course form's field, where they differ


def check_course(session: Session, values: CourseFields, course: Course | None = None) -> CourseSpec:
    """Parse the course as `lms sync` would, then apply the catalog rules against the database.
    Raises AuthoringInvalid with every problem, each on the form field of its key."""
    meta = course_document(values, practicals=course.practicals if course else (),
                           evaluation_threshold=course.evaluation_threshold if course else None)
    spec, errors, doc = parse_course(compose(meta, values.intro_md), COURSE_FILE,
                                     course.source_path if course else "", 0, ())
    by_line = {line: KEY_FIELDS.get(key, key) for key, line in doc.key_lines.items()}

    def problem(error: ContentError) -> Problem:
        if error.line >= doc.body_line:
            return Problem("intro_md", error.line - doc.body_line + 1, error.message)
        return Problem(by_line.get(error.line, ""), None, error.message)

    if spec is None:
        raise AuthoringInvalid([problem(error) for error in errors])
    problems: list[Problem] = []
    others = {other.slug: other for other in session.scalars(select(Course).options(
        selectinload(Course.prerequisites)))}
    taken = others.get(spec.slug)
    if taken is not None and (course is None or taken.id != course.id):
        problems.append(Problem("slug", None, _l("the id %(slug)r is already used by %(other)s", slug=spec.slug,
                                                 other=taken.title)))
    for slug in spec.prerequisites:
        other = others.get(slug)
        live = other is not None and other.retired_at is None and (course is None or other.id != course.id)
        message = prerequisite_problem(slug, other.star_level if live else None, spec.star_level)
        if message is not None:
            problems.append(Problem("prerequisites", None, message))
    if course is not None and _reaches(others, spec.prerequisites, course.slug):
        problems.append(Problem("prerequisites", None, _l("the prerequisites form a cycle")))
    if problems:
        raise AuthoringInvalid(problems)
    return spec


def _reaches(courses: dict[str, Course], start: Iterable[str], target: str) -> bool:
    """Whether following prerequisites from `start` leads back to `target`."""
    seen: set[str] = set()
    pending = list(start)
    while pending:
        slug = pending.pop()
        if slug == target:
            return True
        if slug in seen or slug not in courses:
            continue
        seen.add(slug)
        pending.extend(other.slug for other in courses[slug].prerequisites)
    return False


def _write(course: Course, spec: CourseSpec, prerequisites: list[Course]) -> None:
    course.title, course.star_level, course.kind, course.track = spec.title, spec.star_level, spec.kind, spec.track
    course.course_type, course.summary, course.valid_months = spec.course_type, spec.summary, spec.valid_months
    course.intro_md = spec.intro
    course.intro_html = render(course, spec.intro) if spec.intro.strip() else ""
    course.prerequisites = prerequisites


def create_course(session: Session, user: User, values: CourseFields, now: datetime) -> Course:
    """A new course with no folder, after the file courses, hidden from learners until published.
    Raises AuthoringInvalid."""
    check_author(user)
    spec = check_course(session, values)
    last = session.scalar(select(func.max(Course.position))) or 0
    course = Course(slug=spec.slug, position=last + 1, source_path="", source_hash="", folder_hash="",
                    minutes=0, practicals=[], edited_at=now, retired_at=now, created_at=now, updated_at=now)
    _write(course, spec, _courses(session, spec.prerequisites))
    session.add(course)
    session.flush()
    audit(user, "course.created", "course", course.id, slug=course.slug)
    _commit(session, course)
    return course


def update_course(session: Session, user: User, course: Course, values: CourseFields, now: datetime) -> None:
    """Change the course's settings and introduction (its id stays). Raises AuthoringInvalid."""
    check_author(user)
    values.slug = course.slug  # the id names the course in addresses, files and records
    spec = check_course(session, values, course)
    with session.no_autoflush:
        prerequisites = _courses(session, spec.prerequisites)
    _write(course, spec, prerequisites)
    course.edited_at = now
    audit(user, "course.edited", "course", course.id, slug=course.slug)
    _commit(session, course)


def publish_course(session: Session, user: User, course: Course, now: datetime, *, visible: bool) -> None:
    """Show a course made in the browser to learners (it needs a lesson), or hide it again.
    Raises NotPublishable."""
    check_author(user)
    if visible and not course.live_lessons:
        raise NotPublishable()
    course.retired_at = None if visible else now
    audit(user, "course.published" if visible else "course.hidden", "course", course.id, slug=course.slug)
    _commit(session, course)


def _courses(session: Session, slugs: Iterable[str]) -> list[Course]:
    slugs = list(slugs)
    if not slugs:
        return []
    found = {course.slug: course for course in session.scalars(select(Course).where(Course.slug.in_(slugs)))}
    return [found[slug] for slug in slugs]


def _commit(session: Session, course: Course) -> None:
    """Bring the course's length and its search entries up to date, then commit the operation."""
    from lms.search.index import refresh_course

    course.minutes = sum(lesson.minutes for lesson in course.live_lessons)
    refresh_course(session, course)
    session.commit()


# --- lessons ------------------------------------------------------------------------------------------

def render(course: Course, markdown_text: str) -> str:
    """Lesson Markdown as learners get it: the same renderer and media as `lms sync`."""
    from lms.media.store import render_lesson

    return str(render_lesson(course, markdown_text))


def lesson_text(title: str, minutes: int | None, body: str) -> str:
    """A lesson file as `lms sync` reads it: title on line 2, minutes on line 3, the body after."""
    meta: dict = {"title": title}
    if minutes is not None:
        meta["minutes"] = minutes
    return compose(meta, body)


def lesson_file_name(position: int, slug: str) -> str:
    return f"{position + 1:02d}-{slug}.md"


def available_media(course: Course) -> dict:
    """The course's media files by the name lessons use."""
    return {item.name: item.blob for item in course.media}


def check_lesson(course: Course, slug: str, title: str, minutes: int | None, body: str,
                 position: int = 0) -> LessonSpec:
    """Parse the lesson as `lms sync` would and check its media references against the course's files.
    Raises AuthoringInvalid: a problem of the text names the editor's line (1 = the body's first line)."""
    from lms.content.media import check_references

    body = body.replace("\r\n", "\n")
    path = lesson_file_name(position, slug)
    text = lesson_text(title, minutes, body)
    spec, errors = parse_lesson(text, path, position, slug)
    body_start = text.count("\n", 0, text.index("\n---\n", 3) + 1) + 2  # the file's line of the body's line 1
    problems = []
    for error in errors:
        if error.line >= body_start:
            problems.append(Problem("body", error.line - body_start + 1, error.message))
        elif error.line == LESSON_TITLE_LINE or (error.line < LESSON_TITLE_LINE and minutes is not None):
            problems.append(Problem("title", None, error.message))
        else:
            problems.append(Problem("minutes", None, error.message))
    if body.strip():
        problems.extend(Problem("body", error.line, error.message)
                        for error in check_references(body, path, 1, available_media(course)))
    if problems:
        raise AuthoringInvalid(problems)
    return spec


def preview(course: Course, body: str) -> tuple[str, list[ContentError]]:
    """The HTML learners would see for this Markdown, and the problems saving it would report (body only)."""
    from lms.content.media import check_references

    body = body.replace("\r\n", "\n")
    problems = list(check_references(body, "", 1, available_media(course))) if body.strip() else []
    return render(course, body), sorted(problems)


def save_lesson_text(session: Session, user: User, lesson: Lesson, *, title: str, minutes: int | None,
                     body: str, now: datetime) -> bool:
    """Save the editor's text as the lesson's new version (progress stays on the lesson). Returns whether
    it changed. Raises AuthoringInvalid, nothing saved."""
    check_author(user)
    course = lesson.course
    spec = check_lesson(course, lesson.slug, title, minutes, body, lesson.position)
    changed = save_lesson(lesson, title=spec.title, minutes=spec.minutes, body_md=spec.body,
                          body_html=render(course, spec.body), origin="browser", now=now, author_id=user.id)
    if changed:
        course.edited_at = now
        audit(user, "lesson.saved", "lesson", lesson.id, course=course.slug, lesson=lesson.slug,
              version=lesson.version)
    _commit(session, course)
    return changed


LESSON_SLUG_HINT = _l("the lesson's id may hold only lowercase letters, digits and single hyphens, like "
                      "first-call")


def slug_from(text: str) -> str:
    """A lesson id from a title: ASCII letters and digits joined by hyphens ('' when none, as for Chinese)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text))[:60].strip("-")


def add_lesson(session: Session, user: User, course: Course, *, slug: str, title: str, minutes: int | None,
               body: str, now: datetime) -> Lesson:
    """A new lesson at the end of the course (no file: source_hash ""). `slug` may be empty: then it comes
    from the title, or is lesson-N. Raises AuthoringInvalid (bad or taken id, or the parser's problems)."""
    check_author(user)
    slug = (slug or "").strip() or slug_from(title) or _free_slug(course, "lesson")
    if len(slug) > 80 or not SLUG.match(slug):
        raise AuthoringInvalid([Problem("slug", None, LESSON_SLUG_HINT)])
    if any(lesson.slug == slug for lesson in course.lessons):
        raise AuthoringInvalid([Problem("slug", None, _l("another lesson of this course already uses the id "
                                                         "%(slug)r", slug=slug))])
    live = course.live_lessons
    position = len(live)
    spec = check_lesson(course, slug, title, minutes, body, position)
    lesson = Lesson(slug=slug, position=position, title=spec.title, minutes=spec.minutes, source_hash="")
    course.lessons.append(lesson)
    _renumber(course)
    save_lesson(lesson, title=spec.title, minutes=spec.minutes, body_md=spec.body,
                body_html=render(course, spec.body), origin="browser", now=now, author_id=user.id)
    course.edited_at = now
    session.flush()
    audit(user, "lesson.created", "lesson", lesson.id, course=course.slug, lesson=slug)
    _commit(session, course)
    return lesson


def _free_slug(course: Course, stem: str) -> str:
    taken = {lesson.slug for lesson in course.lessons}
    number = len(course.lessons) + 1
    while f"{stem}-{number}" in taken:
        number += 1
    return f"{stem}-{number}"


def _renumber(course: Course, live: list[Lesson] | None = None) -> None:
    """Positions 0..n-1 for the live lessons in their (given) order, retired ones after them."""
    live = course.live_lessons if live is None else live
    retired = [lesson for lesson in course.lessons if lesson.retired_at is not None]
    for position, lesson in enumerate(live + retired):
        lesson.position = position


def move_lesson(session: Session, user: User, course: Course, lesson: Lesson, offset: int, now: datetime) -> bool:
    """Move a live lesson one place up (-1) or down (+1); positions are rewritten 0..n-1. Returns
    whether it moved (not past either end)."""
    check_author(user)
    live = list(course.live_lessons)
    if lesson not in live:
        return False
    index = live.index(lesson)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(live):
        return False
    live[index], live[target] = live[target], live[index]
    _renumber(course, live)
    course.edited_at = now
    audit(user, "lesson.moved", "lesson", lesson.id, course=course.slug, lesson=lesson.slug, position=lesson.position)
    _commit(session, course)
    session.refresh(course, ["lessons"])
    return True


def version_of(lesson: Lesson, number: int) -> LessonVersion:
    version = next((version for version in lesson.versions if version.number == number), None)
    if version is None:
        raise CourseNotFound(number)
    return version


def restore_version(session: Session, user: User, lesson: Lesson, number: int, now: datetime) -> bool:
    """Make an old version the lesson's text again, as a new version (history is never rewritten).
    Raises CourseNotFound, AuthoringInvalid (e.g. a picture it shows is no longer in the course)."""
    version = version_of(lesson, number)
    changed = save_lesson_text(session, user, lesson, title=version.title, minutes=version.minutes,
                               body=version.body_md, now=now)
    if changed:
        audit(user, "lesson.restored", "lesson", lesson.id, course=lesson.course.slug, lesson=lesson.slug,
              restored=number, version=lesson.version)
        session.commit()
    return changed


def author_names(session: Session, lesson: Lesson) -> dict[int, str]:
    """The names of the people who saved the lesson's versions, in one query."""
    ids = {version.author_id for version in lesson.versions if version.author_id}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


# --- media --------------------------------------------------------------------------------------------

def upload_media(session: Session, user: User, course: Course, data: bytes, filename: str, now: datetime) -> str:
    """Store an uploaded file in the course under `media/<safe-name>` (lms.media.store.media_name) and
    return that name. The same bytes
    already in the course give its existing name; another file under a taken name gets -2, -3...
    Raises MediaRefused (wrong type, too big, not what its extension says), nothing stored."""
    from lms.media.store import MediaInvalid, attach, media_name, store_media

    check_author(user)
    name = media_name(filename)
    try:
        blob = store_media(session, data, filename, now)
    except MediaInvalid as problem:
        session.rollback()
        raise MediaRefused(problem.message) from None
    existing = {item.name: item for item in course.media}
    same = next((item.name for item in course.media if item.blob_id == blob.id), None)
    if same is not None:
        session.commit()
        return same
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    number = 2
    while name in existing:
        name = f"{stem}-{number}.{extension}" if extension else f"{stem}-{number}"
        number += 1
    attach(session, course, name, blob)
    course.edited_at = now
    session.flush()
    audit(user, "media.uploaded", "course", course.id, course=course.slug, name=name, sha256=blob.sha256)
    _commit(session, course)
    return name


def level_number(session: Session, course: Course) -> int:
    """The course's place among the courses of its star level (1 = first), for its exported folder's name."""
    return (session.scalar(select(func.count()).select_from(Course).where(
        Course.star_level == course.star_level, Course.position < course.position)) or 0) + 1
