"""Make-up attempts (补考): a trainer grants an agent extra attempts at an exam, or waives the retake
wait, with a reason; and the list of agents who have used every attempt without passing, so they
do not silently stop.

How a grant counts is decided in one place, `ExamStatus` (lms/exams/services.py): the attempts
allowed are the exam's plus the grants' extras (unlimited stays unlimited), and a grant that waives
the delay, made after the last finished attempt, lets the next attempt start at once. In a
refresher's new cycle only the grants made since the cycle began count, like the attempts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.exams import grading
from lms.extensions import db
from lms.models import Course, Exam, ExamAttempt, RecordEntry, User
from lms.models.exams import AttemptGrant
from lms.notifications.services import notify
from lms.records import completion
from lms.records.services import audit

MAX_EXTRA = 10  # extra attempts in one grant
MAX_REASON = 500
OUT_OF_ATTEMPTS_LIMIT = 200  # rows on a page; the oldest stuck agents are shown first


class GrantError(Exception):
    """Base of the make-up errors a view turns into a message."""


class GrantNotAllowed(GrantError):
    """Only trainers and admins grant, and never to themselves."""


class GrantInvalid(GrantError):
    """`field` says what is wrong: reason, extra, nothing (neither an attempt nor a waived wait),
    unlimited (extra attempts at an exam with unlimited attempts), agent (no such active agent)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def grant_attempts(trainer: User, agent: User, exam: Exam, extra: int, waive_delay: bool, reason: str,
                   now: datetime) -> AttemptGrant:
    """Give `agent` `extra` more attempts at `exam` and/or let the next attempt start now
    (`waive_delay`), with a reason; audited ("attempts_granted") and the agent notified.
    Commits. Raises GrantNotAllowed, GrantInvalid."""
    if not trainer.has_role("trainer", "admin") or trainer.id == agent.id:
        raise GrantNotAllowed(trainer.id)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise GrantInvalid("reason")
    if not isinstance(extra, int) or isinstance(extra, bool) or not 0 <= extra <= MAX_EXTRA:
        raise GrantInvalid("extra")
    if extra == 0 and not waive_delay:
        raise GrantInvalid("nothing")
    if extra and not exam.attempts_allowed:
        raise GrantInvalid("unlimited")
    if not agent.active:
        raise GrantInvalid("agent")
    grant = AttemptGrant(exam_id=exam.id, user_id=agent.id, extra_attempts=extra, waive_delay=bool(waive_delay),
                         reason=reason, granted_by_id=trainer.id, created_at=now)
    db.session.add(grant)
    db.session.flush()
    audit(trainer, "attempts_granted", "attempt_grant", grant.id, exam_id=exam.id, exam_slug=exam.slug,
          user_id=agent.id, employee_no=agent.employee_no, extra=extra, waive_delay=bool(waive_delay), reason=reason)
    notify(agent.id, "attempts_granted",
           params={"exam": exam.title, "extra": extra, "waive_delay": bool(waive_delay), "reason": reason,
                   "by": trainer.name},
           link=f"/exams/{exam.slug}", key=f"attempts_granted:{grant.id}", now=now)
    db.session.commit()
    return grant


def find_agent(employee_no: str) -> User:
    """The active account with this employee number. Raises GrantInvalid("agent")."""
    agent = db.session.scalar(select(User).where(User.employee_no == (employee_no or "").strip(),
                                                 User.active.is_(True)))
    if agent is None:
        raise GrantInvalid("agent")
    return agent


def grants_at(exam: Exam, limit: int = 100) -> list[AttemptGrant]:
    """The make-ups granted at `exam`, newest first, with the agent and who granted (one query)."""
    return list(db.session.scalars(
        select(AttemptGrant).where(AttemptGrant.exam_id == exam.id)
        .options(joinedload(AttemptGrant.user), joinedload(AttemptGrant.granted_by))
        .order_by(AttemptGrant.created_at.desc(), AttemptGrant.id.desc()).limit(limit)))


# --- who is out of attempts ------------------------------------------------------------------------

@dataclass
class OutOfAttempts:
    """An agent who used every attempt allowed (with make-ups) at an exam and has not passed it."""

    user: User
    exam: Exam
    used: int
    allowed: int  # the exam's attempts plus make-ups
    percent: float | None  # the grade by the exam's grading method
    last_at: datetime | None  # when the last attempt ended


def out_of_attempts(now: datetime, *, user_ids: Iterable[int] | None = None, exam_ids: Iterable[int] | None = None,
                    limit: int = OUT_OF_ATTEMPTS_LIMIT) -> list[OutOfAttempts]:
    """Active agents (all, or `user_ids`) who used every allowed attempt of a live exam with limited
    attempts (all, or `exam_ids`), make-ups included, have no open or unmarked attempt, and have not
    passed it by its grading method. A refresher's attempts and grants count from the open cycle's
    start. Oldest first (stuck longest), at most `limit`. Five queries whatever the numbers."""
    exams_query = select(Exam).where(Exam.retired_at.is_(None), Exam.attempts_allowed > 0)
    if exam_ids is not None:
        exams_query = exams_query.where(Exam.id.in_(list(exam_ids)))
    exams = {exam.id: exam for exam in db.session.scalars(exams_query.options(joinedload(Exam.course)))}
    ids = None if user_ids is None else list(set(user_ids))
    if not exams or ids == []:
        return []

    attempts_query = (select(ExamAttempt.user_id, ExamAttempt.exam_id, ExamAttempt.state, ExamAttempt.percent,
                             ExamAttempt.started_at, ExamAttempt.submitted_at)
                      .join(User, User.id == ExamAttempt.user_id)
                      .where(User.active.is_(True), ExamAttempt.exam_id.in_(list(exams)))
                      .order_by(ExamAttempt.number))
    grants_query = (select(AttemptGrant.user_id, AttemptGrant.exam_id, AttemptGrant.extra_attempts,
                           AttemptGrant.created_at).where(AttemptGrant.exam_id.in_(list(exams))))
    if ids is not None:
        attempts_query = attempts_query.where(ExamAttempt.user_id.in_(ids))
        grants_query = grants_query.where(AttemptGrant.user_id.in_(ids))
    attempts: dict[tuple[int, int], list] = defaultdict(list)
    for row in db.session.execute(attempts_query):
        attempts[(row.user_id, row.exam_id)].append(row)
    if not attempts:
        return []
    grants: dict[tuple[int, int], list] = defaultdict(list)
    for row in db.session.execute(grants_query):
        grants[(row.user_id, row.exam_id)].append(row)
    cycles = _cycle_starts({key[0] for key in attempts}, [exam.course for exam in exams.values()
                                                          if exam.course is not None and exam.course.valid_months],
                           now)

    stuck: list[tuple[int, int, int, int, float, datetime | None]] = []
    for (user_id, exam_id), rows in attempts.items():
        exam = exams[exam_id]
        since = cycles.get((user_id, exam.course_id)) if exam.course_id is not None else None
        counted = [r for r in rows if since is None or r.started_at >= since or r.state == "open"]
        if not counted or any(r.state != "graded" for r in counted):
            continue  # nothing this cycle, or an attempt open or waiting for marks: not stuck yet
        allowed = exam.attempts_allowed + sum(g.extra_attempts for g in grants.get((user_id, exam_id), [])
                                              if since is None or g.created_at >= since)
        if len(counted) < allowed:
            continue
        percent = grading.combine(exam.grading_method, [r.percent for r in counted])
        if percent is not None and percent >= exam.pass_percent - 1e-9:
            continue
        stuck.append((user_id, exam_id, len(counted), allowed, percent, counted[-1].submitted_at))
    stuck.sort(key=lambda row: (row[5] is None, row[5], row[0], row[1]))
    stuck = stuck[:limit]
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_({r[0] for r in stuck})))} \
        if stuck else {}
    return [OutOfAttempts(users[user_id], exams[exam_id], used, allowed, percent, last_at)
            for user_id, exam_id, used, allowed, percent, last_at in stuck]


def _cycle_starts(user_ids: set[int], courses: list[Course], now: datetime) -> dict[tuple[int, int], datetime]:
    """(user, refresher course) -> when its open recertification cycle began, for those in one (one query)."""
    if not user_ids or not courses:
        return {}
    starts = {}
    for row in db.session.execute(
            select(RecordEntry.user_id, RecordEntry.course_id, func.max(RecordEntry.valid_until).label("valid_until"))
            .where(RecordEntry.user_id.in_(list(user_ids)), RecordEntry.course_id.in_([c.id for c in courses]),
                   RecordEntry.kind == "course", RecordEntry.passed.is_(True), completion.in_force())
            .group_by(RecordEntry.user_id, RecordEntry.course_id)):
        if row.valid_until is None:
            continue
        opens = row.valid_until - completion.lead_time()
        if now >= opens:
            starts[(row.user_id, row.course_id)] = opens
    return starts
