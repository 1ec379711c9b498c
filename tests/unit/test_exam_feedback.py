"""lms/exams/feedback.py: the provisional score, missed topics and the lessons that teach them,
the marker's comments only where the review is open."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from lms.exams import feedback, marking, saving, services
from lms.exams.feedback import SlotOutcome, lessons_for_topic, missed_topics, plural_count, provisional
from lms.extensions import db
from lms.models import Course, Lesson, QuestionBank
from tests.exam_support import add_question, answers_for, make_exam, right_raw, wrong_raw

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def lesson(title: str, body: str = "", slug: str | None = None, position: int = 0) -> Lesson:
    return Lesson(slug=slug or f"l{position}", title=title, body_html=body, position=position)


# --- pure functions ------------------------------------------------------------------------------

def test_missed_topics_are_the_tags_of_lost_points_costliest_first():
    slots = [
        SlotOutcome(0, points=2, awarded=2, tags=("开场白",)),  # full marks: not missed
        SlotOutcome(1, points=1, awarded=0, tags=("转接", "保持")),
        SlotOutcome(2, points=3, awarded=0.5, tags=("服务禁语",)),
        SlotOutcome(3, points=1, awarded=0, tags=("保持", "保持")),  # a tag twice counts once
        SlotOutcome(4, points=5, awarded=None, tags=("投诉",)),  # waiting for a marker: not lost yet
        SlotOutcome(5, points=1, awarded=0, tags=()),  # untagged: nothing to name
    ]
    topics = missed_topics(slots)
    assert [(t.tag, t.lost) for t in topics] == [("服务禁语", 2.5), ("保持", 2.0), ("转接", 1.0)]


def test_provisional_counts_what_has_points_and_what_waits():
    slots = [SlotOutcome(0, 4, 4.0), SlotOutcome(1, 12, 10.0), SlotOutcome(2, 5, None), SlotOutcome(3, 5, None)]
    result = provisional(slots)
    assert (result.points, result.max_points, result.waiting) == (14.0, 16.0, 2)
    assert result.percent == pytest.approx(87.5)
    assert provisional([SlotOutcome(0, 5, None)]).percent == 0.0  # nothing auto-marked: no division by zero


def test_a_topic_is_taught_by_the_lesson_whose_title_names_it_else_by_the_text_that_mentions_it_most():
    lessons = [lesson("开场白：前 10 秒决定印象", "<p>来电接通后三秒内开口。</p>", position=1),
               lesson("保持与转接的礼仪", "<p>转接前先说明原因。</p>", position=2),
               lesson("结束通话", "<p>确认问题已解决；如需<strong>转接</strong>，见上一课。</p>", position=3),
               lesson("服务禁语与替代说法", "<p>服务禁语&amp;替代：不说“不知道”。服务禁语清单。</p>", position=4),
               lesson("在线文字", "<p>文字客服也不用服务禁语。</p>", position=5)]
    assert [x.title for x in lessons_for_topic("开场白", lessons)] == ["开场白：前 10 秒决定印象"]
    assert [x.title for x in lessons_for_topic("转接", lessons)] == ["保持与转接的礼仪"]  # the title wins
    assert [x.title for x in lessons_for_topic("三秒", lessons)] == ["开场白：前 10 秒决定印象"]  # body text
    assert [x.title for x in lessons_for_topic("替代", lessons)] == ["服务禁语与替代说法"]
    # mentioned in the text of several lessons: the most mentions first, at most two
    assert [x.title for x in lessons_for_topic("不", [lessons[3], lessons[4], lessons[0]])] == [
        "服务禁语与替代说法", "在线文字"]
    # the title spells the topic with words between (three characters or more)
    desk = [lesson("工位信息安全：日常操作清单", position=1), lesson("个人信息", "<p>工位安全很重要</p>", position=2)]
    assert [x.title for x in lessons_for_topic("工位安全", desk)] == ["工位信息安全：日常操作清单"]
    assert [x.title for x in lessons_for_topic("安工", desk)] == []  # out of order, and too short anyway
    assert lessons_for_topic("strong", lessons) == []  # markup is not text
    assert lessons_for_topic("计费", lessons) == []
    assert [x.title for x in lessons_for_topic("crm", [lesson("认识 CRM 系统")])] == ["认识 CRM 系统"]  # any case


def test_plural_count_picks_the_english_form():
    assert [plural_count(v) for v in (1, 1.0, 0, 2.0, 0.5, 1.5)] == [1, 1, 0, 2, 2, 2]


# --- from the database ---------------------------------------------------------------------------

@pytest.fixture
def course(app):
    course = Course(slug="etiquette", title="电话礼仪", star_level=0, kind="required", track="onboarding")
    course.lessons = [Lesson(slug="opening", title="开场白：前 10 秒", body_html="<p>标准开场白。</p>", position=1),
                      Lesson(slug="hold", title="保持与转接", body_html="<p>保持不超过 60 秒。</p>", position=2),
                      Lesson(slug="old", title="开场白（旧版）", body_html="", position=3,
                             retired_at=NOW)]  # retired lessons are never linked
    db.session.add(course)
    db.session.commit()
    return course


def sit(user, exam, raw):
    attempt = services.start_attempt(user, exam, NOW)
    for slot, raw in answers_for(attempt, raw).items():
        saving.save_answer(user, attempt.id, slot, raw, 1, NOW)
    return services.submit_attempt(user, attempt.id, NOW)


def tagged_bank() -> QuestionBank:
    bank = QuestionBank(slug="etiquette", title="电话礼仪题库")
    db.session.add(bank)
    add_question(bank, "truefalse", "open", tags=["开场白"], points=2)
    add_question(bank, "single", "hold", tags=["保持"], points=1)
    add_question(bank, "truefalse", "bill", tags=["计费"], points=1)
    db.session.commit()
    return bank


def test_a_failed_attempt_names_the_topics_with_their_lessons(app, make_user, course):
    exam = make_exam([(tagged_bank(), 3)], course=course, pass_percent=80, shuffle_questions=False)
    agent = make_user()
    attempt = sit(agent, exam, wrong_raw)
    assert attempt.state == "graded" and not attempt.passed
    result = feedback.result_feedback(attempt, show_comments=False)
    assert [t.tag for t in result.topics] == ["开场白", "保持", "计费"]
    links = {t.tag: [(x.course_slug, x.lesson_slug) for x in t.lessons] for t in result.topics}
    assert links == {"开场白": [("etiquette", "opening")], "保持": [("etiquette", "hold")], "计费": []}
    assert all(t.course is course for t in result.topics)  # no lesson: the course page names the topic
    assert result.first_lesson.lesson_slug == "opening"
    assert result.provisional is None


def test_a_passed_attempt_lists_no_topics(app, make_user, course):
    exam = make_exam([(tagged_bank(), 3)], course=course, pass_percent=50)
    agent = make_user()
    attempt = services.start_attempt(agent, exam, NOW)
    raws = answers_for(attempt, right_raw)
    lost = next(aq.position for aq in attempt.questions if aq.version.question.key == "QKEY-bill")
    raws[lost] = "false"  # one point of four lost, still a pass
    for slot, raw in raws.items():
        saving.save_answer(agent, attempt.id, slot, raw, 1, NOW)
    attempt = services.submit_attempt(agent, attempt.id, NOW)
    assert attempt.passed and attempt.score == 3
    assert feedback.result_feedback(attempt, show_comments=True).topics == []


def test_a_standalone_exam_names_topics_without_links(app, make_user):
    exam = make_exam([(tagged_bank(), 3)], pass_percent=80, shuffle_questions=False)
    attempt = sit(make_user(), exam, wrong_raw)
    topics = feedback.result_feedback(attempt, show_comments=False).topics
    assert [t.tag for t in topics] == ["开场白", "保持", "计费"]
    assert all(t.lessons == [] and t.course is None for t in topics)


def test_comments_only_where_the_review_is_open_and_a_provisional_score_while_pending(app, make_user):
    bank = QuestionBank(slug="mixed", title="混合")
    db.session.add(bank)
    add_question(bank, "truefalse", "tf", tags=["身份核实"], points=4)
    add_question(bank, "essay", "e1", tags=["投诉"], points=5)
    add_question(bank, "essay", "e2", tags=["投诉"], points=5)
    db.session.commit()
    exam = make_exam([(bank, 3)], pass_percent=60)
    agent, trainer = make_user(), make_user(roles=("trainer",))
    attempt = sit(agent, exam, right_raw)
    assert attempt.state == "pending"
    pending = feedback.result_feedback(attempt, show_comments=True)
    assert (pending.provisional.points, pending.provisional.max_points, pending.provisional.waiting) == (4, 4, 2)
    essays = sorted(aq.position for aq in attempt.questions if aq.question_type == "essay")
    marking.mark_essays(trainer, attempt.id, {essays[0]: marking.Mark(2.5, "  要点不全：缺少致歉  ")}, NOW)
    partly = feedback.result_feedback(attempt, show_comments=True)
    assert (partly.provisional.points, partly.provisional.max_points, partly.provisional.waiting) == (6.5, 9, 1)
    assert [(c.number, c.comment, c.awarded) for c in partly.comments] == [(essays[0] + 1, "要点不全：缺少致歉", 2.5)]
    hidden = feedback.result_feedback(attempt, show_comments=False)
    assert hidden.comments == [] and hidden.hidden_comments == 1
    marking.mark_essays(trainer, attempt.id, {essays[1]: marking.Mark(0, "")}, NOW)
    assert attempt.state == "graded" and not attempt.passed
    graded = feedback.result_feedback(attempt, show_comments=True)
    assert graded.provisional is None and len(graded.comments) == 1
    assert [(t.tag, t.lost) for t in graded.topics] == [("投诉", 7.5)]
