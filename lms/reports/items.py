"""Exam and item analysis (issue #11 part 3), after Moodle's quiz statistics.

Only FIRST attempts count (attempt number 1, graded, started in the period): later attempts are
practice at the same questions and would flatter every item. An "item" is a question VERSION: an edit
makes a new item, so statistics never mix two wordings.

The numbers (pure functions below, on plain floats, checked by hand-worked tests):
- test: mean, median and sample standard deviation (n - 1) of the attempts' percent; a histogram of
  percent in 10-point bins (the last bin holds 90-100).
- Cronbach's alpha = k/(k-1) x (1 - sum of item variances / variance of the totals), on item POINTS,
  shown x100 like Moodle's "coefficient of internal consistency". Like Moodle it needs complete data:
  it is computed only when every first attempt had the same question versions; with random draws (or
  a question edited mid-period) it is undefined and the page says why.
- per item, over the attempts that got it: facility = mean score fraction x100; SD of the score
  fraction x100 (sample); discrimination = Pearson correlation of the item's score with the REST of
  the test (attempt total minus this item) x100, Moodle's "discrimination index".
- Undefined (shown "—", never a division by zero): any SD with fewer than two takers; alpha and
  discrimination when a variance is zero (every score equal) or with fewer than two takers.

Flags for a question likely broken: facility above 95 or below 20 (any number of takers; the page
shows how many); discrimination below 20 (negative included) and a distractor nobody picked, both
only on at least MIN_TAKERS takers, where a chance result is unlikely.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import AttemptAnswer, AttemptQuestion, Course, Exam, ExamAttempt, Question, QuestionVersion
from lms.reports.period import Period
from lms.reports.tables import Column, Filters, ReportTable, report

MIN_TAKERS = 10  # discrimination and unused-distractor flags need at least this many takers
EASY_ABOVE = 95.0
HARD_BELOW = 20.0
LOW_DISCRIMINATION = 20.0
CHOICE_TYPES = ("single", "multi")

FLAG_LABELS = {
    "too_easy": _l("Too easy (facility above 95%)"),
    "too_hard": _l("Too hard (facility below 20%)"),
    "negative_discrimination": _l("Negative discrimination"),
    "low_discrimination": _l("Low discrimination (below 20)"),
    "unused_distractor": _l("A distractor nobody picks"),
}
ALPHA_REASONS = {
    "few_attempts": _l("fewer than two first attempts"),
    "few_items": _l("fewer than two questions"),
    "different_items": _l("the attempts did not all get the same questions (random draw or an edited question)"),
    "no_variance": _l("every attempt has the same total score"),
}


# --- the statistics: pure functions on plain numbers -------------------------------------------------

def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def variance(values: Sequence[float]) -> float | None:
    """Sample variance (n - 1); None below two values."""
    if len(values) < 2:
        return None
    centre = sum(values) / len(values)
    return sum((v - centre) ** 2 for v in values) / (len(values) - 1)


def sample_sd(values: Sequence[float]) -> float | None:
    var = variance(values)
    return None if var is None else math.sqrt(var)


def _zero(value: float, scale: float = 1.0) -> bool:
    return abs(value) <= 1e-12 * max(1.0, scale)


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None with fewer than two pairs or when either side does not vary."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if _zero(sxx, mx * mx * len(xs)) or _zero(syy, my * my * len(ys)):
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def cronbach_alpha(matrix: Sequence[Sequence[float]]) -> tuple[float | None, str | None]:
    """(alpha, None) or (None, reason key) for a takers x items matrix of item points."""
    if len(matrix) < 2:
        return None, "few_attempts"
    k = len(matrix[0])
    if k < 2:
        return None, "few_items"
    totals = [sum(row) for row in matrix]
    total_var = variance(totals)
    if total_var is None or _zero(total_var, max(abs(t) for t in totals) ** 2):
        return None, "no_variance"
    item_var = sum(variance([row[i] for row in matrix]) for i in range(k))
    return k / (k - 1) * (1 - item_var / total_var), None


def histogram(percents: Iterable[float], bins: int = 10) -> list[int]:
    """Counts in `bins` equal bins of 0-100; 100 falls in the last bin, out-of-range values are clamped."""
    counts = [0] * bins
    width = 100 / bins
    for value in percents:
        index = int(max(0.0, min(100.0, value)) // width)
        counts[min(index, bins - 1)] += 1
    return counts


def _scaled(value: float | None, factor: float = 100.0) -> float | None:
    return None if value is None else value * factor


# --- per item ----------------------------------------------------------------------------------------

@dataclass
class OptionCount:
    option_id: str
    text: str
    right: bool  # weight > 0: part of a right answer; else a distractor
    count: int
    percent: float | None  # of the item's takers


@dataclass
class ItemStats:
    version_id: int
    question_id: int
    question_key: str
    question_title: str
    bank_slug: str
    bank_title: str
    version_number: int
    current_version: int
    question_type: str
    stem: str
    position: int  # the mean slot it was shown in, for a stable default order
    takers: int
    facility: float | None  # 0-100
    sd: float | None  # 0-100
    discrimination: float | None  # -100..100
    options: list[OptionCount] = field(default_factory=list)
    unanswered: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def flag_labels(self) -> list[str]:
        return [str(FLAG_LABELS[flag]) for flag in self.flags]


def item_numbers(fractions: Sequence[float], points: Sequence[float], totals: Sequence[float]) -> tuple:
    """(facility, sd, discrimination), each x100 or None, for one item over its takers: the score
    fraction, the points and the attempt's total of each taker."""
    facility = _scaled(mean(fractions))
    sd = _scaled(sample_sd(fractions))
    rest = [total - own for total, own in zip(totals, points)]
    return facility, sd, _scaled(correlation(points, rest))


def item_flags(takers: int, facility: float | None, discrimination: float | None,
               options: Sequence[OptionCount] = ()) -> list[str]:
    flags = []
    if facility is not None and facility > EASY_ABOVE:
        flags.append("too_easy")
    if facility is not None and facility < HARD_BELOW:
        flags.append("too_hard")
    if takers >= MIN_TAKERS and discrimination is not None:
        if discrimination < 0:
            flags.append("negative_discrimination")
        elif discrimination < LOW_DISCRIMINATION:
            flags.append("low_discrimination")
    if takers >= MIN_TAKERS and any(not option.right and option.count == 0 for option in options):
        flags.append("unused_distractor")
    return flags


def option_counts(data: dict, responses: Sequence[Any]) -> tuple[list[OptionCount], int]:
    """How often each option of a single/multi version was chosen, and how many left it unanswered.
    A single response is an option id, a multi one a list of ids (lms/questions/types.py)."""
    counts: dict[str, int] = defaultdict(int)
    unanswered = 0
    for response in responses:
        chosen = response if isinstance(response, list) else ([] if response is None else [response])
        if not chosen:
            unanswered += 1
        for option_id in set(map(str, chosen)):
            counts[option_id] += 1
    takers = len(responses)
    rows = [OptionCount(option_id=str(option.get("id")), text=str(option.get("text", "")),
                        right=float(option.get("weight", 0) or 0) > 0, count=counts.get(str(option.get("id")), 0),
                        percent=counts.get(str(option.get("id")), 0) * 100 / takers if takers else None)
            for option in data.get("options") or []]
    return rows, unanswered


# --- per exam ----------------------------------------------------------------------------------------

@dataclass
class ExamAnalysis:
    exam: Exam
    attempts: int
    mean: float | None
    median: float | None
    sd: float | None
    alpha: float | None  # x100
    alpha_reason: str | None
    histogram: list[int]
    items: list[ItemStats]

    @property
    def flag_count(self) -> int:
        return sum(1 for item in self.items if item.flags)

    @property
    def alpha_reason_text(self) -> str | None:
        return None if self.alpha_reason is None else str(ALPHA_REASONS[self.alpha_reason])


@dataclass
class _Slot:
    attempt_id: int
    version_id: int
    position: int
    max_points: float
    points: float
    response: Any


def _first_attempt_filter(query, period: Period | None):
    query = query.where(ExamAttempt.number == 1, ExamAttempt.state == "graded")
    if period is not None:
        query = query.where(ExamAttempt.started_at >= period.start, ExamAttempt.started_at < period.end)
    return query


def load_analyses(exams: Sequence[Exam], period: Period | None) -> dict[int, ExamAnalysis]:
    """The analysis of each exam, in three queries whatever the number of attempts: the attempts'
    percents, their slots with points and responses, and the versions shown."""
    exam_ids = [exam.id for exam in exams]
    if not exam_ids:
        return {}
    attempts = db.session.execute(_first_attempt_filter(
        select(ExamAttempt.id, ExamAttempt.exam_id, ExamAttempt.percent)
        .where(ExamAttempt.exam_id.in_(exam_ids)), period).order_by(ExamAttempt.id)).all()
    slot_rows = db.session.execute(_first_attempt_filter(
        select(ExamAttempt.exam_id, AttemptQuestion.attempt_id, AttemptQuestion.question_version_id,
               AttemptQuestion.position, AttemptQuestion.points, AttemptAnswer.points, AttemptAnswer.response)
        .join(AttemptQuestion, AttemptQuestion.attempt_id == ExamAttempt.id)
        .outerjoin(AttemptAnswer, AttemptAnswer.attempt_question_id == AttemptQuestion.id)
        .where(ExamAttempt.exam_id.in_(exam_ids)), period)
        .order_by(AttemptQuestion.attempt_id, AttemptQuestion.position)).all()
    version_ids = select(AttemptQuestion.question_version_id).join(
        ExamAttempt, AttemptQuestion.attempt_id == ExamAttempt.id).where(ExamAttempt.exam_id.in_(exam_ids))
    versions = {version.id: version for version in db.session.scalars(
        select(QuestionVersion).where(QuestionVersion.id.in_(_first_attempt_filter(version_ids, period)))
        .options(joinedload(QuestionVersion.question).joinedload(Question.bank)))}

    percents: dict[int, list[float]] = defaultdict(list)
    for _id, exam_id, percent in attempts:
        percents[exam_id].append(float(percent or 0.0))
    slots: dict[int, list[_Slot]] = defaultdict(list)
    for exam_id, attempt_id, version_id, position, max_points, points, response in slot_rows:
        slots[exam_id].append(_Slot(attempt_id, version_id, position, float(max_points or 0.0),
                                    float(points or 0.0), response))
    return {exam.id: analyse(exam, percents.get(exam.id, []), slots.get(exam.id, []), versions)
            for exam in exams}


def analyse(exam: Exam, percents: list[float], slots: list[_Slot],
            versions: dict[int, QuestionVersion]) -> ExamAnalysis:
    """The statistics of one exam from its first attempts' percents and slots."""
    totals: dict[int, float] = defaultdict(float)
    by_attempt: dict[int, dict[int, float]] = defaultdict(dict)
    by_version: dict[int, list[_Slot]] = defaultdict(list)
    for slot in slots:
        totals[slot.attempt_id] += slot.points
        by_attempt[slot.attempt_id][slot.version_id] = slot.points
        by_version[slot.version_id].append(slot)

    item_sets = {frozenset(items) for items in by_attempt.values()}
    if len(item_sets) > 1:
        alpha, reason = None, "different_items"
    else:
        columns = sorted(next(iter(item_sets))) if item_sets else []
        alpha, reason = cronbach_alpha([[items[v] for v in columns] for items in by_attempt.values()])

    items = []
    for version_id, taken in by_version.items():
        version = versions[version_id]
        question = version.question
        fractions = [s.points / s.max_points if s.max_points > 0 else 0.0 for s in taken]
        facility, sd, discrimination = item_numbers(
            fractions, [s.points for s in taken], [totals[s.attempt_id] for s in taken])
        options, unanswered = [], 0
        if question.type in CHOICE_TYPES:
            options, unanswered = option_counts(version.data or {}, [s.response for s in taken])
        items.append(ItemStats(
            version_id=version_id, question_id=question.id, question_key=question.key,
            question_title=question.title or "", bank_slug=question.bank.slug, bank_title=question.bank.title,
            version_number=version.number, current_version=question.version, question_type=question.type,
            stem=_plain(version.stem), position=round(mean([s.position for s in taken])), takers=len(taken),
            facility=facility, sd=sd, discrimination=discrimination, options=options, unanswered=unanswered,
            flags=item_flags(len(taken), facility, discrimination, options)))
    items.sort(key=lambda item: (item.position, item.bank_slug, item.question_key, item.version_number))
    return ExamAnalysis(exam=exam, attempts=len(percents), mean=mean(percents), median=median(percents),
                        sd=sample_sd(percents), alpha=_scaled(alpha), alpha_reason=reason,
                        histogram=histogram(percents), items=items)


def _plain(stem: str, limit: int = 120) -> str:
    text = " ".join((stem or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- what the pages and exports ask for ----------------------------------------------------------------

SORTS = {
    "position": lambda item: (item.position,),
    "facility": lambda item: (item.facility is None, item.facility or 0.0),
    "sd": lambda item: (item.sd is None, item.sd or 0.0),
    "discrimination": lambda item: (item.discrimination is None, item.discrimination or 0.0),
    "takers": lambda item: (item.takers,),
    "flags": lambda item: (-len(item.flags), item.position),
}


def sort_items(items: list[ItemStats], key: str) -> list[ItemStats]:
    """Items ordered by a column of the items table; unknown keys keep the slot order."""
    return sorted(items, key=SORTS.get(key, SORTS["position"]))


def listed_exams() -> list[Exam]:
    return list(db.session.scalars(select(Exam).options(joinedload(Exam.course)).order_by(Exam.title, Exam.id)))


def exams_overview(period: Period | None) -> list[ExamAnalysis]:
    """Every exam with at least one graded first attempt in the period, and each live exam."""
    exams = listed_exams()
    analyses = load_analyses(exams, period)
    return [analyses[exam.id] for exam in exams if analyses[exam.id].attempts or exam.retired_at is None]


def load_exam(slug: str) -> Exam | None:
    return db.session.scalar(select(Exam).where(Exam.slug == slug).options(joinedload(Exam.course)))


def exam_analysis(exam: Exam, period: Period | None) -> ExamAnalysis:
    return load_analyses([exam], period)[exam.id]


# --- report tables (pages, CSV/XLSX, `lms reports export exam-items`) -----------------------------------

EXAM_COLUMNS = [
    Column("exam", _l("Exam")), Column("slug", _l("Exam id")), Column("attempts", _l("First attempts"), "int"),
    Column("mean", _l("Mean score"), "percent"), Column("median", _l("Median score"), "percent"),
    Column("sd", _l("Standard deviation"), "number"), Column("alpha", _l("Cronbach's alpha ×100"), "number"),
    Column("alpha_note", _l("Why no alpha")), Column("flags", _l("Flagged questions"), "int"),
]
ITEM_COLUMNS = [
    Column("exam", _l("Exam id")), Column("position", _l("Slot"), "int"), Column("bank", _l("Bank")),
    Column("question", _l("Question id")), Column("version", _l("Version"), "int"), Column("type", _l("Type")),
    Column("stem", _l("Question")), Column("takers", _l("Takers"), "int"),
    Column("facility", _l("Facility index"), "percent"), Column("sd", _l("Standard deviation"), "number"),
    Column("discrimination", _l("Discrimination index"), "number"), Column("flags", _l("Flags")),
]
OPTION_COLUMNS = [
    Column("exam", _l("Exam id")), Column("bank", _l("Bank")), Column("question", _l("Question id")),
    Column("version", _l("Version"), "int"), Column("option", _l("Option")), Column("right", _l("Right")),
    Column("count", _l("Chosen"), "int"), Column("percent", _l("Share chosen"), "percent"),
]
DISTRIBUTION_COLUMNS = [Column("bin", _l("Score")), Column("count", _l("First attempts"), "int")]


def bin_labels(bins: int = 10) -> list[str]:
    width = 100 // bins
    return [f"{low}–{low + width}" for low in range(0, 100, width)]


def exams_table(analyses: Sequence[ExamAnalysis]) -> ReportTable:
    return ReportTable("exam-summary", _l("Exams: first attempts"), EXAM_COLUMNS, [
        {"exam": a.exam.title, "slug": a.exam.slug, "attempts": a.attempts, "mean": a.mean, "median": a.median,
         "sd": a.sd, "alpha": a.alpha, "alpha_note": a.alpha_reason_text if a.attempts else None,
         "flags": a.flag_count} for a in analyses])


def items_table(analyses: Sequence[ExamAnalysis], sort: str = "position") -> ReportTable:
    return ReportTable("exam-items", _l("Questions"), ITEM_COLUMNS, [
        {"exam": a.exam.slug, "position": item.position + 1, "bank": item.bank_slug, "question": item.question_key,
         "version": item.version_number, "type": item.question_type, "stem": item.stem, "takers": item.takers,
         "facility": item.facility, "sd": item.sd, "discrimination": item.discrimination,
         "flags": "; ".join(item.flag_labels)}
        for a in analyses for item in sort_items(a.items, sort)])


def options_table(analyses: Sequence[ExamAnalysis]) -> ReportTable:
    return ReportTable("exam-options", _l("Option frequency"), OPTION_COLUMNS, [
        {"exam": a.exam.slug, "bank": item.bank_slug, "question": item.question_key, "version": item.version_number,
         "option": option.text, "right": str(_l("yes") if option.right else _l("no")), "count": option.count,
         "percent": option.percent}
        for a in analyses for item in a.items for option in item.options])


def distribution_table(analysis: ExamAnalysis) -> ReportTable:
    return ReportTable("exam-distribution", _l("Score distribution (first attempts)"), DISTRIBUTION_COLUMNS,
                       [{"bin": label, "count": count} for label, count in zip(bin_labels(), analysis.histogram)])


class NotAllowed(PermissionError):
    pass


def _exam_for(filters: Filters | None, exam: str | None) -> list[Exam] | None:
    """The exam asked for (`exam` slug, else the course filter's final exam), or None for all."""
    if exam:
        found = load_exam(exam)
        return [found] if found else []
    if filters is not None and filters.course_slug:
        found = db.session.scalar(select(Exam).join(Course, Exam.course_id == Course.id)
                                  .where(Course.slug == filters.course_slug))
        return [found] if found else []
    return None


@report("exam-items")
def build_exam_items(viewer, period: Period | None, filters: Filters | None, now: datetime, *,
                     exam: str | None = None, sort: str = "position") -> list[ReportTable]:
    """Tables: exam-items (first), exam-options, exam-summary and, for one exam, exam-distribution.
    `exam` (a slug) or the filters' course picks one exam; else every exam. Viewer None: the system."""
    if viewer is not None and not viewer.has_role("trainer", "admin"):
        raise NotAllowed()
    chosen = _exam_for(filters, exam)
    if chosen is None:
        analyses = exams_overview(period)
    else:
        found = load_analyses(chosen, period)
        analyses = [found[e.id] for e in chosen]
    tables = [items_table(analyses, sort), options_table(analyses), exams_table(analyses)]
    if len(analyses) == 1:
        tables.append(distribution_table(analyses[0]))
    return tables
