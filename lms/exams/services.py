"""Sitting exams: start, submit, close on time, grade, results and review (saving answers while an
attempt is open: lms/exams/saving.py; marking essays: lms/exams/marking.py).

The attempt is the unit: everything it showed is stored when it starts (question versions, their
order, the option order), its deadline is kept here and checked on every write, and an attempt
past deadline + allowance is finalized by whoever touches it next (`finalize_if_overdue`), so no
scheduler is needed. Services take plain values and the time (`now`), commit once per operation
and raise the exceptions below; views turn those into messages.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, and_, bindparam, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import Forbidden, NotFound

from lms.catalog.services import load_progress
from lms.exams import cache, grading, timing
from lms.extensions import commit_keeping_loaded, db, run_prebuilt
from lms.models import (AttemptAnswer, AttemptQuestion, Exam, ExamAttempt, Question, QuestionBank,
                        QuestionVersion, User)
from lms.models.exams import AttemptGrant
from lms.questions.types import QUESTION_TYPES, FillBlank, Matching
from lms.records import completion
from lms.records.services import add_entry, band_for

DEFAULT_GRACE_SECONDS = 30
# A save's seq follows the server's clock in ms (static/js/exam.js); one further ahead than this is
# refused, so no client can pin a slot with a huge seq and have its later saves acknowledged and dropped.
SEQ_AHEAD_MS = 60_000
MAX_SLOT = 10_000  # beyond any exam (pools draw at most 200 each); keeps the query's integer small


class ExamError(Exception):
    """Base of the domain errors a view turns into a message."""


class ExamLocked(ExamError):
    """The exam belongs to a course the user may not open yet (star level, prerequisites)."""


class ExamNotOpenYet(ExamError):
    def __init__(self, opens_at: datetime):
        super().__init__(f"opens at {opens_at.isoformat()}")
        self.opens_at = opens_at


class ExamClosed(ExamError):
    """The exam's close time has passed."""


class AttemptLimitReached(ExamError):
    """Every allowed attempt is used."""


class RetakeNotYet(ExamError):
    def __init__(self, allowed_at: datetime):
        super().__init__(f"retake allowed from {allowed_at.isoformat()}")
        self.allowed_at = allowed_at


class ExamEmpty(ExamError):
    """No question can be drawn: the pools' banks are empty or retired."""


class AttemptFinished(ExamError):
    """The attempt takes no more answers: submitted, or past its deadline and allowance."""

    def __init__(self, attempt_id: int, overdue: bool = False):
        super().__init__(f"attempt {attempt_id} is finished")
        self.attempt_id = attempt_id
        self.overdue = overdue


class UnknownSlot(ExamError):
    """The attempt has no question at this position."""


class SeqOutOfRange(ExamError):
    """The seq is below 1 or further ahead of the server's clock than SEQ_AHEAD_MS."""

    def __init__(self, seq: int, server_ms: int):
        super().__init__(f"seq {seq} is outside 1..{server_ms + SEQ_AHEAD_MS}")
        self.server_ms = server_ms


class MarkingNotAllowed(ExamError):
    """Not pending, already marked, or the marker's own attempt."""


class MarkInvalid(ExamError):
    def __init__(self, slot: int, message: str):
        super().__init__(message)
        self.slot = slot


def grace_seconds() -> int:
    """The allowance after the deadline for answers still travelling on a slow network."""
    return int(current_app.config.get("LMS_EXAM_GRACE_SECONDS", DEFAULT_GRACE_SECONDS))


# --- exams and an agent's standing in one --------------------------------------------------------

# The reads of an exam start, built once (a wave of starts builds no statement): building one costs
# about as much CPU as SQLite takes to run it.
_LIVE_EXAM = (select(Exam).where(Exam.slug == bindparam("slug"), Exam.retired_at.is_(None))
              .options(joinedload(Exam.pools), joinedload(Exam.course)))
_ATTEMPTS_OF = (select(ExamAttempt).where(ExamAttempt.user_id == bindparam("user_id"),
                                          ExamAttempt.exam_id == bindparam("exam_id"))
                .order_by(ExamAttempt.number).execution_options(populate_existing=True))


def load_exam(slug: str) -> Exam:
    """The live exam with its pools and course (one query), else 404."""
    exam = db.session.scalars(_LIVE_EXAM, {"slug": slug}).unique().first()
    if exam is None:
        raise NotFound()
    return exam


@dataclass
class ExamStatus:
    """Where `user` stands with `exam` at `now`: attempts, what they may do next, the combined grade."""

    exam: Exam
    attempts: list[ExamAttempt]  # by number: those of the current recertification cycle (all, mostly)
    now: datetime
    locked: bool = False
    earlier: list[ExamAttempt] = field(default_factory=list)  # attempts of earlier cycles
    cycle_start: datetime | None = None  # a refresher's new cycle: attempts count afresh from here
    grants: list[AttemptGrant] = field(default_factory=list)  # make-ups (补考) of this cycle, oldest first

    @property
    def attempts_total(self) -> int:
        """Attempts allowed including make-ups; 0 = unlimited."""
        if not self.exam.attempts_allowed:
            return 0
        return self.exam.attempts_allowed + sum(grant.extra_attempts for grant in self.grants)

    @property
    def open_attempt(self) -> ExamAttempt | None:
        return next((a for a in self.attempts if a.state == "open"), None)

    @property
    def finished(self) -> list[ExamAttempt]:
        return [a for a in self.attempts if a.state != "open"]

    @property
    def attempts_left(self) -> int | None:
        return timing.attempts_left(self.attempts_total, len(self.attempts))

    @property
    def window(self) -> str:
        return timing.window_state(self.exam.opens_at, self.exam.closes_at, self.now)

    @property
    def retake_at(self) -> datetime | None:
        """When the next attempt may start because of the retake delays (None: no delay applies)."""
        if self.open_attempt is not None:
            return None
        ended = [a.submitted_at for a in self.finished]
        if ended and any(g.waive_delay and g.created_at >= ended[-1] for g in self.grants):
            return None  # a make-up granted after the last attempt lets the next one start now
        allowed = timing.retake_allowed_at(ended, self.exam.retake_delay_minutes, self.exam.later_retake_delay_minutes)
        return allowed if allowed is not None and allowed > self.now else None

    @property
    def blocker(self) -> str | None:
        """Why a new attempt cannot start now: locked, not_yet, closed, limit, wait; None if it can."""
        if self.locked:
            return "locked"
        if self.window != timing.OPEN:
            return self.window
        if self.attempts_left == 0:
            return "limit"
        if self.retake_at is not None:
            return "wait"
        return None

    @property
    def can_resume(self) -> bool:
        return self.open_attempt is not None

    @property
    def can_start(self) -> bool:
        return self.open_attempt is None and self.blocker is None

    @property
    def combined_percent(self) -> float | None:
        return grading.combine(self.exam.grading_method, [a.percent for a in self.finished])

    @property
    def combined_passed(self) -> bool | None:
        percent = self.combined_percent
        return None if percent is None else percent >= self.exam.pass_percent - 1e-9

    @property
    def combined_band(self) -> str | None:
        return band_for(self.combined_percent, self.combined_passed)

    @property
    def pending(self) -> bool:
        return any(a.state == "pending" for a in self.attempts)

    def review_open(self, attempt: ExamAttempt) -> bool:
        return timing.review_open(self.exam.review_policy, self.exam.closes_at, self.now,
                                  finished=attempt.state != "open", attempts_left_after=self.attempts_left,
                                  any_open=self.open_attempt is not None)


def course_locked(user: User, exam: Exam) -> bool:
    """A course's exam is for those who may open the course; trainers and admins may open all."""
    if exam.course is None or user.can_author:
        return False
    progress = load_progress(user)
    course = next((c for c in progress.courses if c.id == exam.course_id), None)
    return course is None or not progress.access(course).is_open


def exam_status(user: User, exam: Exam, now: datetime, *, locked: bool | None = None,
                for_start: bool = False) -> ExamStatus:
    """The user's attempts at `exam`, an overdue open one finalized first. `locked` may be given by a
    caller that already knows the course access (the course page); else it is computed.
    `for_start`: only what deciding a start needs; make-ups are not read while no attempt of the
    current cycle exists (they add attempts and waive waits, neither of which can block a first one)."""
    attempts = _attempts_of(user.id, exam.id)
    open_attempt = next((a for a in attempts if a.state == "open"), None)
    if open_attempt is not None and finalize_if_overdue(open_attempt, now):
        attempts = _attempts_of(user.id, exam.id)
    if locked is None:
        locked = course_locked(user, exam)
    since = completion.cycle_start(user, exam.course, now) if exam.course is not None else None
    current = [a for a in attempts if since is None or a.started_at >= since or a.state == "open"]
    earlier = [a for a in attempts if a not in current]
    grants = [] if for_start and not current else [
        g for g in grants_of(user.id, exam.id) if since is None or g.created_at >= since]
    return ExamStatus(exam=exam, attempts=current, now=now, locked=locked, earlier=earlier, cycle_start=since,
                      grants=grants)


def grants_of(user_id: int, exam_id: int) -> list[AttemptGrant]:
    """The make-ups granted to `user_id` at `exam_id`, oldest first, with who granted them."""
    return list(db.session.scalars(
        select(AttemptGrant).where(AttemptGrant.user_id == user_id, AttemptGrant.exam_id == exam_id)
        .options(joinedload(AttemptGrant.granted_by)).order_by(AttemptGrant.created_at, AttemptGrant.id)))


def _attempts_of(user_id: int, exam_id: int) -> list[ExamAttempt]:
    return list(db.session.scalars(_ATTEMPTS_OF, {"user_id": user_id, "exam_id": exam_id}))


def course_exam(course_id: int) -> Exam | None:
    return db.session.scalar(select(Exam).where(Exam.course_id == course_id, Exam.retired_at.is_(None))
                             .options(selectinload(Exam.pools)))


# --- authorization in one place ------------------------------------------------------------------

def load_attempt_for(user: User, attempt_id: int, now: datetime, *, staff: bool = False) -> ExamAttempt:
    """The attempt if `user` may see it, else 404 (no such attempt) or 403.

    The owner always may; with `staff`, trainers and admins may too (results, review, marking).
    Touching an attempt past its deadline + allowance finalizes it first.
    """
    attempt = db.session.scalar(select(ExamAttempt).where(ExamAttempt.id == attempt_id)
                                .options(joinedload(ExamAttempt.exam), joinedload(ExamAttempt.user)))
    if attempt is None:
        raise NotFound()
    if attempt.user_id != user.id and not (staff and user.can_author):
        raise Forbidden()
    finalize_if_overdue(attempt, now)
    return attempt


_ATTEMPT_STATE = select(ExamAttempt.user_id, ExamAttempt.state, ExamAttempt.deadline).where(
    ExamAttempt.id == bindparam("attempt_id"))


def attempt_still_open(user: User, attempt_id: int, now: datetime) -> bool:
    """Whether the user's attempt still takes answers (the exam page's heartbeat): one row read, no
    objects; 404 or 403 as load_attempt_for. One past its deadline + allowance is finalized here."""
    row = run_prebuilt(_ATTEMPT_STATE, {"attempt_id": attempt_id}).one_or_none()
    if row is None:
        raise NotFound()
    if row.user_id != user.id:
        raise Forbidden()
    if row.state != "open":
        return False
    if timing.is_overdue(row.deadline, now, grace_seconds()):
        return load_attempt_for(user, attempt_id, now).is_open  # finalizes it
    return True


# --- starting: draw, order, pin -----------------------------------------------------------------

# The start's three writes (see _begin), built once like its reads.
_NEW_ATTEMPT = insert(ExamAttempt.__table__).returning(ExamAttempt.id)
_NEW_SLOTS = insert(AttemptQuestion.__table__)
_EMPTY_ANSWERS = insert(AttemptAnswer.__table__).from_select(
    ["attempt_question_id", "response", "seq", "saved_at", "marker_comment"],
    select(AttemptQuestion.id, literal(None, AttemptAnswer.response.type), literal(0, BigInteger),
           bindparam("now", type_=AttemptAnswer.saved_at.type), literal(""))
    .where(AttemptQuestion.attempt_id == bindparam("attempt_id")))


def start_attempt(user: User, exam: Exam, now: datetime, *, rng: random.Random | None = None) -> ExamAttempt:
    """Start a new attempt, or return the open one (a second click, another device).

    Raises ExamLocked, ExamNotOpenYet, ExamClosed, AttemptLimitReached, RetakeNotYet, ExamEmpty.
    Two starts in the same instant give one attempt: the database refuses the second number n+1.
    """
    return db.session.get(ExamAttempt, begin_attempt(user, exam, now, rng=rng))


def begin_attempt(user: User, exam: Exam, now: datetime, *, rng: random.Random | None = None) -> int:
    """start_attempt without loading the attempt afterwards: its id."""
    return _begin(user, exam, now, rng)[0]


@dataclass(frozen=True)
class NewSitting:
    """What the sitting page reads of an attempt just inserted, as the start knows it: nothing is
    read back from the database."""

    id: int
    number: int
    deadline: datetime
    exam: Exam
    drawn: list[Drawn]  # its questions, in order


def begin_sitting(user: User, exam: Exam, now: datetime, *, rng: random.Random | None = None
                  ) -> tuple[ExamAttempt | NewSitting, list[Slot]]:
    """What the Start button answers with: the attempt (the open one, or the new one as a NewSitting)
    and its sheet. A new attempt's slots are made from the draw itself (every answer is still
    empty), not read back."""
    attempt_id, sitting = _begin(user, exam, now, rng)
    if sitting is None:
        attempt = db.session.get(ExamAttempt, attempt_id)
        return attempt, load_sheet(attempt)
    return sitting, [_slot(_DrawnRow(position, d), d.version, review=False) for position, d in enumerate(sitting.drawn)]


def _begin(user: User, exam: Exam, now: datetime, rng: random.Random | None) -> tuple[int, NewSitting | None]:
    """The attempt's id and, when this call made it, the new sitting (None: the open attempt was there).

    The attempt and its slots are three INSERT statements whatever the exam's size: the attempt,
    its pinned questions (one executemany), and their empty answer rows (INSERT ... SELECT), so
    every save is one conditional UPDATE.
    """
    status = exam_status(user, exam, now, for_start=True)
    if status.open_attempt is not None:
        return status.open_attempt.id, None
    blocker = status.blocker
    if blocker == "locked":
        raise ExamLocked()
    if blocker == timing.NOT_YET:
        raise ExamNotOpenYet(exam.opens_at)
    if blocker == timing.CLOSED:
        raise ExamClosed()
    if blocker == "limit":
        raise AttemptLimitReached()
    if blocker == "wait":
        raise RetakeNotYet(status.retake_at)

    earlier = status.attempts + status.earlier
    drawn = draw_questions(exam, user, rng or random.Random(), first_attempt=not earlier)
    if not drawn:
        raise ExamEmpty()
    number = max((a.number for a in earlier), default=0) + 1
    deadline = timing.deadline_for(now, exam.time_limit_minutes, exam.closes_at)
    try:
        attempt_id = run_prebuilt(_NEW_ATTEMPT, {
            "exam_id": exam.id, "user_id": user.id, "number": number, "state": "open", "started_at": now,
            "deadline": deadline, "auto_submitted": False,
            "max_score": sum(d.points for d in drawn)}).scalar_one()
    except IntegrityError:
        db.session.rollback()
        winner = db.session.scalar(select(ExamAttempt).where(
            ExamAttempt.exam_id == exam.id, ExamAttempt.user_id == user.id, ExamAttempt.number == number))
        if winner is None or winner.state != "open":
            raise
        return winner.id, None
    run_prebuilt(_NEW_SLOTS, [
        {"attempt_id": attempt_id, "position": position, "question_id": d.question_id,
         "question_version_id": d.version_id, "question_type": d.type, "option_order": d.order, "points": d.points}
        for position, d in enumerate(drawn)])
    run_prebuilt(_EMPTY_ANSWERS, {"attempt_id": attempt_id, "now": now})
    commit_keeping_loaded()  # the user and the exam are drawn next, on the sheet
    return attempt_id, NewSitting(attempt_id, number, deadline, exam, drawn)


@dataclass(frozen=True)
class Drawn:
    """One drawn question: the version pinned and the option order (internal ids) it is shown in."""

    question_id: int
    type: str
    version_id: int
    points: float
    order: list[str]
    version: cache.VersionInfo


@dataclass(frozen=True)
class _DrawnRow:
    """A drawn question as load_sheet's row of it reads right after the start: nothing answered."""

    position: int
    drawn: Drawn
    answer_id: None = None
    response: None = None
    seq: int = 0
    awarded: None = None
    marker_comment: str = ""

    @property
    def question_type(self) -> str:
        return self.drawn.type

    @property
    def option_order(self) -> list[str]:
        return self.drawn.order

    @property
    def points(self) -> float:
        return self.drawn.points


_CANDIDATES = (
    select(Question.id, Question.bank_id, Question.tags, Question.type, QuestionVersion.id.label("version_id"),
           QuestionVersion.created_at, QuestionVersion.content_hash)
    .join(QuestionBank, QuestionBank.id == Question.bank_id)
    .join(QuestionVersion, and_(QuestionVersion.question_id == Question.id, QuestionVersion.number == Question.version))
    .where(Question.bank_id.in_(bindparam("bank_ids", expanding=True)), Question.retired_at.is_(None),
           QuestionBank.retired_at.is_(None))
    .order_by(Question.id))


def candidates(bank_ids: set[int]) -> list:
    """The live questions of `bank_ids` with their current version, by id: one light query (no
    content), read afresh on every start and never cached, so a new, retired or re-tagged question,
    a retired bank or a question's new version reaches the very next start on every app node."""
    return run_prebuilt(_CANDIDATES, {"bank_ids": sorted(bank_ids)}).all()


def seen_counts(user_id: int, exam_id: int) -> dict[int, int]:
    """How often each question was shown to `user_id` in earlier attempts at `exam_id`."""
    return dict(db.session.execute(
        select(AttemptQuestion.question_id, func.count())
        .join(ExamAttempt, ExamAttempt.id == AttemptQuestion.attempt_id)
        .where(ExamAttempt.user_id == user_id, ExamAttempt.exam_id == exam_id)
        .group_by(AttemptQuestion.question_id)).all())


def draw_questions(exam: Exam, user: User, rng: random.Random, *, first_attempt: bool = False) -> list[Drawn]:
    """Pick each pool's questions at random among the live ones carrying all its tags, preferring
    those this user has not seen in earlier attempts (then the least seen), never the same twice;
    then order them (shuffled if the exam says so) and fix each question's option order.
    Reads the candidates (one query), what earlier attempts showed (one more, unless `first_attempt`:
    nothing was shown yet) and only the drawn versions' content (cached: versions never change)."""
    rows = candidates({pool.bank_id for pool in exam.pools})
    seen = {} if first_attempt else seen_counts(user.id, exam.id)
    taken: set[int] = set()
    drawn: list = []
    for pool in sorted(exam.pools, key=lambda p: p.position):
        wanted = set(pool.tags or [])
        matching = [row for row in rows if row.bank_id == pool.bank_id and row.id not in taken
                    and wanted <= set(row.tags or [])]
        rng.shuffle(matching)
        matching.sort(key=lambda row: seen.get(row.id, 0))  # stable: random among equally seen
        picked = matching[:pool.count]
        if not exam.shuffle_questions:
            picked.sort(key=lambda row: row.id)
        taken.update(row.id for row in picked)
        drawn.extend(picked)
    if exam.shuffle_questions:
        rng.shuffle(drawn)
    versions = cache.versions([cache.version_key(row.version_id, row.created_at, row.content_hash) for row in drawn])
    result = []
    for row in drawn:
        kind = QUESTION_TYPES[row.type]
        version = versions[row.version_id]
        order = list(kind.option_ids(version.data))
        if exam.shuffle_options or kind.always_shuffle:
            rng.shuffle(order)
        result.append(Drawn(row.id, row.type, row.version_id, version.points, order, version))
    return result


# --- the sheet: what the take, review and marking pages show of each slot -----------------------

@dataclass
class Slot:
    position: int
    type: str
    stem_html: str
    points: float
    public: dict
    saved: Any  # the stored response as the browser expresses it
    seq: int
    answered: bool
    awarded: float | None = None
    review: dict | None = None  # right answers, feedback, explanation: only when review is open
    marker_comment: str = ""
    response_text: str | None = None  # essays and blanks, for markers
    version_key: tuple = ()  # (version id, option order): what the sheet's HTML depends on besides the answer

    @property
    def number(self) -> int:
        return self.position + 1

    @property
    def label(self) -> str:
        return str(QUESTION_TYPES[self.type].label)


def load_sheet(attempt: ExamAttempt, *, review: bool = False) -> list[Slot]:
    """Every slot of `attempt` with its saved response, in one query whatever the exam's size (plus
    one for versions this process has not met yet: their content is immutable and cached).
    With `review`, each slot also carries the key, feedback and explanation."""
    rows = db.session.execute(
        select(AttemptQuestion.position, AttemptQuestion.question_type, AttemptQuestion.option_order,
               AttemptQuestion.points, AttemptQuestion.question_version_id, QuestionVersion.created_at,
               QuestionVersion.content_hash, AttemptAnswer.id.label("answer_id"), AttemptAnswer.response,
               AttemptAnswer.seq, AttemptAnswer.points.label("awarded"), AttemptAnswer.marker_comment)
        .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
        .outerjoin(AttemptAnswer, AttemptAnswer.attempt_question_id == AttemptQuestion.id)
        .where(AttemptQuestion.attempt_id == attempt.id)
        .order_by(AttemptQuestion.position)).all()
    versions = cache.versions([cache.version_key(row.question_version_id, row.created_at, row.content_hash)
                               for row in rows])
    return [_slot(row, versions[row.question_version_id], review=review) for row in rows]


def _slot(row, version: cache.VersionInfo, *, review: bool) -> Slot:
    kind = QUESTION_TYPES[row.question_type]
    data = version.data
    answered_row = row.answer_id is not None
    response = row.response if answered_row else None
    slot = Slot(
        position=row.position, type=row.question_type, stem_html=version.stem_html, points=row.points,
        public=kind.public(data, row.option_order), saved=kind.public_response(data, row.option_order, response),
        seq=row.seq if answered_row else 0, answered=response is not None,
        awarded=row.awarded if answered_row else None,
        marker_comment=(row.marker_comment or "") if answered_row else "",
        response_text=response if isinstance(response, str) else None,
        version_key=(version.id, tuple(row.option_order)),
    )
    if review:
        slot.review = review_view(row.question_type, data, row.option_order, response)
        slot.review["explanation_html"] = version.explanation_html
    return slot


def review_view(kind: str, data: dict, order: list[str], response: Any) -> dict:
    """The agent's response beside the right answer, in the order the attempt showed."""
    if kind in ("single", "multi"):
        by_id = {o["id"]: o for o in data["options"]}
        chosen = set(response if isinstance(response, list) else [response] if response else [])
        return {"options": [{"text": by_id[i]["text"], "chosen": i in chosen, "right": by_id[i].get("weight", 0) > 0,
                             "feedback": by_id[i].get("feedback", "") if i in chosen else ""}
                            for i in order if i in by_id]}
    if kind == "truefalse":
        return {"given": response, "answer": data["answer"]}
    if kind == "fill":
        return {"given": response, "answers": [
            {"answer": answer, "percent": round(weight * 100, 2) if weight < 1 else None}
            for answer, weight, _margin in FillBlank.accepted(data)]}
    if kind == "matching":
        choices = {p["id"]: p["right"] for p in data["pairs"]}
        choices.update({d["id"]: d["text"] for d in data.get("distractors", [])})
        shared = Matching.choice_ids(data)
        given = response or {}
        return {"items": [{"left": p["left"], "given": choices.get(given.get(p["id"])), "right": p["right"],
                           "ok": given.get(p["id"]) == shared[p["id"]]} for p in data["pairs"]]}
    return {"given": response, "guidance": data.get("guidance", "")}


# --- closing and grading -------------------------------------------------------------------------

def submit_attempt(user: User, attempt_id: int, now: datetime, *, time_up: bool = False) -> ExamAttempt:
    """Finish and grade the user's attempt (`time_up`: the page sent it because the time ran out).
    Submitting a finished attempt again changes nothing."""
    attempt = load_attempt_for(user, attempt_id, now)
    if attempt.state == "open":
        _finalize(attempt, now, auto=time_up)
        db.session.commit()
    return attempt


def finalize_if_overdue(attempt: ExamAttempt, now: datetime) -> bool:
    """Close and grade an open attempt past its deadline + allowance; True if this call did."""
    if attempt.state != "open" or not timing.is_overdue(attempt.deadline, now, grace_seconds()):
        return False
    closed = _finalize(attempt, now, auto=True)
    db.session.commit()
    return closed


def close_expired_attempts(now: datetime, *, exam_id: int | None = None) -> int:
    """Finalize every open attempt past deadline + allowance (all exams, or one); how many closed."""
    cutoff = now - timedelta(seconds=grace_seconds())
    query = select(ExamAttempt.id).where(ExamAttempt.state == "open", ExamAttempt.deadline < cutoff)
    if exam_id is not None:
        query = query.where(ExamAttempt.exam_id == exam_id)
    closed = 0
    for attempt_id in list(db.session.scalars(query)):
        attempt = db.session.get(ExamAttempt, attempt_id)
        closed += finalize_if_overdue(attempt, now)
    return closed


def _finalize(attempt: ExamAttempt, now: datetime, *, auto: bool) -> bool:
    """Claim the open attempt (a conditional update, so two closers cannot both grade it), grade
    every slot against its pinned version, and write the record entry unless essays wait.
    Does not commit. False when someone else closed it first."""
    ended = min(now, attempt.deadline) if auto else now
    claimed = db.session.execute(
        update(ExamAttempt).where(ExamAttempt.id == attempt.id, ExamAttempt.state == "open")
        .values(state="pending", submitted_at=ended, auto_submitted=auto)
        .execution_options(synchronize_session=False)).rowcount
    db.session.expire(attempt)
    if not claimed:
        return False
    questions = list(db.session.scalars(
        select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
        .options(joinedload(AttemptQuestion.version), joinedload(AttemptQuestion.answer))
        .order_by(AttemptQuestion.position).execution_options(populate_existing=True)))
    for aq in questions:
        answer = aq.answer
        if answer is None:
            answer = aq.answer = AttemptAnswer(response=None, seq=0, saved_at=ended)
        answer.points = QUESTION_TYPES[aq.question_type].grade(aq.version.data, answer.response).points(aq.points)
    attempt.max_score = sum(aq.points for aq in questions)
    if any(aq.answer.points is None for aq in questions):
        attempt.state = "pending"
    else:
        complete(attempt, questions, now, recorded_by=None)
    return True


def complete(attempt: ExamAttempt, questions: list[AttemptQuestion], now: datetime, *,
             recorded_by: User | None) -> None:
    """Every slot has its points: total, pass mark, band, and the entry in the training record
    (when the closer graded every slot, or the last essay's marker did: lms/exams/marking.py)."""
    exam = attempt.exam
    score = round(sum(aq.answer.points for aq in questions), 4)
    attempt.score = score
    attempt.percent = round(grading.percent_of(score, attempt.max_score), 2)
    attempt.passed = grading.is_pass(score, attempt.max_score, exam.pass_percent)
    attempt.band = band_for(attempt.percent, attempt.passed)
    attempt.graded_at = now
    attempt.state = "graded"
    attempt.record_entry = add_entry(
        user=attempt.user, kind="exam", title=exam.title, course=exam.course, score=score,
        max_score=attempt.max_score, passed=attempt.passed, source_type="exam_attempt", source_id=attempt.id,
        recorded_by=recorded_by, occurred_at=attempt.submitted_at,
        details={"attempt_id": attempt.id, "exam_id": exam.id, "exam_slug": exam.slug, "attempt": attempt.number,
                 "auto_submitted": attempt.auto_submitted, "pass_percent": exam.pass_percent,
                 "question_version_ids": [aq.question_version_id for aq in questions]},
    )
    if exam.course is not None and attempt.passed:
        completion.record_completions(attempt.user, now)
    _notify_result(attempt, essay_marked=recorded_by is not None, now=now)


def _notify_result(attempt: ExamAttempt, *, essay_marked: bool, now: datetime) -> None:
    """Tell the agent the grade: "essay_marked" after a marker's grading, else "exam_result". An
    attempt the agent submitted themself shows its result at once: that notification is read already."""
    from lms.notifications.services import notify

    notify(attempt.user_id, "essay_marked" if essay_marked else "exam_result", key=f"exam_result:{attempt.id}",
           link=f"/exams/attempts/{attempt.id}/result", now=now, seen=not essay_marked and not attempt.auto_submitted,
           params={"exam": attempt.exam.title, "percent": attempt.percent, "passed": attempt.passed})
