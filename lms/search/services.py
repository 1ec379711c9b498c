"""Search over the index (lms.search.index): what a user may find, ranked, with a highlighted snippet.

Matching: every word of the query (words are separated by spaces) must occur in the title or the text,
as a substring, case-insensitively, so Chinese needs no word breaks (`首问负责` is found inside a
sentence). A word of three or more characters is looked up in the trigram index (SQLite: the FTS5 table
with the trigram tokenizer; PostgreSQL: ILIKE served by pg_trgm GIN indexes). Trigrams cannot find a
word of one or two characters (投诉, 退费, QA): those are matched with LIKE on the index's own table,
which is small (one row per course, lesson, scenario and question). User input is never FTS syntax nor
a LIKE pattern: words are quoted for FTS5 and their wildcards escaped for LIKE.

Who finds what follows the catalog's rule (`LearnerProgress.access`, lms.catalog.services): courses
are listed as the catalog lists them (a locked one says so); lessons and scenarios only of courses open
to the user (and a scenario at most the user's star level, as for rehearsing); questions (title and
stem only) only for those who author content. Retired content is never found.
"""
from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import and_, case, column, false, or_, select, table
from sqlalchemy.orm import joinedload

from lms.catalog.services import load_progress
from lms.extensions import db
from lms.models import Course, Lesson, Question, QuestionBank, Scenario, User
from lms.models.search import SearchDocument

MAX_QUERY = 100  # characters
MAX_TERMS = 8
RESULTS = 50  # shown at most; a longer list asks for another word
TRIGRAM = 3  # the shortest word the trigram index can find
SNIPPET = 160  # characters of text around the first match
SNIPPET_BEFORE = 40

EMPTY, TOO_LONG, TOO_MANY = "empty", "too_long", "too_many"
PROBLEMS = {
    EMPTY: _l("Type a word to search for: a topic, a phrase from a lesson, a course name."),
    TOO_LONG: _l("That is too long to search for: use at most %(num)s characters.", num=MAX_QUERY),
    TOO_MANY: _l("Use at most %(num)s words.", num=MAX_TERMS),
}
KIND_LABELS = {
    "course": _l("Course"),
    "lesson": _l("Lesson"),
    "scenario": _l("Scenario"),
    "question": _l("Question"),
}
KIND_ORDER = ("course", "lesson", "scenario", "question")

_FTS = table("search_documents_fts", column("rowid"), column("search_documents_fts"))
_LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class Query:
    text: str  # as typed, trimmed (control characters dropped)
    terms: tuple[str, ...] = ()
    problem: str | None = None  # EMPTY, TOO_LONG, TOO_MANY

    @property
    def message(self):
        return PROBLEMS[self.problem] if self.problem else None


def parse_query(raw: str | None) -> Query:
    """The words to look for. Too long or too many words is a problem, not an error: the page says so."""
    text = "".join(ch for ch in (raw or "") if ch.isprintable() or ch.isspace()).strip()
    if not text:
        return Query("", problem=EMPTY)
    if len(text) > MAX_QUERY:
        return Query(text[:MAX_QUERY], problem=TOO_LONG)
    terms: list[str] = []
    for word in text.split():
        if word.casefold() not in {term.casefold() for term in terms}:
            terms.append(word)
    if len(terms) > MAX_TERMS:
        return Query(text, problem=TOO_MANY)
    return Query(text, tuple(terms))


@dataclass
class Hit:
    kind: str
    title: Markup  # highlighted
    snippet: Markup  # highlighted, around the first match
    star_level: int | None
    course: Course | None = None  # a course's own, a lesson's, a scenario's
    bank: QuestionBank | None = None  # a question's
    locked: bool = False  # a course the user may not open yet (found by its title or description)
    slug: str = ""  # a lesson's, a scenario's, a question's key

    @property
    def kind_label(self):
        return KIND_LABELS[self.kind]


@dataclass
class Results:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    more: bool = False  # more than RESULTS matched

    @property
    def counts(self) -> list[tuple[str, int]]:
        """(kind, how many) in the kinds' order, for the summary line."""
        found = Counter(hit.kind for hit in self.hits)
        return [(kind, found[kind]) for kind in KIND_ORDER if found[kind]]


# --- matching ---------------------------------------------------------------------------------------

def _fts_available() -> bool:
    """SQLite builds with the trigram tokenizer (3.34+) got the FTS5 table from migration 0018_search."""
    return sqlite3.sqlite_version_info >= (3, 34)


def _like(term: str) -> str:
    escaped = term.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", _LIKE_ESCAPE + "%").replace(
        "_", _LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def _contains(column_, term: str):
    return column_.ilike(_like(term), escape=_LIKE_ESCAPE)


def _fts_phrase(term: str) -> str:
    """A word as an FTS5 string: quoted, its quotes doubled, so no operator (NEAR, *, AND, ^) is read."""
    return '"' + term.replace('"', '""') + '"'


def _term_filters(terms: tuple[str, ...], dialect: str) -> list:
    """One condition per word, all to hold."""
    D = SearchDocument
    indexed = [term for term in terms if len(term) >= TRIGRAM]
    if dialect == "sqlite" and indexed and _fts_available():
        match = " AND ".join(_fts_phrase(term) for term in indexed)
        filters = [D.id.in_(select(_FTS.c.rowid).where(_FTS.c.search_documents_fts.op("MATCH")(match)))]
        rest = [term for term in terms if len(term) < TRIGRAM]
    else:  # PostgreSQL: ILIKE, which the pg_trgm GIN indexes serve for words of three characters or more
        filters, rest = [], list(terms)
    return filters + [or_(_contains(D.title, term), _contains(D.body, term)) for term in rest]


def _visible(user: User, now: datetime) -> tuple[list, dict[int, Course], set[int]]:
    """(conditions on the index for what `user` may find, the live courses by id, the ids of those open)."""
    progress = load_progress(user, now)
    courses = {course.id: course for course in progress.courses}
    open_ids = {course.id for course in progress.courses if progress.access(course).is_open}
    D = SearchDocument
    scenario = and_(D.kind == "scenario", or_(D.course_id.in_(open_ids), D.course_id.is_(None)))
    if not user.can_author:
        scenario = and_(scenario, D.star_level <= user.star_level)  # as for rehearsing (practicals.may_rehearse)
    conditions = [
        and_(D.kind == "course", D.course_id.in_(list(courses))),
        and_(D.kind == "lesson", D.course_id.in_(open_ids)),
        scenario,
    ]
    if user.can_author:
        conditions.append(D.kind == "question")
    return conditions, courses, open_ids


def search(user: User, raw_query: str | None, now: datetime) -> Results:
    """What `user` may find for `raw_query`: title matches first, then by kind (course, lesson, scenario,
    question), star level and position. A fixed number of queries whatever the index size."""
    query = parse_query(raw_query)
    if query.problem:
        return Results(query)
    visible, courses, open_ids = _visible(user, now)
    D = SearchDocument
    title_hit = and_(*[_contains(D.title, term) for term in query.terms])
    kind_rank = case({kind: position for position, kind in enumerate(KIND_ORDER)}, value=D.kind)
    rows = list(db.session.execute(
        select(D.id, D.kind, D.ref_id, D.course_id, D.star_level, D.title, D.body)
        .where(or_(*visible) if visible else false(), *_term_filters(query.terms, db.engine.dialect.name))
        .order_by(case((title_hit, 0), else_=1), kind_rank, D.star_level, D.id)
        .limit(RESULTS + 1)))
    more = len(rows) > RESULTS
    rows = rows[:RESULTS]
    lessons, scenarios, questions = _load_refs(rows)
    pattern = _pattern(query.terms)
    hits = []
    for row in rows:
        hit = Hit(kind=row.kind, title=highlight(row.title, pattern), snippet=snippet(row.body, pattern),
                  star_level=row.star_level)
        if row.kind == "course":
            hit.course = courses.get(row.ref_id)
            if hit.course is None:
                continue
            hit.locked = row.ref_id not in open_ids
        elif row.kind == "lesson":
            lesson = lessons.get(row.ref_id)
            if lesson is None or lesson.course_id not in open_ids:
                continue
            hit.course, hit.slug = courses[lesson.course_id], lesson.slug
        elif row.kind == "scenario":
            scenario = scenarios.get(row.ref_id)
            if scenario is None:
                continue
            hit.course, hit.slug = courses.get(scenario.course_id), scenario.slug
        else:
            question = questions.get(row.ref_id)
            if question is None or not user.can_author:
                continue
            hit.bank, hit.slug = question.bank, question.key
        hits.append(hit)
    return Results(query, hits, more)


def _load_refs(rows) -> tuple[dict[int, Lesson], dict[int, Scenario], dict[int, Question]]:
    """The live lessons, scenarios and questions the rows point at: one query per kind present, so a
    stale row (its content retired since) is dropped and each link has its slugs."""
    wanted: dict[str, list[int]] = {"lesson": [], "scenario": [], "question": []}
    for row in rows:
        if row.kind in wanted:
            wanted[row.kind].append(row.ref_id)
    lessons = scenarios = questions = {}
    if wanted["lesson"]:
        lessons = {lesson.id: lesson for lesson in db.session.scalars(
            select(Lesson).where(Lesson.id.in_(wanted["lesson"]), Lesson.retired_at.is_(None)))}
    if wanted["scenario"]:
        scenarios = {scenario.id: scenario for scenario in db.session.scalars(
            select(Scenario).where(Scenario.id.in_(wanted["scenario"]), Scenario.retired_at.is_(None)))}
    if wanted["question"]:
        questions = {question.id: question for question in db.session.scalars(
            select(Question).join(QuestionBank).where(Question.id.in_(wanted["question"]),
                                                      Question.retired_at.is_(None), QuestionBank.retired_at.is_(None))
            .options(joinedload(Question.bank)))}
    return lessons, scenarios, questions


# --- showing ----------------------------------------------------------------------------------------

def _pattern(terms: tuple[str, ...]) -> re.Pattern | None:
    if not terms:
        return None
    return re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE)


def highlight(text: str, pattern: re.Pattern | None) -> Markup:
    """`text` escaped, each match of `pattern` in <mark>."""
    if pattern is None:
        return escape(text)
    parts, position = [], 0
    for match in pattern.finditer(text):
        parts += [escape(text[position:match.start()]), Markup("<mark>%s</mark>") % match.group()]
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def snippet(text: str, pattern: re.Pattern | None, width: int = SNIPPET) -> Markup:
    """About `width` characters of `text` around its first match (its start when only the title
    matched), with an ellipsis where it was cut, highlighted."""
    match = pattern.search(text) if pattern is not None else None
    start = 0
    if match is not None and match.start() > SNIPPET_BEFORE:
        start = match.start() - SNIPPET_BEFORE
        space = text.rfind(" ", start - 12, start)  # begin at a word where there are words
        if space != -1:
            start = space + 1
    end = min(len(text), max(start + width, match.end() if match else 0))
    piece = highlight(text[start:end], pattern)
    return Markup("{}{}{}").format("… " if start else "", piece, " …" if end < len(text) else "")
