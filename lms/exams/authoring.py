"""Exam authoring for trainers: settings and pools checked against the banks, saving, and the
overviews of exams and their attempts (which close expired attempts as they are read)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from lms.content.exams import RESERVED_SLUGS
from lms.exams.services import ExamError, close_expired_attempts
from lms.extensions import db
from lms.models import Exam, ExamAttempt, ExamPool, Question, QuestionBank, User
from lms.records.services import audit
from lms.rendering import render_markdown


class ExamInvalid(ExamError):
    """Settings that cannot be saved: a list of (field, message), field like "slug" or "pools-1-count"."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(message for _field, message in problems))
        self.problems = problems


@dataclass
class PoolSettings:
    bank_id: int
    tags: list[str]
    count: int


@dataclass
class ExamSettings:
    slug: str
    title: str
    description: str = ""
    course_id: int | None = None
    time_limit_minutes: int = 20
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    pass_percent: float = 60.0
    attempts_allowed: int = 3
    retake_delay_minutes: int = 0
    later_retake_delay_minutes: int = 0
    shuffle_questions: bool = True
    shuffle_options: bool = True
    grading_method: str = "highest"
    review_policy: str = "after_close"
    retired: bool = False
    pools: list[PoolSettings] = field(default_factory=list)


def available_questions(bank_ids: set[int]) -> dict[int, list[tuple[int, set[str]]]]:
    """Live questions of live banks as (id, tags) per bank, in one query."""
    found: dict[int, list[tuple[int, set[str]]]] = {bank_id: [] for bank_id in bank_ids}
    rows = db.session.execute(
        select(Question.bank_id, Question.id, Question.tags).join(QuestionBank)
        .where(Question.bank_id.in_(bank_ids), Question.retired_at.is_(None), QuestionBank.retired_at.is_(None)))
    for bank_id, question_id, tags in rows:
        found[bank_id].append((question_id, set(tags or [])))
    return found


def pool_problems(pools: list[PoolSettings]) -> list[tuple[str, str]]:
    """Pools asking for more questions than their bank holds with their tags (pools of one bank
    share its questions: a question is never drawn twice)."""
    available = available_questions({pool.bank_id for pool in pools})
    problems = []
    for index, pool in enumerate(pools):
        matching = [qid for qid, tags in available.get(pool.bank_id, []) if set(pool.tags) <= tags]
        if pool.count > len(matching):
            problems.append((f"pools-{index}-count",
                             _("Only %(n)s questions of this bank match.", n=len(matching))))
    by_bank: dict[int, list[int]] = {}
    for index, pool in enumerate(pools):
        by_bank.setdefault(pool.bank_id, []).append(index)
    for bank_id, indexes in by_bank.items():
        if len(indexes) < 2:
            continue
        union = {qid for i in indexes for qid, tags in available.get(bank_id, []) if set(pools[i].tags) <= tags}
        wanted = sum(pools[i].count for i in indexes)
        if wanted > len(union):
            problems.append((f"pools-{indexes[-1]}-count",
                             _("The pools of this bank ask for %(wanted)s questions; it has %(n)s that match.",
                               wanted=wanted, n=len(union))))
    return problems


def save_exam(actor: User, exam: Exam | None, settings: ExamSettings, now: datetime) -> Exam:
    """Create (exam None) or update an exam with its pools; audited. Raises ExamInvalid."""
    problems: list[tuple[str, str]] = []
    if settings.slug in RESERVED_SLUGS:
        problems.append(("slug", _("This id is reserved; choose another.")))
    clash = db.session.scalar(select(Exam.id).where(Exam.slug == settings.slug))
    if clash is not None and (exam is None or clash != exam.id):
        problems.append(("slug", _("Another exam uses this id.")))
    if settings.course_id is not None:
        other = db.session.scalar(select(Exam).where(Exam.course_id == settings.course_id))
        if other is not None and (exam is None or other.id != exam.id):
            problems.append(("course_id", _("This course already has a final exam: %(title)s.", title=other.title)))
    if settings.opens_at and settings.closes_at and settings.closes_at <= settings.opens_at:
        problems.append(("closes_at", _("The close time must come after the open time.")))
    if not settings.pools:
        problems.append(("pools", _("Add at least one pool of questions.")))
    problems.extend(pool_problems(settings.pools))
    if problems:
        raise ExamInvalid(problems)

    created = exam is None
    if created:
        exam = Exam(slug=settings.slug)
        db.session.add(exam)
    exam.slug = settings.slug
    exam.title = settings.title
    exam.description = settings.description
    exam.description_html = render_markdown(settings.description) if settings.description.strip() else ""
    exam.course_id = settings.course_id
    for name in ("time_limit_minutes", "opens_at", "closes_at", "pass_percent", "attempts_allowed",
                 "retake_delay_minutes", "later_retake_delay_minutes", "shuffle_questions", "shuffle_options",
                 "grading_method", "review_policy"):
        setattr(exam, name, getattr(settings, name))
    exam.retired_at = (exam.retired_at or now) if settings.retired else None
    exam.pools = [ExamPool(bank_id=pool.bank_id, tags=list(pool.tags), count=pool.count, position=position)
                  for position, pool in enumerate(settings.pools)]
    db.session.flush()
    audit(actor, "exam_created" if created else "exam_updated", "exam", exam.id, slug=exam.slug,
          pools=[{"bank_id": p.bank_id, "tags": p.tags, "count": p.count} for p in settings.pools])
    try:
        db.session.commit()
    except IntegrityError:  # the same slug or course saved by someone else this instant
        db.session.rollback()
        raise ExamInvalid([("slug", _("Another exam uses this id or this course."))])
    return exam


@dataclass
class ExamRow:
    exam: Exam
    attempts: int
    pending: int


def exams_overview() -> list[ExamRow]:
    """Every exam with its attempt and marking counts, in two queries."""
    exams = list(db.session.scalars(select(Exam).options(selectinload(Exam.pools).joinedload(ExamPool.bank),
                                                         joinedload(Exam.course))
                                    .order_by(Exam.retired_at.is_not(None), Exam.title)))
    counts = {row.exam_id: row for row in db.session.execute(
        select(ExamAttempt.exam_id, func.count().label("attempts"),
               func.count().filter(ExamAttempt.state == "pending").label("pending"))
        .group_by(ExamAttempt.exam_id))}
    return [ExamRow(exam, counts[exam.id].attempts if exam.id in counts else 0,
                    counts[exam.id].pending if exam.id in counts else 0) for exam in exams]


def attempts_of_exam(exam: Exam, now: datetime, page: int, per_page: int = 50):
    """The exam's attempts, newest first, paginated; expired open ones are closed first."""
    close_expired_attempts(now, exam_id=exam.id)
    return db.paginate(select(ExamAttempt).where(ExamAttempt.exam_id == exam.id)
                       .options(joinedload(ExamAttempt.user))
                       .order_by(ExamAttempt.started_at.desc(), ExamAttempt.id.desc()),
                       page=page, per_page=per_page, error_out=False)
