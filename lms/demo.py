"""Demo accounts for `lms demo`: one per role and agents at every star level 0-5, each agent with
the training archive their star implies (lms/demo_story.py writes it), and a lesson the trainer
edited in the browser.

The archive is written through the real services (lessons read, exams sat and marked, practicals
observed and signed, customer evaluations, promotions confirmed) with the clock frozen at moments
in the past, so every entry, completion, certificate and star change is what the product itself
would have written. All moments are relative to the time `lms demo` runs, so the story holds
whatever day it runs; it is written only for accounts created in this run.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from lms.admin.services import create_user
from lms.clock import add_months, utcnow
from lms.demo_story import WORK_START, _at, edit_a_lesson, frozen_at, write_stories
from lms.extensions import db
from lms.models import User

__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "DemoAccount", "ensure_demo_accounts", "frozen_at", "seed_programme"]

DEMO_PASSWORD = "demo1234"


@dataclass(frozen=True)
class DemoAccount:
    employee_no: str
    name: str
    roles: frozenset[str]
    star_level: int
    team: str
    hire_date: date | None  # fixed for the staff accounts; agents' follow from `hired` and the day it runs
    mentor: str | None
    description: str
    hired: tuple[int, int] | None = None  # (months, days) before the day `lms demo` runs
    password: str = DEMO_PASSWORD
    created: bool = False
    email: str | None = None

    def hire_date_on(self, today: date) -> date | None:
        if self.hired is None:
            return self.hire_date
        months, days = self.hired
        return add_months(datetime.combine(today, time()), -months).date() - timedelta(days=days)


DEMO_ACCOUNTS = (
    DemoAccount("A0001", "王敏", frozenset({"admin"}), 5, "培训部", date(2019, 3, 1), None, "admin"),
    DemoAccount("T0001", "李静", frozenset({"trainer"}), 5, "培训部", date(2020, 6, 15), None, "trainer"),
    DemoAccount("M0001", "陈刚", frozenset({"mentor", "agent"}), 4, "热线一组", None, None,
                "mentor (and 4-star agent)", hired=(69, 20)),
    DemoAccount("E1001", "张晓", frozenset({"agent"}), 0, "热线一组", None, "M0001",
                "agent, 0 stars (new hire)", hired=(0, 25)),
    DemoAccount("E1002", "刘洋", frozenset({"agent"}), 1, "热线一组", None, "M0001",
                "agent, 1 star (ready for 2 stars)", hired=(15, 0)),
    DemoAccount("E1003", "赵磊", frozenset({"agent"}), 2, "热线二组", None, "M0001",
                "agent, 2 stars (a refresher exam to retake)", hired=(30, 0)),
    DemoAccount("E1004", "孙悦", frozenset({"agent"}), 3, "热线二组", None, "M0001",
                "agent, 3 stars (refresher expired)", hired=(49, 0)),
    DemoAccount("E1005", "周婷", frozenset({"agent"}), 5, "热线三组", None, None,
                "agent, 5 stars (team-leader track)", hired=(64, 0), email="zhouting@example.com"),
)


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet, and write the archive of the agents among
    them; existing accounts are left as they are.

    Accounts without a mentor come first, with their stories (the mentor climbs to four stars in
    theirs); then the mentees, whom only a mentor of a higher star may take on."""
    now = utcnow()
    existing = set(db.session.scalars(select(User.employee_no).where(
        User.employee_no.in_([account.employee_no for account in DEMO_ACCOUNTS]))))
    accounts: dict[str, DemoAccount] = {}
    created: dict[str, User] = {}
    admin = None
    for mentees in (False, True):
        batch = []
        for account in DEMO_ACCOUNTS:
            if (account.mentor is not None) != mentees:
                continue
            is_new = account.employee_no not in existing
            account = accounts[account.employee_no] = replace(account, hire_date=account.hire_date_on(now.date()),
                                                              created=is_new)
            if is_new:
                batch.append((account, _create(account, now, admin)))
            if account.employee_no == "A0001":
                admin = db.session.scalar(select(User).where(User.employee_no == "A0001"))
        created.update((account.employee_no, user) for account, user in batch)
        storied = [(account, user) for account, user in batch if "agent" in account.roles]
        if storied:
            write_stories(storied, now)
    if "T0001" in created:
        edit_a_lesson(created["T0001"], now)
    if any("agent" in accounts[number].roles for number in created):
        seed_programme(now)
    return [accounts[account.employee_no] for account in DEMO_ACCOUNTS]


def _create(account: DemoAccount, now: datetime, admin: User | None) -> User:
    # created the day they were hired, so the star history starts there
    hired = min(_at(account.hire_date, WORK_START), now) if account.hire_date else now
    with frozen_at(hired):
        return create_user(
            employee_no=account.employee_no, name=account.name, roles=set(account.roles),
            # agents with a story start as new hires and are promoted through it
            star_level=0 if account.hired else account.star_level, team=account.team,
            hire_date=account.hire_date, mentor_employee_no=account.mentor, password=account.password,
            actor=admin, email=account.email,
        )


# The programme around the agents' histories, in this order: plans, make-up attempts, classroom
# sessions (their attendance feeds the KPI), surveys (of those sessions and completions), and last the
# notifications' daily reminders. Each module's seed_demo(users, now) commits itself.
PROGRAMME_SEEDS = ("lms.plans.demo", "lms.exams.makeup_demo", "lms.classroom.demo", "lms.surveys.demo",
                   "lms.notifications.demo")


def seed_programme(now: datetime) -> None:
    from importlib import import_module

    users = {user.employee_no: user for user in db.session.scalars(
        select(User).where(User.employee_no.in_([account.employee_no for account in DEMO_ACCOUNTS])))}
    for module in PROGRAMME_SEEDS:
        import_module(module).seed_demo(users, now)
