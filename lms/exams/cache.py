"""What the exam's hot paths (start, the answer sheet, saves) keep in memory, and why it is never stale.

Only what cannot change is kept: a question version is immutable (editing a question makes version
n+1; attempts keep pointing at the version they showed), so its content, the key-free public view
of it in a given option order, and the sheet's HTML for it are the same for every attempt on every
node, forever. Each entry is found by the version's id together with its `created_at` and
`content_hash`, which the request reads from the database anyway, so even a recreated database that
reuses an id (a test run, a restored backup) cannot meet an old entry.

Everything that does change is read from the database on every request: which questions an exam
may draw (new, retired, re-tagged questions, retired banks, a question's current version) is one
light query per start (`drawing.candidates`), never cached, so a change in the bank reaches the next
start on every node at once, and two app processes or nodes never serve each other's stale lists.

The caches live on the app (`app.extensions["exam_cache"]`): two `create_app()` share nothing.
They are bounded: when one grows past its limit it is emptied and refills from the database.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import select

from lms.extensions import db
from lms.models import QuestionVersion

MAX_VERSIONS = 20_000
MAX_FRAGMENTS = 50_000

VersionKey = tuple[int, Any, str]  # (id, created_at, content_hash)


@dataclass(frozen=True)
class VersionInfo:
    """An immutable question version as the exam pages need it."""

    id: int
    stem_html: str
    data: dict
    explanation_html: str
    points: float


def version_key(version_id: int, created_at: datetime | None, content_hash: str | None) -> VersionKey:
    return (version_id, created_at, content_hash or "")


class ExamCache:
    """The per-app store. Plain dicts: reads and writes of one key are atomic under the GIL, and a
    lost race only means the same immutable value is computed twice."""

    def __init__(self, max_versions: int = MAX_VERSIONS, max_fragments: int = MAX_FRAGMENTS):
        self.max_versions = max_versions
        self.max_fragments = max_fragments
        self.versions: dict[VersionKey, VersionInfo] = {}
        self.fragments: dict[tuple, str] = {}
        self.lock = threading.Lock()
        self.hits = self.misses = 0  # fragments, for the benchmark and tests

    def clear(self) -> None:
        with self.lock:
            self.versions.clear()
            self.fragments.clear()

    def store_version(self, key: VersionKey, info: VersionInfo) -> None:
        if len(self.versions) >= self.max_versions:
            self.versions.clear()
        self.versions[key] = info

    def fragment(self, key: tuple) -> str | None:
        found = self.fragments.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def store_fragment(self, key: tuple, html) -> None:
        if len(self.fragments) >= self.max_fragments:
            self.fragments.clear()
        self.fragments[key] = html

    def remember(self, key: tuple, make):
        """The fragment under `key`, made (and kept) by `make()` the first time."""
        found = self.fragments.get(key)
        if found is None:
            found = make()
            self.store_fragment(key, found)
        return found


def exam_cache() -> ExamCache:
    """The current app's cache, made on first use."""
    extensions = current_app.extensions
    cache = extensions.get("exam_cache")
    if cache is None:
        cache = extensions.setdefault("exam_cache", ExamCache())
    return cache


def versions(keys: list[VersionKey]) -> dict[int, VersionInfo]:
    """The versions for `keys` by id: from the cache, the missing ones in one query."""
    cache = exam_cache()
    found: dict[int, VersionInfo] = {}
    missing: dict[int, VersionKey] = {}
    for key in keys:
        info = cache.versions.get(key)
        if info is None:
            missing[key[0]] = key
        else:
            found[key[0]] = info
    if missing:
        rows = db.session.execute(
            select(QuestionVersion.id, QuestionVersion.created_at, QuestionVersion.content_hash,
                   QuestionVersion.stem_html, QuestionVersion.data, QuestionVersion.explanation_html,
                   QuestionVersion.points)
            .where(QuestionVersion.id.in_(list(missing))))
        for row in rows:
            info = VersionInfo(id=row.id, stem_html=row.stem_html or "", data=row.data or {},
                               explanation_html=row.explanation_html or "", points=row.points)
            found[row.id] = info
            key = version_key(row.id, row.created_at, row.content_hash)
            if key == missing.get(row.id):  # stored under what the caller read, else not at all
                cache.store_version(key, info)
    return found


# --- the answer sheet's HTML, one question at a time ------------------------------------------------

# Stand-ins (Unicode private-use characters) for what differs between attempts showing the same
# version in the same option order: the slot's position, its number, its seq.
POSITION, NUMBER, SEQ = "\ue000", "\ue001", "\ue002"
_STAND_INS = (POSITION, NUMBER, SEQ)


@dataclass(frozen=True)
class _Template:
    """A slot as the sheet macro reads it, with stand-ins for the per-attempt values."""

    type: str
    stem_html: str
    points: float
    public: dict
    saved: Any
    label: str
    position: str = POSITION
    number: str = NUMBER
    seq: str = SEQ
    answered: bool = False


def _macro(name: str):
    return getattr(current_app.jinja_env.get_template("exams/_question.html").module, name)


def _fill(html: str, position: int, seq: int = 0) -> str:
    return html.replace(POSITION, str(position)).replace(NUMBER, str(position + 1)).replace(SEQ, str(seq))


def slot_html(slot, locale: str | None = None, cache: ExamCache | None = None) -> Markup:
    """One slot of the sitting page (templates/exams/_question.html `sheet_slot`). An unanswered
    slot's HTML is rendered once per version, option order, points and language and reused with its
    position, number and seq filled in; an answered one is rendered as it is (its inputs are checked)."""
    if slot.answered or not slot.version_key:
        return _macro("sheet_slot")(slot)
    if locale is None:
        from flask_babel import get_locale

        locale = str(get_locale())
    cache = cache or exam_cache()
    key = ("slot", slot.version_key, slot.type, slot.points, locale)
    html = cache.fragment(key)
    if html is None:
        if _holds_stand_ins(slot):
            return _macro("sheet_slot")(slot)
        html = str(_macro("sheet_slot")(_Template(type=slot.type, stem_html=slot.stem_html, points=slot.points,
                                                  public=slot.public, saved=slot.saved, label=slot.label)))
        cache.store_fragment(key, html)
    return Markup(_fill(html, slot.position, slot.seq))


def _holds_stand_ins(slot) -> bool:
    """Content that itself contains a stand-in character is never templated (rendered each time)."""
    texts = [slot.stem_html, json.dumps(slot.public, ensure_ascii=False)]
    return any(mark in text for text in texts for mark in _STAND_INS)


@dataclass(frozen=True)
class _Chip:
    answered: bool
    position: str = POSITION
    number: str = NUMBER


NAME = "\ue003"  # the user's name in the script's messages


class Sheet(list):
    """The slots of an open attempt (a list of services.Slot) and the sitting page's repeated parts,
    each rendered from its macro once per language (questions: per version and option order) and
    reused with the per-attempt values filled in."""

    def questions(self) -> Markup:
        from flask_babel import get_locale

        locale, cache = str(get_locale()), exam_cache()
        return Markup("\n".join(slot_html(slot, locale, cache) for slot in self))

    def chips(self) -> Markup:
        from flask_babel import get_locale

        locale = str(get_locale())
        forms = {answered: self._cached(("chip", answered, locale), "sheet_chip", _Chip(answered))
                 for answered in (False, True)}
        return Markup("\n".join(_fill(forms[slot.answered], slot.position) for slot in self))

    def messages(self, name: str) -> Markup:
        from flask_babel import get_locale

        html = self._cached(("messages", str(get_locale())), "sheet_messages", NAME)
        return Markup(html.replace(NAME, str(escape(name))))

    @staticmethod
    def _cached(key: tuple, macro: str, argument) -> str:
        return exam_cache().remember(key, lambda: str(_macro(macro)(argument)))


# --- the sitting page as a whole -----------------------------------------------------------------------

@dataclass(frozen=True)
class PageValues:
    """What the sitting page (templates/exams/take.html) shows of one attempt beyond its exam, as
    text: the real values, or (in the page's template) one stand-in character each, so the page
    around them is rendered once per exam, language and question count and reused."""

    attempt_id: str
    user_id: str
    number: str
    done: str  # questions answered
    time_left: str
    ends: str  # the deadline in the viewer's zone and language
    server_now: str
    deadline: str
    max_seq: str
    csrf: str
    take_url: str
    save_url: str
    submit_url: str
    result_url: str
    finish_url: str
    login_url: str
    messages: Markup  # HTML already: the blocks below are filled in as they are
    questions: Markup
    chips: Markup


_HTML_FIELDS = ("messages", "questions", "chips")
# One private-use character per field, apart from the question stand-ins above.
_PAGE_STAND_INS = {name: chr(0xE010 + index) for index, name in enumerate(PageValues.__dataclass_fields__)}
_PAGE_MARKS = frozenset(_PAGE_STAND_INS.values())
_PAGE_MARK_PATTERN = re.compile(f"([{''.join(sorted(_PAGE_MARKS))}])")
_URL_SENTINEL = 987_654_320_123  # an attempt id no database reaches, swapped for the stand-in in URLs


def sheet_page(attempt, sheet: Sheet, *, now: datetime, grace: int, max_seq: int, csrf: str, user) -> str:
    """The sitting page of an open attempt. The template is rendered once with stand-ins (per
    language, exam id and title, question count, grace allowance and script root), cut at them, and
    joined with each request's values: no template, translation or link is worked out per request.
    With flash messages waiting, or an exam title holding a stand-in character, it is rendered whole.
    tests/unit/test_exam_cache.py holds both ways to the same bytes."""
    from flask import render_template, request, session
    from flask_babel import get_locale

    exam = attempt.exam
    context = {"exam": exam, "grace": grace, "total": len(sheet)}
    values = page_values(attempt, sheet, now, max_seq, csrf, user)
    if session.get("_flashes") or any(mark in exam.title for mark in _PAGE_MARKS):
        return render_template("exams/take.html", page=values, **context)
    parts = exam_cache().remember(
        ("page", str(get_locale()), exam.id, exam.title, len(sheet), grace, request.script_root),
        lambda: _cut(render_template("exams/take.html", page=PageValues(**_PAGE_STAND_INS), **context)))
    filled = {mark: getattr(values, name) if name in _HTML_FIELDS else str(escape(getattr(values, name)))
              for name, mark in _PAGE_STAND_INS.items()}
    return "".join([filled.get(part, part) for part in parts])


def page_values(attempt, sheet: Sheet, now: datetime, max_seq: int, csrf: str, user) -> PageValues:
    from lms.exams.timing import epoch_ms, minutes_seconds, seconds_left

    attempt_id = str(attempt.id)
    return PageValues(
        attempt_id=attempt_id, user_id=str(user.id), number=str(attempt.number),
        done=str(sum(1 for slot in sheet if slot.answered)),
        time_left=minutes_seconds(seconds_left(attempt.deadline, now)), ends=_deadline_text(attempt.deadline),
        server_now=str(epoch_ms(now)), deadline=str(epoch_ms(attempt.deadline)), max_seq=str(max_seq), csrf=csrf,
        **{name: url.replace(_PAGE_STAND_INS["attempt_id"], attempt_id) for name, url in _url_patterns().items()},
        messages=sheet.messages(user.name), questions=sheet.questions(), chips=sheet.chips())


def _deadline_text(deadline: datetime) -> str:
    """The deadline as the page shows it ("short": to the minute), worked out once per minute, zone
    and language: a wave of starts shares one or two."""
    from flask_babel import format_datetime, get_locale, get_timezone

    return exam_cache().remember(
        ("deadline", str(get_locale()), str(get_timezone()), deadline.replace(second=0, microsecond=0)),
        lambda: format_datetime(deadline, "short"))


def _url_patterns() -> dict[str, str]:
    """The page's links with the attempt-id stand-in in place of the id, made once per script root."""
    from flask import request, url_for

    def make() -> dict[str, str]:
        number = _URL_SENTINEL
        take = url_for("exams.take", attempt_id=number)
        urls = {"take_url": take, "save_url": url_for("exams.save", attempt_id=number),
                "submit_url": url_for("exams.submit", attempt_id=number),
                "result_url": url_for("exams.result", attempt_id=number),
                "finish_url": url_for("exams.finish", attempt_id=number), "login_url": url_for("auth.login", next=take)}
        return {name: url.replace(str(number), _PAGE_STAND_INS["attempt_id"]) for name, url in urls.items()}

    return exam_cache().remember(("page urls", request.script_root), make)


def _cut(html: str) -> list[str]:
    """The rendered page cut at its stand-ins: text, stand-in, text... (each stand-in one character)."""
    return [part for part in _PAGE_MARK_PATTERN.split(html) if part]
