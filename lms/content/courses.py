"""Course folders: `course.md` (front matter + introduction) and one Markdown file per lesson.

    courses/<folder>/course.md         slug, title, star_level, kind, track, type, summary, minutes,
                                       valid_months (refresher only), prerequisites,
                                       practicals (scenario slugs whose practical must be
                                       signed off as passed), customer_evaluation (the
                                       satisfaction % the latest evaluation must reach)
    courses/<folder>/01-<slug>.md      title, minutes; Markdown body
    courses/<folder>/media/            images, audio and video the lessons use (`![alt](media/x.png)`)

`type` is the seed regime's kind of course (lms.models.courses.COURSE_TYPES: business, norms, skills,
advancement; optional). A course's `folder_hash` covers every file above: `lms sync` leaves a course
whose folder is unchanged alone, so edits made in the browser stay until a file of the folder changes.

Every key is type-checked by lms.content.fields (text, whole numbers, choices, lists of slugs).

Folders are listed in name order within a star level; lessons in file-name order, their slug
being the file name without the leading number.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from lms.content.errors import ContentError, _l
from lms.content.fields import Fields, choice, field_name
from lms.content.frontmatter import Document, parse_document
from lms.content.media import MediaFile, body_first_line, check_references, read_media_folder
from lms.content.vocabulary import COURSE_TYPES, KINDS, TRACKS

LESSON_FILE = re.compile(r"^(?:\d+[-_])?(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
COURSE_KEYS = {"slug", "title", "star_level", "kind", "track", "type", "summary", "minutes", "valid_months", "prerequisites",
               "practicals", "customer_evaluation"}
LESSON_KEYS = {"title", "minutes"}


@dataclass(frozen=True)
class LessonSpec:
    slug: str
    position: int
    title: str
    minutes: int
    body: str
    source_hash: str


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    folder: str
    position: int
    title: str
    star_level: int
    kind: str
    track: str
    course_type: str | None
    summary: str
    minutes: int
    valid_months: int | None
    prerequisites: tuple[str, ...]
    practicals: tuple[str, ...]
    evaluation_threshold: float | None
    intro: str
    lessons: tuple[LessonSpec, ...]
    source_hash: str
    folder_hash: str = ""
    # the files of its media/ folder by the names lessons use ("media/x.png"); see lms.content.media
    media: Mapping[str, MediaFile] = field(default_factory=dict, compare=False, repr=False)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# `type` names the question type in a bank file; in course.md it is the course's type.
COURSE_TYPE_FIELD = _l("%(name)s ('%(key)s')", name=_l("the course type"), key="type")


def _course_type(value, _key) -> str:
    return choice(value, COURSE_TYPE_FIELD, COURSE_TYPES)


def parse_lesson(text: str, path: str, position: int, slug: str) -> tuple[LessonSpec | None, list[ContentError]]:
    doc = parse_document(text, path)
    if doc.errors:
        return None, doc.errors
    fields = Fields(doc.meta, doc.error)
    fields.unknown(LESSON_KEYS)
    title = fields.text("title", required=True, limit=200)
    minutes = fields.whole("minutes", 1, 60, required=True)
    if not doc.body.strip():
        doc.errors.append(ContentError(path, doc.body_line, _l("the lesson has no text after its front matter")))
    if doc.errors:
        return None, doc.errors
    return LessonSpec(slug, position, title, minutes, doc.body, digest(text)), []


def parse_course(text: str, path: str, folder: str, position: int,
                 lessons: tuple[LessonSpec, ...]) -> tuple[CourseSpec | None, list[ContentError], Document]:
    """Every key is type-checked (see lms.content.fields): `title: true` or `prerequisites: no` is
    refused at its line, not read as "True" or as no prerequisites."""
    doc = parse_document(text, path)
    if doc.errors:
        return None, doc.errors, doc
    fields = Fields(doc.meta, doc.error)
    fields.unknown(COURSE_KEYS)
    slug = fields.slug("slug", limit=80)
    title = fields.text("title", required=True, limit=200)
    star_level = fields.whole("star_level", 0, 5, required=True)
    kind = fields.choice("kind", KINDS, required=True)
    track = fields.choice("track", TRACKS, required=True)
    course_type = fields.read("type", _course_type, default=None)
    summary = fields.text("summary", limit=500)
    minutes = fields.whole("minutes", 0, 10000)
    valid_months = fields.whole("valid_months", 1, 120)
    if track == "refresher" and "valid_months" not in doc.meta:
        doc.error("track", _l("a refresher course needs %(field)s: how long its completion stays valid",
                              field=field_name("valid_months")))
    if track != "refresher" and "valid_months" in doc.meta:
        doc.error("valid_months", _l("%(field)s is for refresher courses only", field=field_name("valid_months")))
    prerequisites = fields.texts("prerequisites", limit=80, slugs=True, what="course slugs",
                                 example="[code-of-conduct]")
    if slug in prerequisites:
        doc.error("prerequisites", _l("a course cannot be its own prerequisite"))
    practicals = fields.texts("practicals", limit=80, slugs=True, what="scenario slugs", example="[bill-went-up]")
    if len(set(practicals)) != len(practicals):
        doc.error("practicals", _l("a scenario is named twice in %(field)s", field=field_name("practicals")))
    threshold = fields.number("customer_evaluation", 0, 100, above_low=True)
    if doc.errors:
        return None, doc.errors, doc
    spec = CourseSpec(
        slug=slug, folder=folder, position=position, title=title, star_level=star_level, kind=kind,
        track=track, course_type=course_type, summary=summary,
        minutes=minutes if minutes is not None else sum(lesson.minutes for lesson in lessons),
        valid_months=valid_months, prerequisites=prerequisites, practicals=practicals,
        evaluation_threshold=threshold, intro=doc.body, lessons=lessons, source_hash=digest(text),
    )
    return spec, [], doc


def load_course_tree(root: Path, *, media_limits: Mapping[str, int] | None = None
                     ) -> tuple[list[CourseSpec], list[ContentError]]:
    """Parse every course folder under `root`; errors name paths relative to root's parent.
    Media references of lessons and introductions are checked against each course's media/ folder
    (sizes against `media_limits`, bytes per kind; lms.content.media's defaults when None)."""
    base = root.parent
    specs: list[CourseSpec] = []
    documents: dict[str, Document] = {}
    errors: list[ContentError] = []
    if not root.is_dir():
        return [], [ContentError(str(root), 1, _l("the courses folder does not exist"))]
    folders = sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))
    for position, folder in enumerate(folders):
        course_file = folder / "course.md"
        shown = str(course_file.relative_to(base))
        if not course_file.is_file():
            errors.append(ContentError(shown, 1, _l("the course folder has no course.md")))
            continue
        lessons: list[LessonSpec] = []
        seen: dict[str, str] = {}
        media, media_errors = read_media_folder(folder / "media", shown=str((folder / "media").relative_to(base)),
                                                limits=media_limits)
        errors.extend(media_errors)
        lesson_files = sorted(p for p in folder.glob("*.md") if p.name != "course.md")
        for lesson_position, lesson_file in enumerate(lesson_files):
            lesson_shown = str(lesson_file.relative_to(base))
            match = LESSON_FILE.match(lesson_file.name)
            if match is None:
                errors.append(ContentError(lesson_shown, 1, _l("lesson file names look like 01-some-title.md "
                                                               "(lowercase letters, digits, hyphens)")))
                continue
            slug = match["slug"]
            if slug in seen:
                errors.append(ContentError(lesson_shown, 1, _l("the lesson id %(slug)r is also used by %(other)s",
                                                               slug=slug, other=seen[slug])))
                continue
            seen[slug] = lesson_file.name
            lesson_text = _read(lesson_file, lesson_shown, errors)
            lesson, lesson_errors = parse_lesson(lesson_text, lesson_shown, lesson_position, slug)
            errors.extend(lesson_errors)
            if lesson is not None:
                errors.extend(check_references(lesson.body, lesson_shown, body_first_line(lesson_text, lesson.body),
                                               media))
                lessons.append(lesson)
        if not lesson_files:
            errors.append(ContentError(shown, 1, _l("the course has no lesson files")))
        course_text = _read(course_file, shown, errors)
        spec, course_errors, doc = parse_course(course_text, shown, folder.name, position, tuple(lessons))
        errors.extend(course_errors)
        if spec is not None:
            errors.extend(check_references(spec.intro, shown, body_first_line(course_text, spec.intro), media))
            specs.append(replace(spec, folder_hash=folder_digest(folder), media=media))
            documents[spec.folder] = doc
    errors.extend(_check_catalog(specs, documents))
    errors.extend(_check_practicals(specs, documents, {path.stem for path in root.glob("*/scenarios/*.md")}))
    return specs, sorted(errors)


def folder_digest(folder: Path) -> str:
    """One hash of the course's own files: course.md, the lesson files and media/ (not its exam or
    scenarios, which are imported and versioned on their own)."""
    files = [path for path in folder.glob("*.md")]
    media = folder / "media"
    if media.is_dir():
        files.extend(path for path in media.rglob("*") if path.is_file())
    hasher = hashlib.sha256()
    for path in sorted(files):
        hasher.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        hasher.update(hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()


def _read(path: Path, shown: str, errors: list[ContentError]) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        errors.append(ContentError(shown, line, _l("the file is not UTF-8 text")))
        return ""


def _check_catalog(specs: list[CourseSpec], documents: dict[str, Document]) -> list[ContentError]:
    """Rules across courses: unique slugs, known and reachable prerequisites, no cycles."""
    errors: list[ContentError] = []
    by_slug: dict[str, CourseSpec] = {}
    for spec in specs:
        if spec.slug in by_slug:
            doc = documents[spec.folder]
            errors.append(ContentError(doc.path, doc.line_of("slug"),
                                       _l("the id %(slug)r is already used by %(other)s", slug=spec.slug,
                                          other=documents[by_slug[spec.slug].folder].path)))
            continue
        by_slug[spec.slug] = spec
    for spec in by_slug.values():
        doc = documents[spec.folder]
        for slug in spec.prerequisites:
            other = by_slug.get(slug)
            message = prerequisite_problem(slug, other.star_level if other else None, spec.star_level)
            if message is not None:
                errors.append(ContentError(doc.path, doc.line_of("prerequisites"), message))
    for slug in _cycle_members(by_slug):
        doc = documents[by_slug[slug].folder]
        errors.append(ContentError(doc.path, doc.line_of("prerequisites"), _l("the prerequisites form a cycle")))
    return errors


def prerequisite_problem(slug: str, level: int | None, own_level: int):
    """The catalog rule for one prerequisite a course names, whether the other courses are files
    (`lms sync`) or rows (the course editor): it must exist (`level`: its star level, None when there
    is no such course) and not sit above the course's own level. The message, else None."""
    if level is None:
        return _l("unknown prerequisite %(slug)r", slug=slug)
    if level > own_level:
        return _l("the prerequisite %(slug)r is at star level %(level)s, above this course's %(own)s: nobody "
                  "could take it in order", slug=slug, level=level, own=own_level)
    return None


def _check_practicals(specs: list[CourseSpec], documents: dict[str, Document],
                      scenarios: set[str]) -> list[ContentError]:
    """Every practical a course names is a scenario file somewhere under courses/*/scenarios/."""
    return [ContentError(documents[spec.folder].path, documents[spec.folder].line_of("practicals"),
                         _l("unknown scenario %(slug)r in %(field)s (there is no %(file)s)", slug=slug,
                            field=field_name("practicals"), file="courses/*/scenarios/%s.md" % slug))
            for spec in specs for slug in spec.practicals if slug not in scenarios]


def _cycle_members(by_slug: dict[str, CourseSpec]) -> list[str]:
    state: dict[str, int] = {}
    in_cycle: list[str] = []

    def visit(slug: str, trail: list[str]) -> None:
        state[slug] = 1
        trail.append(slug)
        for nxt in by_slug[slug].prerequisites:
            if nxt not in by_slug:
                continue
            if state.get(nxt) == 1:
                in_cycle.extend(trail[trail.index(nxt):])
            elif nxt not in state:
                visit(nxt, trail)
        trail.pop()
        state[slug] = 2

    for slug in by_slug:
        if slug not in state:
            visit(slug, [])
    return sorted(set(in_cycle))
