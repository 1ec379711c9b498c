"""What a finished attempt tells the agent beyond the grade: the provisional score while written
answers wait for a trainer, the marker's comments, and for a fail the topics missed with the
lessons that teach them.

Topics are the tags of the questions the agent lost points on. Lessons carry no tags, so a topic
is matched to the lessons of the exam's course by words (`lessons_for_topic`): a lesson whose
title names the topic teaches it (or spells it with words between, for tags of 3+ characters);
failing that, the lessons whose text mentions it most; failing
that, the course page. A standalone exam (no course) names the topic without a link, since the
agent may not be allowed to open other courses.

Nothing here reads the answer key: which questions were lost is not shown, only their tags.
Comments may quote the key, so they are only returned where the caller says the review is open.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.extensions import db
from lms.models import AttemptAnswer, AttemptQuestion, Course, ExamAttempt, Lesson, Question

MAX_TOPICS = 5  # a phone screen: the topics that cost most, the rest counted
MAX_LESSONS_PER_TOPIC = 2
_TAG = re.compile(r"<[^>]+>")


def plural_count(value: float) -> int:
    """The count ngettext chooses the form by: the number itself when whole, else one that takes
    the plural (English says "0.5 points", "2.5 points"; Chinese has one form)."""
    return int(value) if float(value).is_integer() else 2


@dataclass(frozen=True)
class SlotOutcome:
    """One question of the attempt as feedback sees it: no stem, no response, no key."""

    position: int
    points: float  # the most it could score
    awarded: float | None  # None: a written answer waiting for a marker
    tags: tuple[str, ...] = ()
    comment: str = ""

    @property
    def lost(self) -> float:
        return 0.0 if self.awarded is None else max(0.0, self.points - self.awarded)


@dataclass(frozen=True)
class Provisional:
    """The part of a pending attempt that has its points: `waiting` written answers still have none."""

    points: float
    max_points: float
    waiting: int

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points if self.max_points else 0.0

    @property
    def max_count(self) -> int:
        return plural_count(self.max_points)


@dataclass(frozen=True)
class MarkerComment:
    number: int  # the question's number as the sheet shows it
    comment: str
    awarded: float | None
    points: float


@dataclass(frozen=True)
class LessonLink:
    course_slug: str
    lesson_slug: str
    title: str


@dataclass
class MissedTopic:
    tag: str
    lost: float
    lessons: list[LessonLink] = field(default_factory=list)
    course: Course | None = None  # where to read about it when no lesson matches

    @property
    def lost_count(self) -> int:
        return plural_count(self.lost)


@dataclass
class ResultFeedback:
    provisional: Provisional | None = None
    comments: list[MarkerComment] = field(default_factory=list)
    hidden_comments: int = 0  # comments written but not shown yet (the review is not open)
    topics: list[MissedTopic] = field(default_factory=list)
    more_topics: int = 0

    @property
    def first_lesson(self) -> LessonLink | None:
        """The lesson to revise first: the first one linked to the costliest topic."""
        return next((topic.lessons[0] for topic in self.topics if topic.lessons), None)


def result_feedback(attempt: ExamAttempt, *, show_comments: bool) -> ResultFeedback:
    """Everything the result page shows of `attempt` beyond its grade, in at most two queries.

    `show_comments`: the marker's comments may be shown (the review is open for this viewer).
    """
    slots = slot_outcomes(attempt.id)
    feedback = ResultFeedback()
    if attempt.state == "pending":
        feedback.provisional = provisional(slots)
    commented = [slot for slot in slots if slot.comment]
    if show_comments:
        feedback.comments = [MarkerComment(slot.position + 1, slot.comment, slot.awarded, slot.points)
                             for slot in commented]
    else:
        feedback.hidden_comments = len(commented)
    if attempt.state == "graded" and attempt.passed is False:
        missed = missed_topics(slots)
        feedback.topics, feedback.more_topics = missed[:MAX_TOPICS], max(0, len(missed) - MAX_TOPICS)
        course = attempt.exam.course
        if feedback.topics and course is not None:
            lessons = course_lessons(course.id)
            for topic in feedback.topics:
                topic.course = course
                topic.lessons = [LessonLink(course.slug, lesson.slug, lesson.title)
                                 for lesson in lessons_for_topic(topic.tag, lessons)]
    return feedback


def slot_outcomes(attempt_id: int) -> list[SlotOutcome]:
    """Points, tags and comment of every question of the attempt, by position, in one query."""
    rows = db.session.execute(
        select(AttemptQuestion.position, AttemptQuestion.points, AttemptAnswer.points, AttemptAnswer.marker_comment,
               Question.tags)
        .join(Question, Question.id == AttemptQuestion.question_id)
        .outerjoin(AttemptAnswer, AttemptAnswer.attempt_question_id == AttemptQuestion.id)
        .where(AttemptQuestion.attempt_id == attempt_id)
        .order_by(AttemptQuestion.position)).all()
    return [SlotOutcome(position=position, points=points, awarded=awarded,
                        tags=tuple(tag for tag in (tags or []) if isinstance(tag, str) and tag.strip()),
                        comment=(comment or "").strip())
            for position, points, awarded, comment, tags in rows]


def provisional(slots: list[SlotOutcome]) -> Provisional:
    """The points of the questions marked so far (automatically, or already by a trainer)."""
    marked = [slot for slot in slots if slot.awarded is not None]
    return Provisional(points=round(sum(slot.awarded for slot in marked), 4),
                       max_points=round(sum(slot.points for slot in marked), 4),
                       waiting=len(slots) - len(marked))


def missed_topics(slots: list[SlotOutcome]) -> list[MissedTopic]:
    """The tags of the questions that lost points, the costliest first (then in sheet order)."""
    lost: dict[str, float] = {}
    for slot in slots:
        if slot.lost > 1e-9:
            for tag in dict.fromkeys(slot.tags):
                lost[tag] = lost.get(tag, 0.0) + slot.lost
    order = {tag: index for index, tag in enumerate(lost)}
    return [MissedTopic(tag, round(points, 4)) for tag, points in
            sorted(lost.items(), key=lambda item: (-item[1], order[item[0]]))]


def course_lessons(course_id: int) -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == course_id, Lesson.retired_at.is_(None))
                                   .order_by(Lesson.position, Lesson.id)))


def lessons_for_topic(tag: str, lessons: list[Lesson]) -> list[Lesson]:
    """The lessons that teach `tag`: those whose title names it (or, for a tag of three characters
    or more, holds its characters in order); else those whose text mentions it most (at most two);
    else none (the page then points to the course)."""
    needle = tag.casefold().strip()
    if not needle:
        return []
    titled = [lesson for lesson in lessons if needle in lesson.title.casefold()]
    if not titled and len(needle) >= 3:  # "工位安全" is taught by "工位信息安全：日常操作清单"
        titled = [lesson for lesson in lessons if _in_order(needle, lesson.title.casefold())]
    if titled:
        return titled[:MAX_LESSONS_PER_TOPIC]
    mentions = [(text_of(lesson.body_html).casefold().count(needle), index) for index, lesson in enumerate(lessons)]
    ranked = sorted((item for item in mentions if item[0]), key=lambda item: (-item[0], item[1]))
    return [lessons[index] for _count, index in ranked[:MAX_LESSONS_PER_TOPIC]]


def _in_order(needle: str, text: str) -> bool:
    """Every character of `needle` appears in `text`, in the same order (gaps allowed)."""
    rest = iter(text)
    return all(char in rest for char in needle if not char.isspace())


def text_of(body_html: str) -> str:
    return html.unescape(_TAG.sub(" ", body_html or ""))
