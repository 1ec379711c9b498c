"""Training-effect surveys for the agent: what waits to be answered, and answering it.

What waits is computed, not stored: every course completion in force of the last `WINDOW_DAYS`
and every classroom session attended in that time, minus the subjects the agent answered. An
answer is written as two rows in one commit: `SurveyResponse` (this person answered this subject)
and the anonymous `SurveyAnswer` (what was answered, no person, the date only). The package's base
error `SurveyError` lives here; the templates are authored in `authoring`, the aggregates read in
`results`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound

from lms.clock import center_zone
from lms.extensions import db
from lms.models import Course, RecordEntry, User
from lms.models.classroom import ClassSession
from lms.models.surveys import SUBJECT_TYPES, SurveyAnswer, SurveyResponse, SurveyTemplate
from lms.records.completion import in_force

WINDOW_DAYS = 90  # a completion or a session older than this no longer asks for a survey
MAX_TEXT = 2000  # a text answer or the comment
RATINGS = range(1, 6)
ATTENDANCE_SOURCE = "class_session"


# --- errors ----------------------------------------------------------------------------------------

class SurveyError(Exception):
    pass


class AlreadyAnswered(SurveyError):
    """This person has answered this subject's survey."""


class InvalidAnswers(SurveyError):
    """`errors` maps a field ("course_rating", "instructor_rating", a question id, "comment") to a message."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(errors)
        self.errors = errors


# --- subjects: what an agent may answer ------------------------------------------------------------

@dataclass
class Subject:
    """A course completed or a session attended, whose survey an agent is asked."""

    subject_type: str  # "course" | "session"
    subject_id: int
    title: str
    course_id: int | None
    instructor_id: int | None
    instructor_name: str
    when: datetime  # the completion, or the attendance
    template_id: int | None = None

    @property
    def key(self) -> str:
        return f"{self.subject_type}:{self.subject_id}"

    @property
    def link(self) -> str:
        return f"/surveys/{self.subject_type}/{self.subject_id}"


def _answered(subject_type: str, subject_id_column):
    return exists().where(SurveyResponse.user_id == RecordEntry.user_id,
                          SurveyResponse.subject_type == subject_type,
                          SurveyResponse.subject_id == subject_id_column)


def waiting_by_user(now: datetime, user_ids: Iterable[int] | None = None, *,
                    subject: tuple[str, int] | None = None, asked_only: bool = True) -> dict[int, list[Subject]]:
    """Every survey waiting, by user id (active users only; `user_ids` None: everyone), newest
    first, in four queries whatever the number of agents. Subjects with no template to ask are left
    out (unless `asked_only` is False: their template_id is None then)."""
    since = now - timedelta(days=WINDOW_DAYS)
    ids = None if user_ids is None else list(set(user_ids))
    if ids is not None and not ids:
        return {}
    waiting: dict[int, list[Subject]] = defaultdict(list)

    def scoped(query):
        query = query.join(User, User.id == RecordEntry.user_id).where(
            User.active.is_(True), RecordEntry.passed.is_(True), RecordEntry.occurred_at >= since, in_force())
        return query if ids is None else query.where(RecordEntry.user_id.in_(ids))

    if subject is None or subject[0] == "course":
        query = scoped(
            select(RecordEntry.user_id, RecordEntry.course_id, Course.title, func.max(RecordEntry.occurred_at))
            .join(Course, Course.id == RecordEntry.course_id)
            .where(RecordEntry.kind == "course", ~_answered("course", RecordEntry.course_id))
            .group_by(RecordEntry.user_id, RecordEntry.course_id, Course.title))
        if subject is not None:
            query = query.where(RecordEntry.course_id == subject[1])
        for user_id, course_id, title, when in db.session.execute(query):
            waiting[user_id].append(Subject("course", course_id, title, course_id, None, "", when))
    if subject is None or subject[0] == "session":
        query = scoped(
            select(RecordEntry.user_id, ClassSession.id, func.max(RecordEntry.occurred_at))
            .join(ClassSession, ClassSession.id == RecordEntry.source_id)
            .where(RecordEntry.kind == "attendance", RecordEntry.source_type == ATTENDANCE_SOURCE,
                   ClassSession.cancelled_at.is_(None), ~_answered("session", RecordEntry.source_id))
            .group_by(RecordEntry.user_id, ClassSession.id))
        if subject is not None:
            query = query.where(RecordEntry.source_id == subject[1])
        rows = db.session.execute(query).all()
        sessions = {s.id: s for s in db.session.scalars(
            select(ClassSession).where(ClassSession.id.in_({row[1] for row in rows}))
            .options(selectinload(ClassSession.instructor)))} if rows else {}
        for user_id, session_id, when in rows:
            session = sessions[session_id]
            waiting[user_id].append(Subject(
                "session", session.id, session.title, session.course_id, session.instructor_id,
                session.instructor.name if session.instructor else "", when, session.survey_template_id))
    _attach_templates([s for subjects in waiting.values() for s in subjects])
    result = {}
    for user_id, subjects in waiting.items():
        kept = sorted((s for s in subjects if s.template_id is not None or not asked_only),
                      key=lambda s: (s.when, s.key), reverse=True)
        if kept:
            result[user_id] = kept
    return result


def _attach_templates(subjects: list[Subject]) -> None:
    """The template each subject asks: a session's own (if it is a session template), else the default."""
    if not subjects:
        return
    own = {s.template_id for s in subjects if s.template_id is not None}
    templates = db.session.scalars(select(SurveyTemplate).where(
        SurveyTemplate.is_default.is_(True) | SurveyTemplate.id.in_(own))).all()
    defaults = {t.applies_to: t.id for t in templates if t.is_default}
    session_templates = {t.id for t in templates if t.applies_to == "session"}
    for s in subjects:
        if s.subject_type == "session" and s.template_id in session_templates:
            continue
        s.template_id = defaults.get(s.subject_type)


def waiting_surveys(user: User, now: datetime) -> list[Subject]:
    """The surveys waiting for `user`, newest first (the home page's list)."""
    return waiting_by_user(now, [user.id]).get(user.id, [])


def load_subject_for(user: User, subject_type: str, subject_id: int, now: datetime) -> tuple[Subject, SurveyTemplate]:
    """The subject `user` may answer now with its template. NotFound: no such course or session, or
    no template to ask; AlreadyAnswered; Forbidden: not completed or not attended (in the window)."""
    if subject_type not in SUBJECT_TYPES:
        raise NotFound()
    if db.session.get(Course if subject_type == "course" else ClassSession, subject_id) is None:
        raise NotFound()
    if db.session.get(SurveyResponse, (user.id, subject_type, subject_id)) is not None:
        raise AlreadyAnswered()
    subjects = waiting_by_user(now, [user.id], subject=(subject_type, subject_id), asked_only=False).get(user.id, [])
    if not subjects:
        raise Forbidden()
    subject = subjects[0]
    if subject.template_id is None:
        raise NotFound()  # no survey is set up for this kind of subject
    return subject, db.session.get(SurveyTemplate, subject.template_id)


# --- answering ---------------------------------------------------------------------------------------

def _rating(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number in RATINGS and str(value).strip() == str(number) else None


def clean_answers(template: SurveyTemplate, subject: Subject, course_rating: Any, instructor_rating: Any,
                  answers: dict[str, Any], comment: str | None) -> tuple[int, int | None, dict[str, Any], str]:
    """The answers checked against the template: ratings 1-5, a choice among the options offered,
    required questions answered, texts not too long. Raises InvalidAnswers."""
    errors: dict[str, Any] = {}
    course = _rating(course_rating)
    if course is None:
        errors["course_rating"] = _l("Choose a rating from 1 to 5.")
    instructor = None
    if subject.instructor_id is not None:
        instructor = _rating(instructor_rating)
        if instructor is None:
            errors["instructor_rating"] = _l("Choose a rating from 1 to 5.")
    cleaned: dict[str, Any] = {}
    for question in template.questions or []:
        qid, raw = question["id"], answers.get(question["id"])
        empty = raw is None or (isinstance(raw, str) and not raw.strip())
        if empty:
            if question.get("required"):
                errors[qid] = _l("Answer this question.")
            continue
        if question["kind"] == "rating":
            value = _rating(raw)
            if value is None:
                errors[qid] = _l("Choose a rating from 1 to 5.")
        elif question["kind"] == "choice":
            value = _rating_index(raw, len(question.get("options") or []))
            if value is None:
                errors[qid] = _l("Choose one of the options offered.")
        else:
            value = str(raw).strip()
            if len(value) > MAX_TEXT:
                errors[qid] = _l("At most %(n)s characters.", n=MAX_TEXT)
        if qid not in errors:
            cleaned[qid] = value
    comment = (comment or "").strip()
    if len(comment) > MAX_TEXT:
        errors["comment"] = _l("At most %(n)s characters.", n=MAX_TEXT)
    if errors:
        raise InvalidAnswers(errors)
    return course, instructor, cleaned, comment


def _rating_index(value: Any, count: int) -> int | None:
    try:
        index = int(value)
    except (TypeError, ValueError):
        return None
    return index if 0 <= index < count and str(value).strip() == str(index) else None


def submit_answer(user: User, subject: Subject, template: SurveyTemplate, *, course_rating: Any,
                  instructor_rating: Any = None, answers: dict[str, Any] | None = None, comment: str | None = "",
                  now: datetime) -> None:
    """Record that `user` answered `subject` and, apart, the anonymous answer; one commit.
    Raises InvalidAnswers, or AlreadyAnswered (a second submission, even a simultaneous one)."""
    course, instructor, cleaned, comment = clean_answers(template, subject, course_rating, instructor_rating,
                                                         answers or {}, comment)
    db.session.add(SurveyResponse(user_id=user.id, subject_type=subject.subject_type, subject_id=subject.subject_id))
    db.session.add(SurveyAnswer(
        template_id=template.id, subject_type=subject.subject_type, subject_id=subject.subject_id,
        course_id=subject.course_id, instructor_id=subject.instructor_id, course_rating=course,
        instructor_rating=instructor, answers=cleaned, comment=comment,
        answered_on=now.astimezone(center_zone()).date()))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyAnswered() from None
