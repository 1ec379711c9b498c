"""Training-effect surveys: what waits for an agent, answering, templates, and aggregate results.

What waits is computed, not stored: every course completion in force of the last `WINDOW_DAYS`
and every classroom session attended in that time, minus the subjects the agent answered. An
answer is written as two rows in one commit: `SurveyResponse` (this person answered this subject)
and the anonymous `SurveyAnswer` (what was answered, no person, the date only).

Nobody sees a single answer: results are aggregates of a group of at least `MIN_ANSWERS` answers;
a smaller group shows nothing but its count. Trainers and admins see every group; an instructor
sees the sessions they gave and the courses of those sessions.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
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
from lms.models.surveys import QUESTION_KINDS, SUBJECT_TYPES, SurveyAnswer, SurveyResponse, SurveyTemplate
from lms.records.completion import in_force
from lms.records.services import audit

MIN_ANSWERS = 3  # a group with fewer answers shows nothing: one answer must never be readable
WINDOW_DAYS = 90  # a completion or a session older than this no longer asks for a survey
MAX_QUESTIONS = 10
MAX_OPTIONS = 10
MAX_PROMPT = 300
MAX_OPTION = 200
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


class InvalidTemplate(SurveyError):
    """`errors` maps a question row's index (or None for the whole list) to a message."""

    def __init__(self, errors: dict[int | None, Any]):
        super().__init__(errors)
        self.errors = errors


class TemplateHasAnswers(SurveyError):
    """The questions (or what it applies to) of a template that has answers cannot change: copy it."""


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


# --- templates ---------------------------------------------------------------------------------------

def check_questions(rows: list[dict[str, Any]], existing: list[dict[str, Any]] | None = None
                    ) -> list[dict[str, Any]]:
    """The questions from the editor's rows ({"id", "kind", "prompt", "options": text or list,
    "required"}): blank rows dropped, ids kept when they are the template's own, new ones given.
    Raises InvalidTemplate: a prompt missing, a choice with fewer than 2 options, more than 10."""
    errors: dict[int | None, Any] = {}
    questions = []
    known = {q["id"] for q in existing or []}
    numbers = [int(qid[1:]) for qid in known if qid[1:].isdigit()]
    next_number = max(numbers, default=0) + 1
    used: set[str] = set()
    for index, row in enumerate(rows):
        prompt = (row.get("prompt") or "").strip()
        options = row.get("options") or []
        if isinstance(options, str):
            options = options.splitlines()
        options = list(dict.fromkeys(option.strip() for option in options if option and option.strip()))
        kind = row.get("kind") or "rating"
        if not prompt and not (kind == "choice" and options):
            continue  # an empty row of the editor
        if kind not in QUESTION_KINDS:
            errors[index] = _l("Choose the kind of question.")
        elif not prompt:
            errors[index] = _l("Write the question.")
        elif len(prompt) > MAX_PROMPT:
            errors[index] = _l("A question has at most %(n)s characters.", n=MAX_PROMPT)
        elif kind == "choice" and len(options) < 2:
            errors[index] = _l("A choice question needs at least 2 options, one per line.")
        elif kind == "choice" and (len(options) > MAX_OPTIONS or any(len(o) > MAX_OPTION for o in options)):
            errors[index] = _l("At most %(n)s options of %(m)s characters each.", n=MAX_OPTIONS, m=MAX_OPTION)
        qid = row.get("id") or ""
        if qid not in known or qid in used:
            qid = f"q{next_number}"
            next_number += 1
        used.add(qid)
        questions.append({"id": qid, "kind": kind, "prompt": prompt,
                          "options": options if kind == "choice" else [], "required": bool(row.get("required"))})
    if len(questions) > MAX_QUESTIONS:
        errors[None] = _l("At most %(n)s questions.", n=MAX_QUESTIONS)
    if errors:
        raise InvalidTemplate(errors)
    return questions


def answer_counts() -> dict[int, int]:
    """How many answers each template has (one query)."""
    return dict(db.session.execute(
        select(SurveyAnswer.template_id, func.count()).group_by(SurveyAnswer.template_id)).all())


def has_answers(template: SurveyTemplate) -> bool:
    return db.session.scalar(select(exists().where(SurveyAnswer.template_id == template.id))) or False


def list_templates() -> list[SurveyTemplate]:
    return list(db.session.scalars(select(SurveyTemplate).order_by(
        SurveyTemplate.applies_to, SurveyTemplate.is_default.desc(), SurveyTemplate.name, SurveyTemplate.id)))


def load_template(template_id: int) -> SurveyTemplate:
    template = db.session.get(SurveyTemplate, template_id)
    if template is None:
        raise NotFound()
    return template


def template_choices(applies_to: str = "session") -> list[tuple[int, str]]:
    """(id, name) of the templates for `applies_to`, e.g. for a session's survey select."""
    return [(t.id, t.name) for t in list_templates() if t.applies_to == applies_to]


def _make_default(template: SurveyTemplate) -> None:
    for other in db.session.scalars(select(SurveyTemplate).where(
            SurveyTemplate.applies_to == template.applies_to, SurveyTemplate.is_default.is_(True),
            SurveyTemplate.id != (template.id or -1))):
        other.is_default = False
    template.is_default = True


def save_template(actor: User, template: SurveyTemplate | None, *, name: str, applies_to: str,
                  rows: list[dict[str, Any]], make_default: bool = False, now: datetime) -> SurveyTemplate:
    """Create or edit a template; commits. The first template for courses (or sessions) becomes
    their default. Raises InvalidTemplate, TemplateHasAnswers (questions or applies_to changed
    on a template that has answers)."""
    if applies_to not in SUBJECT_TYPES:
        raise InvalidTemplate({None: _l("Choose what the survey is for.")})
    questions = check_questions(rows, template.questions if template is not None else None)
    if template is not None and has_answers(template) and (
            questions != template.questions or applies_to != template.applies_to):
        raise TemplateHasAnswers()
    if template is None:
        template = SurveyTemplate(created_by_id=actor.id, created_at=now, is_default=False)
        db.session.add(template)
    elif template.applies_to != applies_to and template.is_default:
        template.is_default = False
    template.name, template.applies_to, template.questions, template.updated_at = name.strip(), applies_to, \
        questions, now
    first = not db.session.scalar(select(exists().where(SurveyTemplate.applies_to == applies_to,
                                                        SurveyTemplate.is_default.is_(True),
                                                        SurveyTemplate.id != (template.id or -1))))
    if make_default or first:
        _make_default(template)
    db.session.flush()
    audit(actor, "survey_template_saved", "survey_template", template.id, name=template.name,
          applies_to=applies_to, questions=len(questions))
    db.session.commit()
    return template


def duplicate_template(actor: User, template: SurveyTemplate, name: str, now: datetime) -> SurveyTemplate:
    """A copy (same questions and ids, not the default) to edit where the original has answers; commits."""
    copy = SurveyTemplate(name=name[:200], applies_to=template.applies_to,
                          questions=[dict(q, options=list(q.get("options") or [])) for q in template.questions],
                          is_default=False, created_by_id=actor.id, created_at=now, updated_at=now)
    db.session.add(copy)
    db.session.flush()
    audit(actor, "survey_template_duplicated", "survey_template", copy.id, source=template.id)
    db.session.commit()
    return copy


def set_default(actor: User, template: SurveyTemplate, now: datetime) -> None:
    """Make `template` the one asked after every course (or session without its own); commits."""
    _make_default(template)
    template.updated_at = now
    audit(actor, "survey_template_default", "survey_template", template.id, applies_to=template.applies_to)
    db.session.commit()


# --- results -----------------------------------------------------------------------------------------

@dataclass
class QuestionResult:
    question: dict[str, Any]
    count: int = 0  # answers that answered it
    average: float | None = None  # a rating question's
    choices: list[tuple[str, int]] = field(default_factory=list)  # a choice question's (option, times chosen)
    texts: list[str] = field(default_factory=list)  # a text question's, sorted


@dataclass
class TemplateSection:
    """The template's own questions, over the group's answers given with it."""

    template: SurveyTemplate
    count: int
    questions: list[QuestionResult] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.count >= MIN_ANSWERS


@dataclass
class Aggregate:
    """A group of answers as anyone may see it: with fewer than MIN_ANSWERS, only the count."""

    count: int
    eligible: int
    course_rating: float | None = None
    instructor_rating: float | None = None
    sections: list[TemplateSection] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # sorted, never in the order given

    @property
    def shown(self) -> bool:
        return self.count >= MIN_ANSWERS

    @property
    def response_rate(self) -> float | None:
        return round(100.0 * self.count / self.eligible, 1) if self.eligible else None


def _average(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def aggregate(answers: list[SurveyAnswer], eligible: int) -> Aggregate:
    """The group's aggregate. Below MIN_ANSWERS nothing but the count is computed, so nothing else
    can reach a page; a template's section below MIN_ANSWERS shows nothing either."""
    result = Aggregate(count=len(answers), eligible=max(eligible, len(answers)))
    if not result.shown:
        return result
    result.course_rating = _average([a.course_rating for a in answers])
    result.instructor_rating = _average([a.instructor_rating for a in answers if a.instructor_rating is not None])
    result.comments = sorted(a.comment for a in answers if a.comment)
    by_template: dict[int, list[SurveyAnswer]] = defaultdict(list)
    for answer in answers:
        by_template[answer.template_id].append(answer)
    for given in sorted(by_template.values(), key=len, reverse=True):
        section = TemplateSection(given[0].template, len(given))
        result.sections.append(section)
        if not section.shown:
            continue
        for question in section.template.questions:
            values = [a.answers[question["id"]] for a in given if question["id"] in (a.answers or {})]
            item = QuestionResult(question, count=len(values))
            if question["kind"] == "rating":
                item.average = _average(values)
            elif question["kind"] == "choice":
                options = question.get("options") or []
                item.choices = [(option, values.count(index)) for index, option in enumerate(options)]
            else:
                item.texts = sorted(values)
            section.questions.append(item)
    return result


def _answers(*conditions) -> list[SurveyAnswer]:
    return list(db.session.scalars(select(SurveyAnswer).where(*conditions)
                                   .options(selectinload(SurveyAnswer.template))))


def _completed_counts(course_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Agents with a completion in force, by course (one query)."""
    query = (select(RecordEntry.course_id, func.count(func.distinct(RecordEntry.user_id)))
             .where(RecordEntry.kind == "course", RecordEntry.passed.is_(True), in_force(),
                    RecordEntry.course_id.is_not(None))
             .group_by(RecordEntry.course_id))
    if course_ids is not None:
        query = query.where(RecordEntry.course_id.in_(list(course_ids)))
    return dict(db.session.execute(query).all())


def _attended_counts(session_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Agents who attended, by session (one query)."""
    query = (select(RecordEntry.source_id, func.count(func.distinct(RecordEntry.user_id)))
             .where(RecordEntry.kind == "attendance", RecordEntry.source_type == ATTENDANCE_SOURCE,
                    RecordEntry.passed.is_(True), in_force())
             .group_by(RecordEntry.source_id))
    if session_ids is not None:
        query = query.where(RecordEntry.source_id.in_(list(session_ids)))
    return dict(db.session.execute(query).all())


def sees_everything(user: User) -> bool:
    return user.has_role("trainer", "admin")


def _instructed(user: User) -> list[ClassSession]:
    return list(db.session.scalars(select(ClassSession).where(ClassSession.instructor_id == user.id)))


def may_see_results(user: User) -> bool:
    """Trainers, admins, and whoever gave a session."""
    return sees_everything(user) or db.session.scalar(
        select(exists().where(ClassSession.instructor_id == user.id))) or False


def load_course_results_for(user: User, course_id: int) -> tuple[Course, Aggregate]:
    """A course's survey results. NotFound; Forbidden unless trainer, admin, or the instructor of a
    session of this course."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound()
    if not sees_everything(user) and course_id not in {s.course_id for s in _instructed(user)}:
        raise Forbidden()
    answers = _answers(SurveyAnswer.subject_type == "course", SurveyAnswer.subject_id == course_id)
    return course, aggregate(answers, _completed_counts([course_id]).get(course_id, 0))


def load_session_results_for(user: User, session_id: int) -> tuple[ClassSession, Aggregate]:
    """A session's survey results. NotFound; Forbidden unless trainer, admin or its instructor."""
    session = db.session.get(ClassSession, session_id)
    if session is None:
        raise NotFound()
    if not sees_everything(user) and session.instructor_id != user.id:
        raise Forbidden()
    answers = _answers(SurveyAnswer.subject_type == "session", SurveyAnswer.subject_id == session_id)
    return session, aggregate(answers, _attended_counts([session_id]).get(session_id, 0))


@dataclass
class Row:
    """One line of an overview: a course, a session or an instructor, with its aggregate."""

    id: int
    title: str
    result: Aggregate
    when: datetime | None = None
    instructor_name: str = ""
    sessions: int = 0  # an instructor's sessions with answers
    total: int = 0  # an instructor's answers, in every session (the averages count sessions of MIN_ANSWERS or more)


def load_instructor_results_for(user: User, instructor_id: int) -> tuple[User, Aggregate, list[Row]]:
    """An instructor's results over their sessions. Only sessions with MIN_ANSWERS answers or more
    count in the overall figures, so subtracting one session's result from the total never reveals
    a smaller group. NotFound; Forbidden unless trainer, admin or that instructor."""
    instructor = db.session.get(User, instructor_id)
    if instructor is None:
        raise NotFound()
    if not sees_everything(user) and user.id != instructor_id:
        raise Forbidden()
    answers = _answers(SurveyAnswer.subject_type == "session", SurveyAnswer.instructor_id == instructor_id)
    by_session: dict[int, list[SurveyAnswer]] = defaultdict(list)
    for answer in answers:
        by_session[answer.subject_id].append(answer)
    sessions = list(db.session.scalars(select(ClassSession).where(
        (ClassSession.instructor_id == instructor_id) | ClassSession.id.in_(list(by_session)))
        .order_by(ClassSession.starts_at.desc())))
    attended = _attended_counts([s.id for s in sessions])
    rows = [Row(s.id, s.title, aggregate(by_session.get(s.id, []), attended.get(s.id, 0)), when=s.starts_at)
            for s in sessions if s.id in by_session or attended.get(s.id)]
    counted = [row for row in rows if row.result.shown]
    total = aggregate([a for row in counted for a in by_session[row.id]],
                      sum(attended.get(row.id, 0) for row in counted))
    return instructor, total, rows


def _summary(count: int, eligible: int, course_sum: int | None, instructor_sum: int | None,
             instructor_count: int) -> Aggregate:
    """An overview line's aggregate from SQL sums: averages only for MIN_ANSWERS answers or more."""
    result = Aggregate(count=count, eligible=max(eligible, count))
    if result.shown:
        result.course_rating = round(course_sum / count, 2) if course_sum is not None else None
        result.instructor_rating = round(instructor_sum / instructor_count, 2) if instructor_count else None
    return result


@dataclass
class Overview:
    courses: list[Row]
    sessions: list[Row]
    instructors: list[Row]


OVERVIEW_SESSIONS = 100  # the latest sessions listed; older ones by their instructor's page


def results_overview(user: User) -> Overview:
    """Every course, session and instructor `user` may see, each with its count, response rate and
    (from MIN_ANSWERS answers) averages, in a fixed number of queries."""
    everything = sees_everything(user)
    own = [] if everything else _instructed(user)
    sums = db.session.execute(
        select(SurveyAnswer.subject_type, SurveyAnswer.subject_id, SurveyAnswer.instructor_id, func.count(),
               func.sum(SurveyAnswer.course_rating), func.sum(SurveyAnswer.instructor_rating),
               func.count(SurveyAnswer.instructor_rating))
        .group_by(SurveyAnswer.subject_type, SurveyAnswer.subject_id, SurveyAnswer.instructor_id)).all()
    course_sums: dict[int, list] = {}
    session_sums: dict[int, list] = {}
    by_instructor: dict[int, list] = defaultdict(list)  # instructor -> per-session sums
    for subject_type, subject_id, instructor_id, count, course_sum, instructor_sum, instructor_count in sums:
        target = course_sums if subject_type == "course" else session_sums
        line = target.setdefault(subject_id, [0, 0, 0, 0])
        for i, value in enumerate((count, course_sum or 0, instructor_sum or 0, instructor_count)):
            line[i] += value
        if subject_type == "session" and instructor_id is not None:
            by_instructor[instructor_id].append((subject_id, count, course_sum or 0, instructor_sum or 0,
                                                 instructor_count))
    completed = _completed_counts(None if everything else {s.course_id for s in own if s.course_id})
    course_ids = set(completed) | set(course_sums)
    if not everything:
        course_ids &= {s.course_id for s in own}
    courses = db.session.scalars(select(Course).where(Course.id.in_(course_ids))
                                 .order_by(Course.star_level, Course.position, Course.id)).all() if course_ids else []
    course_rows = [Row(c.id, c.title, _course_summary(course_sums.get(c.id), completed.get(c.id, 0)))
                   for c in courses]

    query = select(ClassSession).options(selectinload(ClassSession.instructor)).where(
        ClassSession.cancelled_at.is_(None),
        ClassSession.attendance_closed_at.is_not(None) | ClassSession.id.in_(list(session_sums)))
    if not everything:
        query = query.where(ClassSession.instructor_id == user.id)
    sessions = db.session.scalars(query.order_by(ClassSession.starts_at.desc()).limit(OVERVIEW_SESSIONS)).all()
    attended = _attended_counts([s.id for s in sessions])
    session_rows = []
    for s in sessions:
        count, course_sum, instructor_sum, instructor_count = session_sums.get(s.id) or [0, 0, 0, 0]
        session_rows.append(Row(s.id, s.title, _summary(count, attended.get(s.id, 0), course_sum, instructor_sum,
                                                        instructor_count),
                                when=s.starts_at, instructor_name=s.instructor.name if s.instructor else ""))

    instructor_ids = set(by_instructor) if everything else ({user.id} if own else set())
    instructors = db.session.scalars(select(User).where(User.id.in_(instructor_ids))
                                     .order_by(User.name, User.id)).all() if instructor_ids else []
    instructor_rows = []
    for person in instructors:
        lines = by_instructor.get(person.id, [])
        counted = [line for line in lines if line[1] >= MIN_ANSWERS]  # as on the instructor's page
        count = sum(line[1] for line in counted)
        result = _summary(count, count, sum(line[2] for line in counted), sum(line[3] for line in counted),
                          sum(line[4] for line in counted))
        instructor_rows.append(Row(person.id, person.name, result, sessions=len(lines),
                                   total=sum(line[1] for line in lines)))
    return Overview(course_rows, session_rows, instructor_rows)


def _course_summary(sums: list | None, completed: int) -> Aggregate:
    count, course_sum, _, _ = sums or [0, 0, 0, 0]
    return _summary(count, completed, course_sum, None, 0)
