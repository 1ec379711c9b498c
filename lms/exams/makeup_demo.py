"""Demo data for make-up attempts (补考): the trainer gives 赵磊 (E1003), who has failed the
information-security refresher exam twice, one extra attempt with a reason. The KPI needs no demo
of its own: it reads the histories lms/demo.py writes."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from lms.extensions import db
from lms.models import Exam, ExamAttempt
from lms.models.exams import AttemptGrant

if TYPE_CHECKING:
    from lms.models import User

EXAM_SLUG = "info-security-refresher-exam"
REASON = "两次未通过，已安排带教老师一对一讲解社会工程学来电和数据调取规则，同意增加一次补考机会。"


def seed_demo(users: dict[str, "User"], now: datetime) -> None:
    """Grant E1003 one extra attempt at the refresher exam, between their last attempt and `now`.
    Does nothing when the story is not there (no such exam, no failed attempt) or was seeded already."""
    from lms.demo import frozen_at
    from lms.exams.makeup import grant_attempts

    agent, trainer = users.get("E1003"), users.get("T0001")
    exam = db.session.scalar(select(Exam).where(Exam.slug == EXAM_SLUG, Exam.retired_at.is_(None)))
    if agent is None or trainer is None or exam is None or not exam.attempts_allowed:
        return
    if db.session.scalar(select(AttemptGrant.id).where(AttemptGrant.exam_id == exam.id,
                                                       AttemptGrant.user_id == agent.id)):
        return
    last = db.session.scalar(
        select(ExamAttempt).where(ExamAttempt.exam_id == exam.id, ExamAttempt.user_id == agent.id,
                                  ExamAttempt.state == "graded", ExamAttempt.passed.is_(False))
        .order_by(ExamAttempt.number.desc()).limit(1))
    if last is None or last.submitted_at is None or last.submitted_at >= now:
        return
    moment = min(last.submitted_at + timedelta(minutes=35), now - (now - last.submitted_at) / 3)
    with frozen_at(moment):
        grant_attempts(trainer, agent, exam, 1, False, REASON, moment)
