"""Keeping the search index (lms.models.search.SearchDocument) in step with the content.

One row per live course, lesson, scenario and question, holding its title and its plain text (tags of
the stored, sanitized HTML stripped; whitespace folded). The functions here write through the session
they are given and never commit: call them before your own commit (as `sync_content` does), so the
index changes with the content in one transaction.

- `refresh_all(session)`: the whole index, after `lms sync` and by `lms search reindex`;
- `refresh_course(session, course)`: a course and its lessons, after a browser edit of either;
- `refresh_scenario(session, scenario)`: a scenario, after it is saved in the browser;
- `refresh_questions(session, questions)`: some questions (a bank's, after a save, a retirement, an import).

A question is indexed by its title and its stem only: never its options, answers or feedback, so no
answer key can reach a search result. Retired things are removed from the index.
"""
from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from lms.clock import utcnow
from lms.models import Course, Lesson, Question, QuestionBank, Scenario
from lms.models.search import SearchDocument

MAX_BODY = 200_000  # characters of plain text kept per document (a lesson is a few thousand)
_SPACES = re.compile(r"\s+")


# --- plain text -------------------------------------------------------------------------------------

class _TextOf(HTMLParser):
    """The text of sanitized HTML, a space where a block or a line break separated words; an image's
    alt text counts, what a script or style element holds does not."""

    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table",
              "blockquote", "pre", "section", "figure", "figcaption", "hr", "dt", "dd"}
    SKIPPED = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f" {alt} ")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


@functools.lru_cache(maxsize=2048)
def plain_text(markup: str | None) -> str:
    """The words of an HTML fragment (or of plain text), entities decoded, whitespace folded to one space.
    Pure, and asked again for every unchanged lesson at each sync's rebuild: kept per process."""
    if not markup:
        return ""
    if "<" in markup:
        parser = _TextOf()
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    else:
        text = html.unescape(markup)
    return fold(text)


def fold(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _join(*parts: str) -> str:
    return fold(" ".join(part for part in parts if part))[:MAX_BODY]


# --- documents --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Doc:
    kind: str
    ref_id: int
    course_id: int | None
    bank_id: int | None
    star_level: int | None
    title: str
    body: str

    @property
    def key(self) -> tuple[str, int]:
        return self.kind, self.ref_id


def course_doc(course: Course) -> Doc:
    return Doc("course", course.id, course.id, None, course.star_level, fold(course.title),
               _join(course.summary, plain_text(course.intro_html) or fold(course.intro_md or "")))


def lesson_doc(lesson: Lesson, course: Course) -> Doc:
    return Doc("lesson", lesson.id, course.id, None, course.star_level, fold(lesson.title),
               _join(plain_text(lesson.body_html) or fold(lesson.body_md or "")))


def scenario_doc(scenario: Scenario) -> Doc:
    script = scenario.script
    parts: list[str] = []
    if script is not None:
        parts += [script.summary, plain_text(script.persona_html), plain_text(script.situation_html)]
        for step in script.steps or []:
            parts.append(fold(str(step.get("title") or "")))
            parts += [plain_text(line) for line in (step.get("lines") or {}).values()]
            parts.append(plain_text(step.get("good") or ""))
            parts += [plain_text(text) for text in step.get("phrasings") or []]
            parts += [plain_text(text) for text in step.get("mistakes") or []]
    return Doc("scenario", scenario.id, scenario.course_id, None, scenario.star_level, fold(scenario.title),
               _join(*parts))


def question_doc(question: Question) -> Doc:
    """Title and stem only: options, accepted answers and feedback live in `data` and `explanation`."""
    version = question.current
    stem = (plain_text(version.stem_html) or plain_text(version.stem)) if version is not None else ""
    return Doc("question", question.id, None, question.bank_id, None, fold(question.title or "") or question.key,
               _join(stem))


def _course_docs(course: Course) -> list[Doc]:
    if course.retired_at is not None:
        return []
    return [course_doc(course)] + [lesson_doc(lesson, course) for lesson in course.live_lessons]


def _scenario_docs(scenario: Scenario) -> list[Doc]:
    return [] if scenario.retired_at is not None else [scenario_doc(scenario)]


def _question_docs(question: Question) -> list[Doc]:
    if question.retired_at is not None or (question.bank is not None and question.bank.retired_at is not None):
        return []
    return [question_doc(question)]


# --- writing ----------------------------------------------------------------------------------------

def _write(session: Session, wanted: Iterable[Doc], existing: Iterable[SearchDocument]) -> int:
    """Make the `existing` rows (those in scope) equal `wanted`: update what changed, add what is new,
    delete what is gone. Returns how many rows changed."""
    now = utcnow()
    rows = {(row.kind, row.ref_id): row for row in existing}
    changed = 0
    for doc in wanted:
        row = rows.pop(doc.key, None)
        values = {"course_id": doc.course_id, "bank_id": doc.bank_id, "star_level": doc.star_level,
                  "title": doc.title[:300], "body": doc.body}
        if row is None:
            session.add(SearchDocument(kind=doc.kind, ref_id=doc.ref_id, updated_at=now, **values))
            changed += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            changed += 1
    for row in rows.values():
        session.delete(row)
        changed += 1
    session.flush()
    return changed


def refresh_course(session: Session, course: Course) -> int:
    """Index `course` and its live lessons afresh (a retired course leaves the index). No commit."""
    session.flush()
    wanted = _course_docs(course)
    lesson_ids = [lesson.id for lesson in course.lessons]
    existing = session.scalars(select(SearchDocument).where(or_(
        and_(SearchDocument.kind == "course", SearchDocument.ref_id == course.id),
        and_(SearchDocument.kind == "lesson",
             or_(SearchDocument.course_id == course.id, SearchDocument.ref_id.in_(lesson_ids))))))
    return _write(session, wanted, existing)


def refresh_scenario(session: Session, scenario: Scenario) -> int:
    """Index `scenario` afresh (a retired one leaves the index). No commit."""
    session.flush()
    existing = session.scalars(select(SearchDocument).where(SearchDocument.kind == "scenario",
                                                            SearchDocument.ref_id == scenario.id))
    return _write(session, _scenario_docs(scenario), existing)


def refresh_questions(session: Session, questions: Iterable[Question]) -> int:
    """Index these questions afresh (retired ones, or those of a retired bank, leave the index). No commit."""
    session.flush()
    questions = list(questions)
    if not questions:
        return 0
    existing = session.scalars(select(SearchDocument).where(
        SearchDocument.kind == "question", SearchDocument.ref_id.in_([question.id for question in questions])))
    return _write(session, [doc for question in questions for doc in _question_docs(question)], existing)


def refresh_bank(session: Session, bank: QuestionBank) -> int:
    """Index every question of `bank` afresh. No commit."""
    session.flush()
    questions = list(session.scalars(select(Question).where(Question.bank_id == bank.id)
                                     .options(selectinload(Question.bank))))
    existing = session.scalars(select(SearchDocument).where(SearchDocument.kind == "question",
                                                            SearchDocument.bank_id == bank.id))
    return _write(session, [doc for question in questions for doc in _question_docs(question)], existing)


def refresh_all(session: Session) -> int:
    """Rebuild the whole index from the content in the database. No commit. Returns the rows changed."""
    session.flush()
    wanted: list[Doc] = []
    for course in session.scalars(select(Course).options(selectinload(Course.lessons))):
        wanted += _course_docs(course)
    for scenario in session.scalars(select(Scenario).options(selectinload(Scenario.script_versions))):
        wanted += _scenario_docs(scenario)
    for question in session.scalars(select(Question).options(selectinload(Question.bank))):
        wanted += _question_docs(question)
    return _write(session, wanted, session.scalars(select(SearchDocument)))
