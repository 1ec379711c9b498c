"""Saving answers while an attempt is open: one answer from the page's script (`save_answer`, the
most frequent request of an exam wave) or a whole page posted without it (`save_answers`).

A save never loses to an older one (each carries a seq, the page's clock in ms; the higher wins),
nothing lands once the attempt is closed (the state is checked in the same statement that writes),
and an attempt touched past deadline + allowance is finalized instead (lms/exams/services.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden, NotFound

from lms.exams import cache, timing
from lms.exams.services import (MAX_SLOT, SEQ_AHEAD_MS, AttemptFinished, SeqOutOfRange, UnknownSlot,
                                finalize_if_overdue, grace_seconds, load_attempt_for)
from lms.extensions import db, run_prebuilt
from lms.models import AttemptAnswer, AttemptQuestion, ExamAttempt, QuestionVersion, User
from lms.questions.types import QUESTION_TYPES, InvalidResponse

# A save's read and write, built once: saves are the most frequent request (every answer of every
# agent in an exam wave), and building a statement costs more CPU than SQLite takes to run it.
# The read gets the attempt and the slot in one go; FOR SHARE (PostgreSQL) holds off a concurrent
# finalize until the save is committed. The write is conditional, so a stale save never wins and
# nothing lands once the attempt is closed (its state is checked inside the same statement).
_SAVE_READ = (
    select(ExamAttempt.user_id, ExamAttempt.state, ExamAttempt.deadline, AttemptQuestion.id.label("slot_id"),
           AttemptQuestion.question_type, AttemptQuestion.option_order, QuestionVersion.id.label("version_id"),
           QuestionVersion.created_at, QuestionVersion.content_hash)
    .select_from(ExamAttempt)
    .outerjoin(AttemptQuestion, and_(AttemptQuestion.attempt_id == ExamAttempt.id,
                                     AttemptQuestion.position == bindparam("slot")))
    .outerjoin(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
    .where(ExamAttempt.id == bindparam("attempt_id")).with_for_update(read=True, of=ExamAttempt))
_SAVE_WRITE = (
    update(AttemptAnswer)
    .where(AttemptAnswer.attempt_question_id == bindparam("slot_id"),
           AttemptAnswer.seq < bindparam("new_seq", type_=AttemptAnswer.seq.type),
           exists().where(ExamAttempt.id == bindparam("attempt_id"), ExamAttempt.state == "open"))
    .values(response=bindparam("new_response", type_=AttemptAnswer.response.type),
            seq=bindparam("new_seq", type_=AttemptAnswer.seq.type),
            saved_at=bindparam("saved_now", type_=AttemptAnswer.saved_at.type)))


@dataclass
class Saved:
    slot: int
    seq: int  # the seq the server holds for the slot now (>= the one sent when it was older)


def save_answer(user: User, attempt_id: int, slot: int, raw: Any, seq: int, now: datetime) -> Saved:
    """Store the response to one slot unless a newer one (higher seq) is already stored.

    Replays and late arrivals of older saves are acknowledged without overwriting. Raises 404/403,
    AttemptFinished (submitted, or past deadline + allowance: then it is finalized now),
    SeqOutOfRange (checked first: nothing is read or written), UnknownSlot, InvalidResponse.
    """
    server_ms = timing.epoch_ms(now)
    if not 1 <= seq <= server_ms + SEQ_AHEAD_MS:
        raise SeqOutOfRange(seq, server_ms)
    if not 0 <= slot <= MAX_SLOT:
        slot = -1  # no such position: the attempt is still checked (404/403/finished) before UnknownSlot
    row = run_prebuilt(_SAVE_READ, {"attempt_id": attempt_id, "slot": slot}).one_or_none()
    if row is None:
        raise NotFound()
    if row.user_id != user.id:
        raise Forbidden()
    _check_open(attempt_id, row.state, row.deadline, now)
    if row.slot_id is None:
        raise UnknownSlot(slot)
    version = cache.versions([cache.version_key(row.version_id, row.created_at, row.content_hash)])[row.version_id]
    response = QUESTION_TYPES[row.question_type].clean_response(version.data, row.option_order, raw)
    stored = _write_answer(attempt_id, row.slot_id, response, seq, now)
    db.session.commit()
    return Saved(slot=slot, seq=stored)


def save_answers(user: User, attempt_id: int, raws: dict[int, Any], now: datetime) -> list[int]:
    """Store a whole page of answers (the form without JavaScript), as newer than any earlier save.

    Returns the slots whose input could not be understood (they keep their stored answer).
    Raises like save_answer.
    """
    attempt = load_attempt_for(user, attempt_id, now)
    current = db.session.execute(select(ExamAttempt.state, ExamAttempt.deadline)
                                 .where(ExamAttempt.id == attempt.id).with_for_update(read=True)).one()
    _check_open(attempt.id, current.state, current.deadline, now)
    seq = timing.epoch_ms(now)
    rejected = []
    questions = db.session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
                                   .options(joinedload(AttemptQuestion.version)))
    for aq in questions:
        if aq.position not in raws:
            continue
        try:
            response = QUESTION_TYPES[aq.question_type].clean_response(aq.version.data, aq.option_order,
                                                                      raws[aq.position])
        except InvalidResponse:
            rejected.append(aq.position)
            continue
        _write_answer(attempt.id, aq.id, response, seq, now)
    db.session.commit()
    return rejected


def _check_open(attempt_id: int, state: str, deadline: datetime, now: datetime) -> None:
    if state != "open":
        raise AttemptFinished(attempt_id)
    if timing.is_overdue(deadline, now, grace_seconds()):
        db.session.rollback()
        attempt = db.session.get(ExamAttempt, attempt_id)
        finalize_if_overdue(attempt, now)
        raise AttemptFinished(attempt_id, overdue=True)


def _write_answer(attempt_id: int, attempt_question_id: int, response: Any, seq: int, now: datetime) -> int:
    """_SAVE_WRITE, or the slot's first row when it has none. Returns the stored seq."""
    still_open = exists().where(ExamAttempt.id == attempt_id, ExamAttempt.state == "open")
    for _try in range(2):
        updated = run_prebuilt(_SAVE_WRITE, {"attempt_id": attempt_id, "slot_id": attempt_question_id,
                                                   "new_seq": seq, "new_response": response, "saved_now": now})
        if updated.rowcount:
            return seq
        current = db.session.execute(select(AttemptAnswer.seq).where(
            AttemptAnswer.attempt_question_id == attempt_question_id)).scalar_one_or_none()
        if not db.session.scalar(select(still_open)):
            db.session.rollback()
            raise AttemptFinished(attempt_id)
        if current is not None:
            return current  # a newer (or the same) save is already stored: acknowledge, keep it
        try:
            with db.session.begin_nested():
                db.session.execute(insert(AttemptAnswer).values(
                    attempt_question_id=attempt_question_id, response=response, seq=seq, saved_at=now,
                    marker_comment=""))
        except IntegrityError:
            continue  # the same slot's first save from another tab won the insert: compare seqs again
        # We hold the write lock now (SQLite) or share-lock the attempt (PostgreSQL): this check stands.
        if not db.session.scalar(select(still_open)):
            db.session.rollback()
            raise AttemptFinished(attempt_id)
        return seq
    raise RuntimeError("answer row neither updated nor inserted")  # pragma: no cover

