"""Question banks in the database: files and uploads applied, questions authored, banks exported
(an upload waiting for confirmation: lms/banks/staging.py).

A question's content lives in versions. Whatever writes a question (a bank file through `lms sync`,
an upload, the browser's form) goes through `_write_question`: changed content makes version n+1
and moves `question.version`; unchanged content (same content hash) writes nothing; tags and
difficulty live on the question and make no version. Questions are retired, never deleted, so an
exam attempt can always show and grade the version it drew.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Callable

from sqlalchemy import Text, and_, case, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.clock import utcnow
from lms.content.aiken import looks_like_aiken, parse_aiken
from lms.content.bank_sheets import parse_sheet
from lms.content.bank_writer import dump_bank
from lms.content.banks import (MAX_TITLE, RESERVED_SLUGS, SLUG, TEXT_FORMATS, BankSpec, ParsedBank, Problem, QuestionSpec,
                               Reporter, bank_spec, check_key, parse_bank, read_question, read_text, slugify)
from lms.content.errors import ContentError, ContentInvalid, _l
from lms.content.gift import dump_gift, parse_gift
from lms.content.moodle_xml import parse_moodle_xml
from lms.content.moodle_xml_writer import dump_moodle_xml
from lms.extensions import db
from lms.jobs.services import Progress
from lms.models import Question, QuestionBank, QuestionVersion, User
from lms.questions.types import QUESTION_TYPES
from lms.records.services import audit
from lms.rendering import render_text
from lms.search import index as search_index


class BankInvalid(ValueError):
    """A bank that cannot be created: the message says why, `field` which form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class QuestionInvalid(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(problem.message) for problem in problems))
        self.problems = problems


class QuestionConflict(Exception):
    """Someone else saved the question since the form was opened."""

    def __init__(self, version: int):
        super().__init__(f"the question is now at version {version}")
        self.version = version


MAX_QUESTIONS = 100_000  # per uploaded file, in any format: more is refused at once (split it)


# --- Writing questions -----------------------------------------------------------------------------

NEW, NEW_VERSION, UPDATED, RESTORED, UNCHANGED = "new", "new version", "updated", "restored", "unchanged"


@dataclass
class BankChanges:
    slug: str
    bank_created: bool = False
    questions: dict[str, list[str]] = field(default_factory=lambda: {
        NEW: [], NEW_VERSION: [], UPDATED: [], RESTORED: [], UNCHANGED: [], "retired": []})
    warnings: list[ContentError] = field(default_factory=list)  # what an import left out

    @property
    def changed(self) -> bool:
        return self.bank_created or any(keys for action, keys in self.questions.items() if action != UNCHANGED)

    def counts(self) -> dict[str, int]:
        return {action: len(keys) for action, keys in self.questions.items()}


def _version(spec: QuestionSpec, number: int, actor: User | None, now: datetime,
             rendered: dict[tuple[str, str], str] | None = None) -> QuestionVersion:
    def render(text: str) -> str:
        found = (rendered or {}).get((spec.text_format, text))
        return found if found is not None else render_text(text, spec.text_format)

    return QuestionVersion(
        number=number, stem=spec.stem, stem_html=render(spec.stem), data=spec.data, text_format=spec.text_format,
        explanation=spec.explanation,
        explanation_html=render(spec.explanation) if spec.explanation else "",
        points=spec.points, content_hash=spec.content_hash, created_at=now,
        created_by_id=actor.id if actor is not None else None)


def _write_question(session: Session, bank: QuestionBank, question: Question | None, spec: QuestionSpec,
                    actor: User | None, now: datetime, *, restore: bool,
                    rendered: dict[str, str] | None = None) -> tuple[Question, str]:
    """Create or update one question from its spec; returns it and what happened (an action)."""
    if question is None:
        question = Question(key=spec.key, title=spec.title, type=spec.type, tags=list(spec.tags),
                            difficulty=spec.difficulty, version=1, created_at=now)
        question.versions.append(_version(spec, 1, actor, now, rendered))
        question.bank = bank  # joins a loaded bank.questions; never loads an unloaded one
        session.add(question)
        return question, NEW
    action = UNCHANGED
    current = question.current
    if current is None or current.content_hash != spec.content_hash:
        version = _version(spec, question.version + 1, actor, now, rendered)
        version.question_id = question.id
        session.add(version)
        question.version = version.number
        action = NEW_VERSION
    if _details_differ(question, spec):
        question.tags = list(spec.tags)
        question.difficulty = spec.difficulty
        question.title = spec.title
        action = UPDATED if action == UNCHANGED else action
    if restore and question.retired_at is not None:
        question.retired_at = None
        action = RESTORED
    return question, action


def _details_differ(question: Question, spec: QuestionSpec) -> bool:
    """Whether what lives on the question itself (no version) differs: tags, difficulty, title."""
    return (list(question.tags or []) != list(spec.tags) or question.difficulty != spec.difficulty
            or (question.title or "") != spec.title)


def _bank_with_questions(session: Session, slug: str) -> QuestionBank | None:
    return session.scalar(select(QuestionBank).where(QuestionBank.slug == slug)
                          .options(selectinload(QuestionBank.questions)))


def _type_conflicts(bank: QuestionBank | None, spec: BankSpec) -> list[ContentError]:
    """A question keeps its type for life: attempts graded as one type must stay readable."""
    if bank is None:
        return []
    kinds = {question.key: question.type for question in bank.questions}
    return [ContentError(spec.path, question.line, _l(
        "the question %(id)r is of the type %(old)s and cannot become %(new)s; give the new question another id",
        id=question.key, old=_type_label(kinds[question.key]), new=_type_label(question.type)))
        for question in spec.questions if question.key in kinds and kinds[question.key] != question.type]


def _type_label(kind: str):
    return QUESTION_TYPES[kind].label if kind in QUESTION_TYPES else kind


def apply_bank(session: Session, spec: BankSpec, now: datetime, *, actor: User | None = None,
               retire_missing: bool, update_details: bool = True, source_path: str | None = None,
               rendered: dict[str, str] | None = None) -> BankChanges:
    """Write one bank's questions inside the caller's transaction (no commit).

    Creates the bank if needed; with `update_details` its title and description follow the spec.
    With `retire_missing` (a bank file is the whole bank) questions absent from the spec are retired.
    Raises ContentInvalid, before writing anything, when a question would change its type.
    """
    bank = _bank_with_questions(session, spec.slug)
    conflicts = _type_conflicts(bank, spec)
    if conflicts:
        raise ContentInvalid(conflicts)
    changes = BankChanges(slug=spec.slug)
    if bank is None:
        bank = QuestionBank(slug=spec.slug, title=spec.title or spec.slug, description=spec.description,
                            created_at=now, source_path=source_path or "", source_hash=spec.source_hash)
        session.add(bank)
        changes.bank_created = True
    else:
        if update_details and (bank.title, bank.description) != (spec.title, spec.description):
            bank.title, bank.description = spec.title, spec.description
        if source_path is not None:
            bank.source_path, bank.source_hash = source_path, spec.source_hash
        elif bank.retired_at is not None:
            bank.source_path = ""  # its file is gone; an upload makes it a browser bank
        bank.retired_at = None
    by_key = {question.key: question for question in bank.questions}
    for question_spec in spec.questions:
        _question, action = _write_question(session, bank, by_key.get(question_spec.key), question_spec, actor, now,
                                            restore=True, rendered=rendered)
        changes.questions[action].append(question_spec.key)
    if retire_missing:
        wanted = {question_spec.key for question_spec in spec.questions}
        for key, question in by_key.items():
            if key not in wanted and question.retired_at is None:
                question.retired_at = now
                changes.questions["retired"].append(key)
    session.flush()
    return changes


# --- lms sync ----------------------------------------------------------------------------------------

@dataclass
class BankSyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    questions: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)

    def summary(self) -> str:
        """For `lms sync`, which speaks English."""
        from lms.formatting import counted

        counts = self.questions
        return (f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.retired)} retired (questions: {counts.get(NEW, 0)} new, "
                f"{counted(counts.get(NEW_VERSION, 0), 'new version')}, {counts.get('retired', 0)} retired)")


def apply_banks(session: Session, specs: list[BankSpec], now: datetime) -> BankSyncReport:
    """The `lms sync` importer's apply: every bank file, without committing.

    A bank whose file is unchanged (same hash) is not touched at all, so edits made in the browser
    stay until the file itself changes. A bank whose file is gone is retired with its questions kept.
    """
    report = BankSyncReport()
    existing = {bank.slug: bank for bank in session.scalars(select(QuestionBank))}
    for spec in specs:
        bank = existing.get(spec.slug)
        if bank is not None and bank.source_hash == spec.source_hash and bank.source_path == spec.path \
                and bank.retired_at is None:
            report.unchanged.append(spec.slug)
            continue
        changes = apply_bank(session, spec, now, retire_missing=True, source_path=spec.path)
        if changes.bank_created:
            report.created.append(spec.slug)
        elif changes.changed:
            report.updated.append(spec.slug)
        else:
            report.unchanged.append(spec.slug)
        for action, count in changes.counts().items():
            report.questions[action] = report.questions.get(action, 0) + count
    wanted = {spec.slug for spec in specs}
    for slug, bank in existing.items():
        if slug not in wanted and bank.source_path and bank.retired_at is None:
            bank.retired_at = now
            report.retired.append(slug)
    session.flush()
    return report


# --- Files in and out ---------------------------------------------------------------------------------

def _text_parser(parser: Callable[[str, str], ParsedBank]) -> Callable[[bytes, str], ParsedBank]:
    def parse(data: bytes, path: str) -> ParsedBank:
        errors: list[ContentError] = []
        text = read_text(data, path, errors)
        return ParsedBank(path=path, errors=errors) if errors else parser(text, path)

    return parse


IMPORT_FORMATS: dict[str, Callable[[bytes, str], ParsedBank]] = {
    "native": _text_parser(parse_bank),
    "gift": _text_parser(parse_gift),
    "aiken": _text_parser(parse_aiken),
    "moodlexml": parse_moodle_xml,  # bytes: the XML declaration names the encoding
    "xlsx": lambda data, path: parse_sheet("upload.xlsx", data, path),
    "csv": lambda data, path: parse_sheet("upload.csv", data, path),
}
EXTENSIONS = {".yaml": "native", ".yml": "native", ".gift": "gift", ".aiken": "aiken", ".xml": "moodlexml",
              ".xlsx": "xlsx", ".csv": "csv"}


def detect_format(filename: str, data: bytes) -> str | None:
    """The format a file's extension names; a .txt file is Aiken when it looks like it, else GIFT."""
    extension = PurePath(filename or "").suffix.lower()
    if extension == ".txt":
        errors: list[ContentError] = []
        return "aiken" if looks_like_aiken(read_text(data, filename, errors)) else "gift"
    return EXTENSIONS.get(extension)


@dataclass
class Upload:
    """A parsed file and the bank it goes into; `spec` is None while there are errors."""
    filename: str
    format: str | None
    bank_slug: str
    errors: list[ContentError]
    warnings: list[ContentError]
    spec: BankSpec | None
    update_details: bool  # a native file also sets the bank's title and description


def parse_upload(data: bytes, filename: str, fmt: str | None = None, bank_slug: str | None = None) -> Upload:
    """Parse a file in any bank format. The bank is `bank_slug`, else the one a native file names,
    else the file's name (`complaints.gift` goes into bank `complaints`)."""
    name = PurePath(filename or "upload").name
    fmt = fmt or detect_format(name, data)
    slug = (bank_slug or "").strip()
    if fmt not in IMPORT_FORMATS:
        error = ContentError(name, 1, _l("unknown file type: use .gift, .txt (GIFT or Aiken), .aiken, .xml (Moodle "
                                         "XML), .yaml, .xlsx or .csv, or name the format"))
        return Upload(name, None, slug, [error], [], None, False)
    parsed = IMPORT_FORMATS[fmt](data, name)
    errors, warnings = list(parsed.errors), list(parsed.warnings)
    slug = slug or parsed.slug or slugify(PurePath(name).stem)
    if not slug:
        errors.append(ContentError(name, 1, _l("the file's name does not make a bank id: choose the bank to import "
                                               "into")))
    elif not SLUG.match(slug) or len(slug) > 80:
        errors.append(ContentError(name, 1, _l("bank id %(slug)r may hold only lowercase letters, digits and single "
                                               "hyphens", slug=slug)))
    elif slug in RESERVED_SLUGS:
        errors.append(ContentError(name, 1, _l("bank id %(slug)r is reserved; choose another", slug=slug)))
    if not parsed.questions and not errors:
        errors.append(ContentError(name, 1, _l("the file holds no questions")))
    if len(parsed.questions) > MAX_QUESTIONS:
        errors = [ContentError(name, 1, _l("the file holds more than %(n)s questions; split it into smaller files",
                                           n=MAX_QUESTIONS))]
    spec = None
    if not errors:
        title = parsed.title or PurePath(name).stem[:MAX_TITLE] or slug
        spec = bank_spec(ParsedBank(path=name, questions=parsed.questions, slug=slug, title=title,
                                    description=parsed.description or "", source_hash=parsed.source_hash))
    return Upload(name, fmt, slug, sorted(errors), warnings, spec, update_details=fmt == "native")


@dataclass
class PlannedQuestion:
    spec: QuestionSpec
    action: str


@dataclass
class ImportPlan:
    """What an upload would do, for the preview page."""
    upload: Upload
    bank_exists: bool = False
    bank_title: str = ""
    rows: list[PlannedQuestion] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    token: str | None = None

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


def plan_import(upload: Upload) -> ImportPlan:
    """Compare an upload with the database, writing nothing."""
    plan = ImportPlan(upload=upload, errors=list(upload.errors))
    if upload.spec is None:
        return plan
    bank = _bank_with_questions(db.session, upload.spec.slug)
    plan.errors += _type_conflicts(bank, upload.spec)
    plan.bank_exists = bank is not None
    plan.bank_title = bank.title if bank is not None else upload.spec.title
    by_key = {question.key: question for question in bank.questions} if bank is not None else {}
    for spec in upload.spec.questions:
        question = by_key.get(spec.key)
        if question is None:
            action = NEW
        elif question.retired_at is not None:
            action = RESTORED
        elif question.current is None or question.current.content_hash != spec.content_hash:
            action = NEW_VERSION
        elif _details_differ(question, spec):
            action = UPDATED
        else:
            action = UNCHANGED
        plan.rows.append(PlannedQuestion(spec, action))
    return plan


def prerender(specs: list[QuestionSpec], progress: Progress | None = None) -> dict[tuple[str, str], str]:
    """Each stem and explanation rendered in its format and sanitized, before the import's transaction:
    rendering is most of an import's time, and SQLite has one writer, so it is done outside it."""
    rendered: dict[tuple[str, str], str] = {}
    for count, spec in enumerate(specs, start=1):
        for text in (spec.stem, spec.explanation):
            if text and (spec.text_format, text) not in rendered:
                rendered[(spec.text_format, text)] = render_text(text, spec.text_format)
        if progress is not None and count % 200 == 0:
            progress(count, len(specs))
    return rendered


def import_file(data: bytes, filename: str, fmt: str | None = None, bank_slug: str | None = None, *,
                actor: User | None = None, now: datetime | None = None, progress: Progress | None = None,
                before_commit: Callable[[BankChanges], None] | None = None) -> BankChanges:
    """Import a bank file of any format, all or nothing, in one commit.

    New questions are created and changed ones get a new version; questions the file does not hold
    are left as they are (an import adds and updates, it never retires). Raises ContentInvalid with
    every problem, `file:line` (row for spreadsheets); nothing is written then.
    """
    return import_files([(data, filename)], fmt, bank_slug, actor=actor, now=now, progress=progress,
                        before_commit=None if before_commit is None else
                        lambda all_changes: before_commit(all_changes[0]))[0]


def import_files(uploads: list[tuple[bytes, str]], fmt: str | None = None, bank_slug: str | None = None, *,
                 actor: User | None = None, now: datetime | None = None, progress: Progress | None = None,
                 before_commit: Callable[[list[BankChanges]], None] | None = None) -> list[BankChanges]:
    """Import several files (data, file name) as import_file does one, all or nothing across them.

    Every file is parsed and checked before anything is written; then all are written in one
    transaction and one commit, each into its own bank (as import_file) unless `bank_slug` names one
    for all. Returns each file's changes, in order. Raises ContentInvalid with every problem of every
    file, nothing written; its `files` holds each file's own problems, in the order of `uploads` (so a
    caller can name the files its own way, as `lms banks import` does with the paths it was given).
    """
    def invalid(per_file: list[list[ContentError]]) -> ContentInvalid:
        exc = ContentInvalid([error for errors in per_file for error in errors])
        exc.files = [sorted(errors) for errors in per_file]
        return exc

    parsed = [parse_upload(data, filename, fmt, bank_slug) for data, filename in uploads]
    if any(upload.errors for upload in parsed):
        raise invalid([list(upload.errors) for upload in parsed])
    specs = [question for upload in parsed for question in upload.spec.questions]
    rendered = prerender(specs, progress)
    if progress is not None:
        progress.writing(len(specs))
    now = now or utcnow()
    all_changes: list[BankChanges] = []
    written: set[str] = set()
    current: int | None = None  # the file being written, when a problem shows up on the way
    try:
        for current, upload in enumerate(parsed):
            if upload.spec.slug in written:  # an earlier file wrote this bank: read its questions afresh
                db.session.expire_all()
            changes = apply_bank(db.session, upload.spec, now, actor=actor, retire_missing=False,
                                 update_details=upload.update_details, rendered=rendered)
            changes.warnings = upload.warnings
            written.add(upload.spec.slug)
            bank_id = db.session.scalar(select(QuestionBank.id).where(QuestionBank.slug == upload.spec.slug))
            audit(actor, "bank.imported", "question_bank", bank_id, file=upload.filename, format=upload.format,
                  **{action: len(keys) for action, keys in changes.questions.items()})
            all_changes.append(changes)
        current = None
        for slug in written:  # the search index changes with the questions, in the same commit
            search_index.refresh_bank(db.session, db.session.scalar(
                select(QuestionBank).where(QuestionBank.slug == slug)))
        if before_commit is not None:
            before_commit(all_changes)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        blamed = range(len(parsed)) if current is None else [current]
        raise invalid([[ContentError(upload.filename, 1, _l(
            "another change to this bank was saved at the same moment; nothing was imported, try again"))]
            if index in blamed else [] for index, upload in enumerate(parsed)]) from None
    except ContentInvalid as exc:  # a question would change its type (apply_bank)
        db.session.rollback()
        if current is None:
            raise
        raise invalid([list(exc.errors) if index == current else [] for index in range(len(parsed))]) from None
    except Exception:
        db.session.rollback()
        raise
    return all_changes


def bank_questions(bank: QuestionBank, *, include_retired: bool = False) -> list[QuestionSpec]:
    """The bank's current questions as specs, in the order they were created."""
    query = (select(Question).where(Question.bank_id == bank.id).order_by(Question.id))
    if not include_retired:
        query = query.where(Question.retired_at.is_(None))
    return [question_spec(question) for question in db.session.scalars(query)]


def question_spec(question: Question) -> QuestionSpec:
    current = question.current
    return QuestionSpec(key=question.key, type=question.type, stem=current.stem, data=current.data,
                        tags=tuple(question.tags or ()), difficulty=question.difficulty, points=current.points,
                        explanation=current.explanation, title=question.title or "",
                        text_format=current.text_format or "markdown")


EXPORT_FORMATS = {
    "gift": (lambda bank, specs: dump_gift(specs, title=bank.title), "gift", "text/plain; charset=utf-8"),
    "native": (lambda bank, specs: dump_bank(bank.slug, bank.title, bank.description, specs), "yaml",
               "application/yaml; charset=utf-8"),
    "moodlexml": (lambda bank, specs: dump_moodle_xml(specs), "xml",  # Moodle asks where to put them
                  "application/xml; charset=utf-8"),
}


def export_bank(bank: QuestionBank, fmt: str) -> tuple[str, str, str]:
    """(text, file name, MIME type) of the bank's live questions in `fmt` (gift, moodlexml or native)."""
    dump, extension, mimetype = EXPORT_FORMATS[fmt]
    return dump(bank, bank_questions(bank)), f"{bank.slug}.{extension}", mimetype


# --- Authoring in the browser ------------------------------------------------------------------------

def load_bank(slug: str) -> QuestionBank | None:
    return db.session.scalar(select(QuestionBank).where(QuestionBank.slug == slug))


def load_question(bank: QuestionBank, key: str) -> Question | None:
    return db.session.scalar(select(Question).where(Question.bank_id == bank.id, Question.key == key))


def list_banks() -> list[tuple[QuestionBank, int, int]]:
    """Every bank with its live and retired question counts, in one query."""
    live = func.coalesce(func.sum(case((and_(Question.id.is_not(None), Question.retired_at.is_(None)), 1),
                                       else_=0)), 0)
    retired = func.coalesce(func.sum(case((Question.retired_at.is_not(None), 1), else_=0)), 0)
    rows = db.session.execute(
        select(QuestionBank, live, retired).outerjoin(Question, Question.bank_id == QuestionBank.id)
        .group_by(QuestionBank.id).order_by(QuestionBank.retired_at.is_not(None), QuestionBank.title))
    return [(bank, int(live_count), int(retired_count)) for bank, live_count, retired_count in rows]


def create_bank(slug: str, title: str, description: str, now: datetime) -> QuestionBank:
    """A new, empty bank made in the browser. Raises BankInvalid (with the field) when the slug is
    malformed, reserved or taken."""
    slug, title = slug.strip(), title.strip()
    if not SLUG.match(slug):
        raise BankInvalid(_l("Use lowercase letters, digits and single hyphens, like complaint-handling."), "slug")
    if slug in RESERVED_SLUGS:
        raise BankInvalid(_l("%(slug)s is reserved; choose another id.", slug=slug), "slug")
    if load_bank(slug) is not None:
        raise BankInvalid(_l("A bank with the id %(slug)s already exists.", slug=slug), "slug")
    bank = QuestionBank(slug=slug, title=title, description=description.strip(), created_at=now)
    db.session.add(bank)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise BankInvalid(_l("A bank with the id %(slug)s already exists.", slug=slug), "slug")
    return bank


def _escape_like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def search_questions(bank: QuestionBank, *, text: str = "", tag: str = "", kind: str = "", status: str = "live",
                     page: int = 1, per_page: int = 25):
    """A page of the bank's questions (their current versions loaded) matching the text (in the id,
    the title or the stem), the tag and the type; `status` is live, retired or all."""
    query = (select(Question)
             .join(QuestionVersion, and_(QuestionVersion.question_id == Question.id,
                                         QuestionVersion.number == Question.version))
             .where(Question.bank_id == bank.id).order_by(Question.key))
    if text:
        pattern = f"%{_escape_like(text)}%"
        query = query.where(or_(QuestionVersion.stem.ilike(pattern, escape="!"),
                                Question.key.ilike(pattern, escape="!"),
                                Question.title.ilike(pattern, escape="!")))
    if tag:
        # Tags are a JSON list; its text holds the tag quoted, \\u-escaped or not depending on the driver.
        tags_text = cast(Question.tags, Text)
        query = query.where(or_(*(tags_text.like(f"%{_escape_like(form)}%", escape="!") for form in
                                  {json.dumps(tag), json.dumps(tag, ensure_ascii=False)})))
    if kind:
        query = query.where(Question.type == kind)
    if status == "live":
        query = query.where(Question.retired_at.is_(None))
    elif status == "retired":
        query = query.where(Question.retired_at.is_not(None))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def bank_tags(bank: QuestionBank) -> list[str]:
    """Every tag used in the bank, for the search form's suggestions (one query)."""
    tags: set[str] = set()
    for row in db.session.scalars(select(Question.tags).where(Question.bank_id == bank.id)):
        tags.update(row or [])
    return sorted(tags)


def next_key(bank: QuestionBank) -> str:
    """The next free id in the bank's own style: its slug's initials and a number, like ch-016."""
    prefix = "".join(part[0] for part in bank.slug.split("-") if part)[:6] or "q"
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
    numbers = [int(match.group(1)) for key in db.session.scalars(select(Question.key).where(
        Question.bank_id == bank.id)) if (match := pattern.match(key))]
    return f"{prefix}-{max(numbers, default=0) + 1:03d}"


def check_question(mapping: dict, kind: str, key: str) -> QuestionSpec:
    """A question from the browser's form, checked as a file's would be. Raises QuestionInvalid."""
    report = Reporter(form=True)
    spec = read_question(mapping, report, kind=kind, key=key)
    if spec is None:
        raise QuestionInvalid(report.problems)
    return spec


def save_question(bank: QuestionBank, question: Question | None, *, kind: str, mapping: dict, key: str = "",
                  actor: User, now: datetime, base_version: int | None = None) -> tuple[Question, str]:
    """Create a question (`question` None) or save an edit as a new version, in one commit.

    A blank `key` takes `next_key`. Raises QuestionInvalid (problems with the field each is about),
    or QuestionConflict when someone saved a newer version since `base_version`.
    """
    if question is None:
        key = key.strip() or next_key(bank)
        problem = check_key(key, form=True)
        if problem is None and load_question(bank, key) is not None:
            problem = _l("the id %(id)s is already used in this bank", id=key)
        if problem:
            raise QuestionInvalid([Problem(0, problem, "key")])
    else:
        kind, key = question.type, question.key
        if base_version is not None and question.version != base_version:
            raise QuestionConflict(question.version)
    spec = check_question(mapping, kind, key)
    question, action = _write_question(db.session, bank, question, spec, actor, now, restore=False)
    try:
        search_index.refresh_questions(db.session, [question])
        db.session.commit()
    except IntegrityError:  # two saves of the same question, or two new questions with one id
        db.session.rollback()
        current = load_question(bank, key)
        raise QuestionConflict(current.version if current is not None else 0)
    return question, action


def set_retired(question: Question, retired: bool, now: datetime) -> None:
    """Retire a question (exams stop drawing it; attempts keep it) or bring it back."""
    question.retired_at = now if retired else None
    search_index.refresh_questions(db.session, [question])
    db.session.commit()


@dataclass
class QuestionPreview:
    """The form's question as agents will read it, and what is wrong with it (nothing saved)."""
    stem_html: str
    explanation_html: str
    spec: QuestionSpec | None
    problems: list[Problem]


def preview_question(mapping: dict, kind: str) -> QuestionPreview:
    report = Reporter(form=True)
    spec = read_question(mapping, report, kind=kind, key="preview")
    stem = str(mapping.get("stem") or "")
    explanation = str(mapping.get("explanation") or "")
    text_format = spec.text_format if spec is not None else str(mapping.get("format") or "markdown")
    if text_format not in TEXT_FORMATS:
        text_format = "plain"
    return QuestionPreview(stem_html=render_text(stem, text_format) if stem.strip() else "",
                           explanation_html=render_text(explanation, text_format) if explanation.strip() else "",
                           spec=spec, problems=report.problems)
