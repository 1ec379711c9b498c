"""Course final exams as files: `courses/<course-folder>/exam.yaml`, imported by `lms sync`.

    slug: phone-etiquette-final        # unique; lowercase letters, digits, hyphens
    title: 电话礼仪结业考试
    description: |                     # optional Markdown, shown before the start button
      ...
    time_limit_minutes: 15             # 1 to 600
    opens_at: 2027-01-04 09:00         # optional; without an offset, in LMS_TIMEZONE
    closes_at: 2027-01-31 18:00        # optional
    pass_percent: 70                   # 0 to 100, of the maximum score
    attempts_allowed: 3                # 0 = unlimited
    retake_delay_minutes: 30           # before the second attempt
    later_retake_delay_minutes: 1440   # before the third and later
    shuffle_questions: true
    shuffle_options: true
    grading_method: highest            # highest | average | first | last
    review_policy: after_close         # after_close | immediately | never
    pools:                             # draw `count` questions from `bank` carrying all `tags`
      - bank: phone-etiquette
        tags: [开场白]
        count: 3

Every key is type-checked by lms.content.fields. The exam is the final exam of the course whose
folder holds the file. Parsing is pure; errors name `path:line`. Banks are checked against those
known when parsing (files and database) and again, with the questions each pool needs, when the
import is applied.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable
from zoneinfo import ZoneInfo

from lms.content.courses import digest
from lms.content.errors import ContentError, ContentInvalid, _l, listed, ngettext
from lms.content.fields import Fields, Invalid, describe, field_name
from lms.content.frontmatter import YamlFile, parse_document, parse_yaml_file
from lms.content.sync import IMPORTERS, SyncReport, parsed_in_this_run
from lms.content.vocabulary import GRADING_METHODS, REVIEW_POLICIES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lms.models import Course, Exam

# Parsing needs no database (`lms sync --check` runs without SQLAlchemy): applying imports it.

EXAM_FILE = "exam.yaml"
RESERVED_SLUGS = {"manage", "marking", "attempts", "new"}  # taken by /exams/<word> pages
REQUIRED = {"slug", "title", "time_limit_minutes", "pass_percent", "pools"}
OPTIONAL = {"description", "opens_at", "closes_at", "attempts_allowed", "retake_delay_minutes",
            "later_retake_delay_minutes", "shuffle_questions", "shuffle_options", "grading_method", "review_policy"}
POOL_KEYS = {"bank", "tags", "count"}
MAX_MINUTES = 600
MAX_DELAY = 60 * 24 * 365


@dataclass(frozen=True)
class PoolSpec:
    bank: str
    tags: tuple[str, ...]
    count: int
    line: int


@dataclass(frozen=True)
class ExamSpec:
    slug: str
    path: str  # as errors show it
    course_slug: str | None
    title: str
    description: str
    time_limit_minutes: int
    opens_at: datetime | None
    closes_at: datetime | None
    pass_percent: float
    attempts_allowed: int
    retake_delay_minutes: int
    later_retake_delay_minutes: int
    shuffle_questions: bool
    shuffle_options: bool
    grading_method: str
    review_policy: str
    pools: tuple[PoolSpec, ...]
    source_hash: str
    slug_line: int = 1


def parse_exam(text: str, path: str, *, course_slug: str | None, tz: str = "Asia/Shanghai",
               known_banks: set[str] | None = None) -> tuple[ExamSpec | None, list[ContentError]]:
    """Parse one exam file. `known_banks`, when given, are the bank slugs a pool may name."""
    doc = parse_yaml_file(text, path)
    if doc.errors:
        return None, doc.errors
    if not isinstance(doc.data, dict):
        doc.error((), _l("an exam file is a list of 'key: value' lines"))
        return None, doc.errors
    meta = doc.data
    fields = Fields(meta, doc.error)
    fields.unknown(REQUIRED | OPTIONAL)
    if "pools" not in meta:
        doc.error((), _l("%(field)s must be given", field=field_name("pools")))
    slug = fields.slug("slug", limit=80)
    if slug in RESERVED_SLUGS:
        doc.error(("slug",), _l("the id %(slug)r is reserved; choose another", slug=slug))
    title = fields.text("title", required=True, limit=200)
    description = fields.text("description", limit=5000, strip=False)
    time_limit = fields.whole("time_limit_minutes", 1, MAX_MINUTES, required=True, default=20)
    opens_at = fields.read("opens_at", _moment, tz=tz)
    closes_at = fields.read("closes_at", _moment, tz=tz)
    if opens_at and closes_at and closes_at <= opens_at:
        doc.error(("closes_at",), _l("%(closes)s must come after %(opens)s", closes=field_name("closes_at"),
                                     opens=field_name("opens_at")))
    pass_percent = fields.number("pass_percent", 0, 100, required=True, default=60)
    attempts_allowed = fields.whole("attempts_allowed", 0, 100, default=0)
    delay = fields.whole("retake_delay_minutes", 0, MAX_DELAY, default=0)
    later_delay = fields.whole("later_retake_delay_minutes", 0, MAX_DELAY, default=0)
    shuffle_questions = fields.flag("shuffle_questions", default=True)
    shuffle_options = fields.flag("shuffle_options", default=True)
    method = fields.choice("grading_method", GRADING_METHODS)
    policy = fields.choice("review_policy", REVIEW_POLICIES)
    pools = _pools(doc, meta.get("pools"), known_banks)
    if doc.errors:
        return None, sorted(doc.errors)
    return ExamSpec(
        slug=slug, path=path, course_slug=course_slug, title=title, description=description,
        time_limit_minutes=time_limit, opens_at=opens_at, closes_at=closes_at, pass_percent=pass_percent,
        attempts_allowed=attempts_allowed, retake_delay_minutes=delay, later_retake_delay_minutes=later_delay,
        shuffle_questions=shuffle_questions, shuffle_options=shuffle_options, grading_method=method,
        review_policy=policy, pools=pools, source_hash=digest(text), slug_line=doc.line_of("slug"),
    ), []


def _moment(value: Any, name: str, *, tz: str) -> datetime:
    parsed = parse_moment(value, tz)
    if parsed is None:
        raise Invalid(_l("%(field)s must be a date and time like 2027-01-31 18:00, not %(value)s",
                         field=field_name(name), value=describe(value)))
    return parsed


def parse_moment(value: Any, tz: str) -> datetime | None:
    """A YAML timestamp or text like '2027-01-31 18:00' (+08:00 optional) as aware UTC; a time
    without an offset is in `tz`. None when it is not a date and time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}", value.strip()):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(timezone.utc)


def _pools(doc: YamlFile, value: Any, known_banks: set[str] | None) -> tuple[PoolSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        doc.error(("pools",), _l("%(field)s must be a list of pools, at least one, each with %(keys)s",
                                 field=field_name("pools"), keys=listed(("bank", "tags", "count"))))
        return ()
    pools = []
    for index, item in enumerate(value):
        where = ("pools", index)
        if not isinstance(item, dict):
            doc.error(where, _l("each pool has %(bank)s, %(count)s and optional %(tags)s", bank=field_name("bank"),
                                count=field_name("count"), tags=field_name("tags")))
            continue
        fields = Fields(item, doc.error, where)
        fields.unknown(POOL_KEYS, what="pool key")
        if not isinstance(item.get("bank"), str) or not item["bank"].strip():
            doc.error(where + ("bank",), _l("each pool names its question bank by id: 'bank: phone-etiquette'"))
            continue
        bank = item["bank"].strip()
        if known_banks is not None and bank not in known_banks:
            doc.error(where + ("bank",), _l("unknown question bank %(bank)r", bank=bank))
        count = fields.whole("count", 1, 200, required=True, default=1)
        tags = fields.texts("tags", limit=50, single=True, what="tags", example="[开场白, 转接]")
        pools.append(PoolSpec(bank, tags, count, doc.line_of(*where)))
    return tuple(pools)


def load_exam_files(courses_root: Path, *, tz: str = "Asia/Shanghai",
                    known_banks: set[str] | None = None,
                    course_slugs: dict[str, str] | None = None) -> tuple[list[ExamSpec], list[ContentError]]:
    """Every `exam.yaml` in the course folders under `courses_root`; errors name paths relative to its parent.
    `course_slugs` (folder name -> slug), when the courses were just parsed, saves reading course.md again."""
    course_slugs = course_slugs or {}
    if not courses_root.is_dir():
        return [], []  # the courses importer reports a missing folder
    base = courses_root.parent
    specs: list[ExamSpec] = []
    errors: list[ContentError] = []
    for folder in sorted(p for p in courses_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        exam_file = folder / EXAM_FILE
        if not exam_file.is_file():
            continue
        shown = str(exam_file.relative_to(base))
        try:
            text = exam_file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            errors.append(ContentError(shown, exam_file.read_bytes()[: exc.start].count(b"\n") + 1,
                                       _l("the file is not UTF-8 text")))
            continue
        course_slug = course_slugs[folder.name] if folder.name in course_slugs else _course_slug(folder)
        spec, found = parse_exam(text, shown, course_slug=course_slug, tz=tz, known_banks=known_banks)
        errors.extend(found)
        if spec is not None:
            specs.append(spec)
    seen: dict[str, ExamSpec] = {}
    for spec in specs:
        if spec.slug in seen:
            errors.append(ContentError(spec.path, spec.slug_line,
                                       _l("the exam id %(slug)r is already used by %(other)s", slug=spec.slug,
                                          other=seen[spec.slug].path)))
        seen.setdefault(spec.slug, spec)
    return specs, sorted(errors)


def _course_slug(folder: Path) -> str | None:
    """The slug in the folder's course.md; None when it cannot be read (the courses importer says why)."""
    course_file = folder / "course.md"
    if not course_file.is_file():
        return None
    try:
        doc = parse_document(course_file.read_text(encoding="utf-8"), str(course_file))
    except UnicodeDecodeError:
        return None
    slug = doc.meta.get("slug")
    return slug if isinstance(slug, str) else None


def bank_slugs(specs: Iterable[Any]) -> set[str]:
    """Slugs of specs another importer produced (question banks), whatever their class."""
    return {slug for slug in (getattr(spec, "slug", None) for spec in specs) if isinstance(slug, str)}


# --- applying: exam specs into the database (inside `lms sync`'s one transaction) ----------------

def load_exams(config) -> tuple[list[ExamSpec], list[ContentError]]:
    """The `exams` importer's load: banks a pool may name are the bank files' and the database's."""
    courses = parsed_in_this_run("courses") or []
    return load_exam_files(Path(config["LMS_COURSES_DIR"]), tz=config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"),
                           known_banks=_known_banks(config), course_slugs={spec.folder: spec.slug for spec in courses})


def _known_banks(config) -> set[str]:
    from flask import has_app_context

    known: set[str] = set()
    for importer in IMPORTERS:
        if importer.name in ("question banks", "question_banks", "banks"):
            specs = parsed_in_this_run(importer.name)  # `lms sync` has just parsed them: not twice
            known |= bank_slugs(importer.load(config)[0] if specs is None else specs)
    if has_app_context():
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        from lms.extensions import db
        from lms.models import QuestionBank

        try:
            known |= set(db.session.scalars(select(QuestionBank.slug).where(QuestionBank.retired_at.is_(None))))
        except SQLAlchemyError:  # no schema yet (`sync --check` before `db upgrade`): files only
            db.session.rollback()
    return known


def apply_exams(session: Session, specs: list[ExamSpec], now: datetime) -> SyncReport:
    """Create, update, retire or delete file exams to match `specs`; never commits.

    Checked here against what the earlier importers wrote: the course exists, every pool's bank
    exists and holds enough questions with its tags. Raises ContentInvalid naming the lines.
    Exams made in the browser are left alone; a file exam gone from disk is deleted while nobody
    has an attempt at it, retired once anyone has.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from lms.models import Course, Exam, ExamAttempt, ExamPool, Question, QuestionBank

    report = SyncReport()
    courses = {course.slug: course for course in session.scalars(select(Course))}
    banks = {bank.slug: bank for bank in session.scalars(select(QuestionBank).where(QuestionBank.retired_at.is_(None)))}
    tags_by_bank: dict[int, list[set[str]]] = {}
    for bank_id, tags in session.execute(select(Question.bank_id, Question.tags).where(Question.retired_at.is_(None))):
        tags_by_bank.setdefault(bank_id, []).append(set(tags or []))
    existing = {exam.slug: exam for exam in session.scalars(select(Exam).options(selectinload(Exam.pools)))}
    by_course = {exam.course_id: exam for exam in existing.values() if exam.course_id is not None}
    used = set(session.scalars(select(ExamAttempt.exam_id).distinct()))

    errors: list[ContentError] = []
    for spec in specs:
        exam = existing.get(spec.slug)
        if exam is not None and not exam.source_path:
            errors.append(ContentError(spec.path, spec.slug_line,
                                       _l("the exam id %(slug)r is taken by an exam made in the browser",
                                          slug=spec.slug)))
        course = courses.get(spec.course_slug) if spec.course_slug else None
        if course is None:
            errors.append(ContentError(spec.path, 1, _l("the folder holds no valid course for this exam")))
        else:
            other = by_course.get(course.id)
            if other is not None and other.slug != spec.slug and not other.source_path:
                errors.append(ContentError(spec.path, 1, _l("the course %(course)r already has a final exam made in "
                                                            "the browser (%(exam)s)", course=course.slug,
                                                            exam=other.slug)))
        for pool in spec.pools:
            bank = banks.get(pool.bank)
            if bank is None:
                errors.append(ContentError(spec.path, pool.line, _l("unknown question bank %(bank)r", bank=pool.bank)))
                continue
            available = sum(1 for tags in tags_by_bank.get(bank.id, []) if set(pool.tags) <= tags)
            if pool.count > available:
                errors.append(ContentError(spec.path, pool.line, _pool_short(pool, available)))
    if errors:
        raise ContentInvalid(errors)

    wanted = {spec.slug for spec in specs}
    for spec in specs:
        course = courses[spec.course_slug]
        exam = existing.get(spec.slug)
        pools = [(banks[p.bank].id, list(p.tags), p.count) for p in spec.pools]
        if exam is None:
            exam = Exam(slug=spec.slug)
            session.add(exam)
            report.created.append(spec.slug)
        elif (exam.source_hash == spec.source_hash and exam.retired_at is None and exam.course_id == course.id
              and exam.source_path == spec.path
              and [(p.bank_id, list(p.tags), p.count) for p in exam.pools] == pools):
            report.unchanged.append(spec.slug)
            continue
        else:
            report.updated.append(spec.slug)
        previous = by_course.get(course.id)
        if previous is not None and previous is not exam:  # the course's exam moved to another file
            previous.course = None
            session.flush()
        _write_exam(exam, spec, course)
        exam.pools = [ExamPool(bank_id=bank_id, tags=tags, count=count, position=position)
                      for position, (bank_id, tags, count) in enumerate(pools)]
        by_course[course.id] = exam
    for slug, exam in existing.items():
        if slug in wanted or not exam.source_path or exam.retired_at is not None:
            continue
        if report.remove(session, slug, exam, in_use=exam.id in used, now=now):
            exam.course = None  # the course may get a new final exam; the record keeps its title
    session.flush()
    return report


def _pool_short(pool: PoolSpec, available: int):
    """The pool asks for more questions than its bank holds (with its tags)."""
    if pool.tags:
        return ngettext("the pool asks for %(num)s question but the bank %(bank)r has %(available)s with the tags "
                        "%(tags)s", "the pool asks for %(num)s questions but the bank %(bank)r has %(available)s "
                        "with the tags %(tags)s", pool.count, bank=pool.bank, available=available,
                        tags=listed(pool.tags, quote=False))
    return ngettext("the pool asks for %(num)s question but the bank %(bank)r has %(available)s",
                    "the pool asks for %(num)s questions but the bank %(bank)r has %(available)s", pool.count,
                    bank=pool.bank, available=available)


def _write_exam(exam: Exam, spec: ExamSpec, course: Course) -> None:
    from lms.rendering import render_markdown

    exam.title = spec.title
    exam.description = spec.description
    exam.description_html = render_markdown(spec.description) if spec.description.strip() else ""
    exam.course = course
    exam.time_limit_minutes = spec.time_limit_minutes
    exam.opens_at = spec.opens_at
    exam.closes_at = spec.closes_at
    exam.pass_percent = spec.pass_percent
    exam.attempts_allowed = spec.attempts_allowed
    exam.retake_delay_minutes = spec.retake_delay_minutes
    exam.later_retake_delay_minutes = spec.later_retake_delay_minutes
    exam.shuffle_questions = spec.shuffle_questions
    exam.shuffle_options = spec.shuffle_options
    exam.grading_method = spec.grading_method
    exam.review_policy = spec.review_policy
    exam.source_path = spec.path
    exam.source_hash = spec.source_hash
    exam.retired_at = None
