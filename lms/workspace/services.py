"""What the trainer's workspace shows, read-only, in a fixed number of queries whatever the number of
agents, attempts, sessions or questions: counts are aggregated in SQL and every list is limited."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from lms.classroom.agenda import local_day_bounds, managed_sessions
from lms.clock import center_zone
from lms.exams.marking import QueueItem, marking_queue
from lms.extensions import db
from lms.models import Exam, ExamAttempt, Question, QuestionBank, QuestionVersion, User
from lms.models.classroom import ClassSession

OLDEST = 3  # attempts of the marking queue shown
WEEK_SHOWN = 5  # sessions of the coming days shown
EXAMS_SHOWN = 5
BANKS_SHOWN = 4
ATTENDANCE_DAYS = 30  # sessions that ended within this many days and still have attendance open


@dataclass
class OpenExam:
    exam: Exam
    sitting: int  # attempts in progress now


@dataclass
class BankRow:
    bank: QuestionBank
    live: int  # questions not retired
    last_edit: datetime | None  # the newest question version


@dataclass
class Workspace:
    to_mark: int  # submitted attempts whose essays wait for marks
    oldest: list[QueueItem]  # the first of them, oldest first
    today: list[ClassSession]
    coming: list[ClassSession]  # the next six days, the first WEEK_SHOWN
    coming_total: int
    attendance_open: int  # ended sessions whose attendance is not closed yet
    exams: list[OpenExam]  # open now, with people sitting first, then closing soonest
    exams_total: int
    sitting: int  # attempts in progress across every exam
    banks: list[BankRow] = field(default_factory=list)  # edited most recently first
    banks_total: int = 0


def _sessions(user: User, now: datetime) -> tuple[list[ClassSession], list[ClassSession], int]:
    """Today's sessions and the next six days' (not cancelled) that `user` runs (all for trainers)."""
    today = now.astimezone(center_zone()).date()
    start, tomorrow = local_day_bounds(today, today + timedelta(days=1))
    _start, week_end = local_day_bounds(today, today + timedelta(days=7))
    sessions = [s for s in managed_sessions(user, start=start, end=week_end) if s.cancelled_at is None]
    todays = [s for s in sessions if s.starts_at < tomorrow]
    coming = [s for s in sessions if s.starts_at >= tomorrow]
    return todays, coming[:WEEK_SHOWN], len(coming)


def _attendance_open(now: datetime) -> int:
    """Sessions that ended lately and whose attendance is still open (trainers close any session's)."""
    return db.session.scalar(select(func.count()).select_from(ClassSession).where(
        ClassSession.ends_at <= now, ClassSession.ends_at > now - timedelta(days=ATTENDANCE_DAYS),
        ClassSession.cancelled_at.is_(None), ClassSession.attendance_closed_at.is_(None)))


def _open_exams(now: datetime) -> tuple[list[OpenExam], int, int]:
    """Exams taking attempts now (not retired, inside their window if they have one): two queries."""
    exams = list(db.session.scalars(
        select(Exam).where(Exam.retired_at.is_(None), or_(Exam.opens_at.is_(None), Exam.opens_at <= now),
                           or_(Exam.closes_at.is_(None), Exam.closes_at > now))))
    sitting = dict(db.session.execute(
        select(ExamAttempt.exam_id, func.count()).where(ExamAttempt.state == "open", ExamAttempt.deadline > now)
        .group_by(ExamAttempt.exam_id)).all())
    rows = [OpenExam(exam, sitting.get(exam.id, 0)) for exam in exams]
    rows.sort(key=lambda row: (-row.sitting, row.exam.closes_at is None, row.exam.closes_at or now, row.exam.title))
    return rows[:EXAMS_SHOWN], len(rows), sum(sitting.values())


def _banks() -> tuple[list[BankRow], int]:
    """Banks in use, the most recently edited first: one query."""
    live = (select(func.count()).select_from(Question)
            .where(Question.bank_id == QuestionBank.id, Question.retired_at.is_(None)).scalar_subquery())
    last_edit = (select(func.max(QuestionVersion.created_at)).join(Question, Question.id == QuestionVersion.question_id)
                 .where(Question.bank_id == QuestionBank.id).scalar_subquery())
    rows = db.session.execute(select(QuestionBank, live, last_edit).where(QuestionBank.retired_at.is_(None))).all()
    banks = [BankRow(bank, count or 0, edited) for bank, count, edited in rows]
    banks.sort(key=lambda row: row.last_edit or row.bank.created_at, reverse=True)
    return banks[:BANKS_SHOWN], len(banks)


def load(user: User, now: datetime) -> Workspace:
    """Everything /workspace shows for `user` (a trainer or an admin) at `now`."""
    today, coming, coming_total = _sessions(user, now)
    exams, exams_total, sitting = _open_exams(now)
    banks, banks_total = _banks()
    return Workspace(
        to_mark=db.session.scalar(select(func.count()).select_from(ExamAttempt).where(ExamAttempt.state == "pending")),
        oldest=marking_queue(limit=OLDEST), today=today, coming=coming, coming_total=coming_total,
        attendance_open=_attendance_open(now), exams=exams, exams_total=exams_total, sitting=sitting,
        banks=banks, banks_total=banks_total)
