"""Demo classroom sessions: a workshop ten days ago with attendance closed (present, late and
absent: an absence in the record), and a sign-up session in five days, full, with a waiting list."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import select

from lms.classroom import attendance, services, signups, timing
from lms.clock import center_zone
from lms.extensions import db
from lms.models import Course

if TYPE_CHECKING:
    from lms.models import User


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), center_zone()).astimezone(timezone.utc)


def _code_check_in(session, user, moment: datetime) -> None:
    attendance.check_in(session.id, user, timing.current_code(session.id, moment)[0], moment)


def seed_demo(users: dict[str, "User"], now: datetime) -> None:
    trainer, mentor = users["T0001"], users["M0001"]
    today = now.astimezone(center_zone()).date()
    course = db.session.scalar(select(Course).where(Course.slug == "complaint-handling"))

    past_day = today - timedelta(days=10)
    while past_day.weekday() >= 5:  # a working day
        past_day -= timedelta(days=1)
    starts = _local(past_day, 14)
    workshop = services.create_session(trainer, services.SessionFields(
        title="投诉处理实战工作坊" if course is None else f"{course.title}：实战工作坊", course=course,
        instructor=trainer, location="三楼培训室 A", starts_at=starts, ends_at=starts + timedelta(hours=2),
        audience={"teams": ["热线一组", "热线二组"]},
        description="结合上月真实投诉录音，分组演练五步处理法与升级规则。请带耳机。"),
        starts - timedelta(days=7))
    _code_check_in(workshop, users["E1001"], starts - timedelta(minutes=6))
    _code_check_in(workshop, mentor, starts - timedelta(minutes=3))
    _code_check_in(workshop, users["E1002"], starts + timedelta(minutes=18))  # late
    _code_check_in(workshop, users["E1003"], starts - timedelta(minutes=1))
    attendance.close_attendance(workshop, trainer, starts + timedelta(hours=2, minutes=10))  # 孙悦: absent

    next_day = today + timedelta(days=5)
    while next_day.weekday() >= 5:
        next_day += timedelta(days=1)
    starts = _local(next_day, 10)
    salon = services.create_session(trainer, services.SessionFields(
        title="高压来电后的情绪复原小组课", instructor=mentor, location="二楼分享角",
        online_url="https://meeting.example.com/j/480-2231", starts_at=starts,
        ends_at=starts + timedelta(minutes=90), capacity=2, signup_required=True, signup_cutoff_hours=24,
        audience={"teams": ["热线一组", "热线二组"]},
        description="陈刚带大家复盘三通高难度来电，练习通话间隙的呼吸调节与情绪记录。名额有限，请先报名。"),
        now - timedelta(days=2))
    signups.sign_up(salon.id, users["E1002"], now - timedelta(days=2) + timedelta(hours=1))
    signups.sign_up(salon.id, users["E1001"], now - timedelta(days=1))
    signups.sign_up(salon.id, users["E1004"], now - timedelta(hours=20))  # the waiting list
