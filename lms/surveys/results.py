"""Survey results: aggregates of the anonymous answers, per course, per session, per instructor, and
the overview. Nobody sees a single answer: a group of fewer than `MIN_ANSWERS` answers shows
nothing but its count. Trainers and admins see every group; an instructor sees the sessions they
gave and the courses of those sessions.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound

from lms.extensions import db
from lms.models import Course, RecordEntry, User
from lms.models.classroom import ClassSession
from lms.models.surveys import SurveyAnswer, SurveyTemplate
from lms.records.completion import in_force
from lms.surveys.services import ATTENDANCE_SOURCE

MIN_ANSWERS = 3  # a group with fewer answers shows nothing: one answer must never be readable


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
