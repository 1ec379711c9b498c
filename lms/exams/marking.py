"""Marking essays: the queue of submitted attempts waiting for a marker, and the marks that grade
them. The last essay's mark completes the attempt as the closer does when nothing waits
(`services.complete`): total, pass mark, band, the training record and the agent's notification.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from lms.exams.services import MarkingNotAllowed, MarkInvalid, complete, load_attempt_for
from lms.extensions import db
from lms.models import AttemptAnswer, AttemptQuestion, ExamAttempt, User
from lms.records.services import audit


@dataclass
class QueueItem:
    attempt: ExamAttempt
    unmarked: int


def marking_queue(limit: int = 200) -> list[QueueItem]:
    """Submitted attempts waiting for essay marks, oldest first, in one query."""
    unmarked = func.count(AttemptAnswer.id)
    rows = db.session.execute(
        select(ExamAttempt, unmarked)
        .join(AttemptQuestion, AttemptQuestion.attempt_id == ExamAttempt.id)
        .join(AttemptAnswer, AttemptAnswer.attempt_question_id == AttemptQuestion.id)
        .where(ExamAttempt.state == "pending", AttemptAnswer.points.is_(None))
        .group_by(ExamAttempt.id)
        .order_by(ExamAttempt.submitted_at, ExamAttempt.id)
        .options(joinedload(ExamAttempt.exam), joinedload(ExamAttempt.user))
        .limit(limit)).all()
    return [QueueItem(attempt, count) for attempt, count in rows]


@dataclass
class Mark:
    points: float
    comment: str = ""


def mark_essays(marker: User, attempt_id: int, marks: dict[int, Mark], now: datetime) -> ExamAttempt:
    """Give points to essays waiting in `attempt_id`. When none waits any more the attempt is graded
    and written to the record; every mark and the grade are audited. Marks of other slots, or of
    essays someone has marked meanwhile, are refused.

    Raises 404/403, MarkingNotAllowed (not waiting, or the marker's own attempt), MarkInvalid.
    """
    attempt = load_attempt_for(marker, attempt_id, now, staff=True)
    if attempt.user_id == marker.id:
        raise MarkingNotAllowed("own attempt")
    if attempt.state != "pending":
        raise MarkingNotAllowed("not waiting for marks")
    questions = list(db.session.scalars(
        select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
        .options(joinedload(AttemptQuestion.version), joinedload(AttemptQuestion.answer))
        .order_by(AttemptQuestion.position)))
    by_slot = {aq.position: aq for aq in questions}
    for slot, mark in sorted(marks.items()):
        aq = by_slot.get(slot)
        if aq is None or aq.answer is None or aq.answer.points is not None:
            raise MarkInvalid(slot, "this answer is not waiting for a mark")
        if not 0 <= mark.points <= aq.points:
            raise MarkInvalid(slot, f"points run from 0 to {aq.points:g}")
        marked = db.session.execute(
            update(AttemptAnswer).where(AttemptAnswer.id == aq.answer.id, AttemptAnswer.points.is_(None))
            .values(points=mark.points, marked_by_id=marker.id, marked_at=now, marker_comment=mark.comment.strip())
            .execution_options(synchronize_session=False)).rowcount
        if not marked:
            db.session.rollback()
            raise MarkInvalid(slot, "someone else has just marked this answer")
        db.session.expire(aq.answer)
        audit(marker, "exam_answer_marked", "attempt_answer", aq.answer.id, attempt_id=attempt.id, slot=slot,
              points=mark.points, max_points=aq.points)
    if all(aq.answer is not None and aq.answer.points is not None for aq in questions):
        claimed = db.session.execute(
            update(ExamAttempt).where(ExamAttempt.id == attempt.id, ExamAttempt.state == "pending")
            .values(state="graded").execution_options(synchronize_session=False)).rowcount
        if not claimed:
            db.session.rollback()
            raise MarkingNotAllowed("already graded")
        complete(attempt, questions, now, recorded_by=marker)
        audit(marker, "exam_graded", "exam_attempt", attempt.id, score=attempt.score, max_score=attempt.max_score,
              percent=attempt.percent, passed=attempt.passed)
    db.session.commit()
    return attempt
