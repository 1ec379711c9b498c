"""Demo surveys for `lms demo`: the default course and session templates, and answers that the demo
agents gave a day or two after their course completions and after the past classroom session, so
the results pages show aggregates (3 answers or more) and the new hire still has a survey waiting.

Answers go through the real service at the moment they would have been given (the completion's
eligibility window is judged then). Deterministic: the same accounts give the same answers.
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from lms.extensions import db
from lms.models import RecordEntry, User
from lms.models.classroom import ClassSession
from lms.models.surveys import SurveyTemplate
from lms.records.completion import in_force
from lms.surveys import authoring, results, services

NEW_HIRE = "E1001"
RECENT_DAYS = 3  # completions this recent have not been answered yet
COURSE_QUESTIONS = [
    {"kind": "rating", "prompt": "课程内容与工作的相关度", "required": True},
    {"kind": "choice", "prompt": "课程时长是否合适", "options": ["偏短", "正合适", "偏长"], "required": True},
    {"kind": "choice", "prompt": "你会把这门课推荐给同事吗", "options": ["会", "不确定", "不会"], "required": False},
    {"kind": "text", "prompt": "最有收获的一点", "required": False},
]
SESSION_QUESTIONS = [
    {"kind": "rating", "prompt": "讲师讲解是否清楚", "required": True},
    {"kind": "rating", "prompt": "现场练习对工作是否有帮助", "required": True},
    {"kind": "choice", "prompt": "课堂节奏", "options": ["太快", "合适", "太慢"], "required": False},
    {"kind": "text", "prompt": "还希望在课堂上练习哪些场景", "required": False},
]
GAINS = ["先安抚情绪再处理问题，通话明显顺了很多", "查询订单的步骤终于理清楚了", "学会了用复述确认客户的诉求",
         "知道了哪些客户信息不能在电话里透露", "投诉升级的时限和流程记住了", "结束语的标准说法很实用",
         "知识库的搜索技巧能省不少时间"]
WISHES = ["客户情绪激动时的应对", "跨部门转接的话术", "系统故障时的安抚说法", "退换货政策的特殊情况"]
COMMENTS = ["案例很贴近日常来电，希望多一些", "节奏有点快，建议课后提供要点总结", "讲师示范的话术可以直接用",
            "练习时间再长一点就更好了", "内容清楚，考试难度合适", "希望能有更多真实录音分析", ""]


def _templates(trainer: User | None, now: datetime) -> dict[str, SurveyTemplate]:
    defaults = {t.applies_to: t for t in db.session.scalars(
        select(SurveyTemplate).where(SurveyTemplate.is_default.is_(True)))}
    actor = trainer or db.session.scalar(select(User).order_by(User.id).limit(1))
    if "course" not in defaults:
        defaults["course"] = authoring.save_template(actor, None, name="课程培训效果评估", applies_to="course",
                                                    rows=COURSE_QUESTIONS, make_default=True, now=now)
    if "session" not in defaults:
        defaults["session"] = authoring.save_template(actor, None, name="面授课堂效果评估", applies_to="session",
                                                     rows=SESSION_QUESTIONS, make_default=True, now=now)
    return defaults


def _give(user: User, subject_type: str, subject_id: int, moment: datetime, rng: random.Random) -> bool:
    """One answer as `user` would have given it at `moment`; False when not possible then."""
    try:
        subject, template = services.load_subject_for(user, subject_type, subject_id, moment)
    except (services.AlreadyAnswered, services.NotFound, services.Forbidden):
        return False
    answers = {}
    for question in template.questions:
        if question["kind"] == "rating":
            answers[question["id"]] = rng.choice((3, 4, 4, 5, 5))
        elif question["kind"] == "choice":
            answers[question["id"]] = rng.choice((0, 1, 1, 1, 2)) if len(question["options"]) == 3 else 0
        elif rng.random() < 0.7:
            answers[question["id"]] = rng.choice(GAINS if subject_type == "course" else WISHES)
    services.submit_answer(user, subject, template, course_rating=rng.choice((3, 4, 4, 5, 5)),
                           instructor_rating=rng.choice((4, 5, 5)) if subject.instructor_id else None,
                           answers=answers, comment=rng.choice(COMMENTS), now=moment)
    return True


def seed_demo(users: dict[str, User], now: datetime) -> None:
    """Default templates, then answers to course completions and to the latest past session."""
    _templates(users.get("T0001"), now)
    rng = random.Random("surveys-demo")
    agents = [users[number] for number in sorted(users) if users[number].has_role("agent")]
    ids = [agent.id for agent in agents]

    # Course completions: answered a day after, except the new hire's latest and those of the last
    # RECENT_DAYS (left waiting: the home page asks about them) and, in courses with other than exactly
    # MIN_ANSWERS answerers, one agent who never answered (a response rate below 100%, while courses
    # of three completions show their aggregates).
    completions = db.session.execute(
        select(RecordEntry.user_id, RecordEntry.course_id, RecordEntry.occurred_at)
        .where(RecordEntry.user_id.in_(ids), RecordEntry.kind == "course", RecordEntry.passed.is_(True),
               RecordEntry.course_id.is_not(None), in_force())
        .order_by(RecordEntry.occurred_at, RecordEntry.id)).all()
    first: dict[tuple[int, int], datetime] = {}
    for user_id, course_id, occurred_at in completions:
        first.setdefault((user_id, course_id), occurred_at)
    new_hire = users.get(NEW_HIRE)
    keep_waiting = max(((at, course) for (user, course), at in first.items() if new_hire and user == new_hire.id),
                       default=None)
    by_course: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for (user_id, course_id), at in first.items():
        if at >= now - timedelta(days=RECENT_DAYS):
            continue
        if not (keep_waiting and user_id == new_hire.id and course_id == keep_waiting[1]):
            by_course[course_id].append((user_id, at))
    by_id = {agent.id: agent for agent in agents}
    for course_id in sorted(by_course):
        answerers = sorted(by_course[course_id], key=lambda item: (item[1], item[0]))
        if len(answerers) != results.MIN_ANSWERS:
            answerers.pop(course_id % len(answerers))
        for user_id, at in answerers:
            moment = at + timedelta(days=1, hours=rng.randint(0, 8))
            if moment < now:
                _give(by_id[user_id], "course", course_id, moment, rng)

    # The latest past session with its attendance closed: its attendees answered the next day.
    session = db.session.scalar(
        select(ClassSession).where(ClassSession.attendance_closed_at.is_not(None), ClassSession.starts_at < now,
                                   ClassSession.cancelled_at.is_(None))
        .order_by(ClassSession.starts_at.desc()).limit(1))
    if session is None:
        return
    attendees = [agent for agent in agents if db.session.scalar(
        select(RecordEntry.id).where(RecordEntry.user_id == agent.id, RecordEntry.kind == "attendance",
                                     RecordEntry.source_type == services.ATTENDANCE_SOURCE,
                                     RecordEntry.source_id == session.id, RecordEntry.passed.is_(True), in_force())
        .limit(1))]
    others = [agent for agent in attendees if agent.employee_no != NEW_HIRE]
    answering = others if len(others) >= results.MIN_ANSWERS else attendees
    moment = min(max(session.ends_at, session.attendance_closed_at) + timedelta(hours=18), now)
    for agent in answering:
        _give(agent, "session", session.id, moment, rng)
