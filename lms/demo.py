"""Demo accounts for `lms demo`: one per role and agents at several star levels."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from lms.admin.services import create_user
from lms.clock import utcnow
from lms.extensions import db
from lms.models import Course, LessonProgress, User

DEMO_PASSWORD = "demo1234"


@dataclass(frozen=True)
class DemoAccount:
    employee_no: str
    name: str
    roles: frozenset[str]
    star_level: int
    team: str
    hire_date: date
    mentor: str | None
    description: str
    password: str = DEMO_PASSWORD
    created: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("A0001", "王敏", frozenset({"admin"}), 5, "培训部", date(2019, 3, 1), None, "admin"),
    DemoAccount("T0001", "李静", frozenset({"trainer"}), 5, "培训部", date(2020, 6, 15), None, "trainer"),
    DemoAccount("M0001", "陈刚", frozenset({"mentor", "agent"}), 4, "热线一组", date(2021, 2, 8), None,
                "mentor (and 4-star agent)"),
    DemoAccount("E1001", "张晓", frozenset({"agent"}), 0, "热线一组", date(2026, 11, 2), "M0001",
                "agent, 0 stars (new hire)"),
    DemoAccount("E1002", "刘洋", frozenset({"agent"}), 1, "热线一组", date(2025, 9, 1), "M0001", "agent, 1 star"),
    DemoAccount("E1003", "赵磊", frozenset({"agent"}), 2, "热线二组", date(2024, 5, 20), "M0001", "agent, 2 stars"),
    DemoAccount("E1004", "孙悦", frozenset({"agent"}), 3, "热线二组", date(2022, 10, 10), "M0001", "agent, 3 stars"),
)


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; existing ones are left as they are."""
    existing = set(db.session.scalars(select(User.employee_no).where(
        User.employee_no.in_([account.employee_no for account in DEMO_ACCOUNTS]))))
    result = []
    for account in DEMO_ACCOUNTS:  # mentors come before their mentees in the tuple
        created = account.employee_no not in existing
        if created:
            user = create_user(
                employee_no=account.employee_no, name=account.name, roles=set(account.roles),
                star_level=account.star_level, team=account.team, hire_date=account.hire_date,
                mentor_employee_no=account.mentor, password=account.password,
            )
            if "agent" in account.roles:
                _read_earlier_levels(user)
        result.append(DemoAccount(**{**account.__dict__, "created": created}))
    return result


def _read_earlier_levels(user: User) -> None:
    """A demo agent at N stars has read the lessons of the levels below N, as a real one would."""
    now = utcnow()
    courses = db.session.scalars(select(Course).where(Course.star_level < user.star_level,
                                                      Course.retired_at.is_(None)))
    for course in courses:
        for lesson in course.live_lessons:
            db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, opened_at=now, completed_at=now))
    db.session.commit()
