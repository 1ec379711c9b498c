"""Demo training plans: next year's annual plan with its monthly breakdown, and a current plan with
items overdue and due soon, so the agents' home pages and the overdue overview show real data."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from lms.plans import progress, services
from lms.plans.windows import month_of

if TYPE_CHECKING:
    from lms.models import User


def _item(kind: str, slug: str):
    return services.find_item(kind, slug=slug)


def _assign(actor, plan, kind: str, slug: str, target: services.Target, starts: date, due: date, now: datetime,
            month: str | None = None) -> None:
    item = _item(kind, slug)
    if item is None:  # a sample course renamed or retired: the demo goes on without it
        return
    services.add_assignment(actor, plan, item=item, item_kind=kind, target=target, starts_on=starts, due_on=due,
                            month=month, now=now)


def _month(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    last = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return first, last


def seed_demo(users: dict[str, "User"], now: datetime) -> None:
    trainer = users["T0001"]
    new_hire = users["E1001"]
    today = progress.today_of(now)
    intake = month_of(new_hire.hire_date or today)

    cohort = services.create_cohort(trainer, name=f"{intake} 新员工入职批次",
                                    description="同一批入职的新员工，集中安排带教与跟岗练习。", now=now)
    services.add_members(trainer, cohort, new_hire.employee_no, now)

    year = now.year + 1 if now.month >= 11 else now.year
    annual = services.create_plan(
        trainer, name=f"{year} 年度培训计划", now=now,
        description="全年按月安排：一季度夯实投诉处理与情绪管理，二季度信息安全复训，下半年提升冲突化解与跨部门协作。")
    team_one = services.Target("team", team="热线一组")
    plan_items = [
        (1, "course", "communication-basics", services.Target("cohort", cohort=cohort)),
        (2, "scenario", "bill-went-up", services.Target("cohort", cohort=cohort)),
        (3, "course", "complaint-handling", team_one),
        (3, "course", "emotion-management", services.Target("level", level=1)),
        (4, "scenario", "repeated-outage-complaint", services.Target("level", level=1)),
        (5, "course", "knowledge-updates", team_one),
        (6, "exam", "info-security-refresher-exam", services.Target("agent", user=users["E1003"])),
        (6, "course", "info-security-refresher", services.Target("level", level=2)),
        (9, "course", "conflict-resolution", services.Target("level", level=2)),
        (10, "course", "cross-department", services.Target("agent", user=users["E1004"])),
        (11, "course", "case-studies", services.Target("level", level=3)),
    ]
    for month, kind, slug, target in plan_items:
        first, last = _month(year, month)
        _assign(trainer, annual, kind, slug, target, first, last, now)

    # The current plan: something overdue, something due soon, something open.
    current = services.create_plan(
        trainer, name=f"{today.year} 年冬季服务提升专项", now=now,
        description="年底话务高峰前的专项提升：应急处置、团队协作与投诉场景演练。")
    _assign(trainer, current, "course", "emergency-handling", services.Target("team", team="热线二组"),
            today - timedelta(days=24), today - timedelta(days=4), now)
    _assign(trainer, current, "course", "teamwork", services.Target("cohort", cohort=cohort),
            today - timedelta(days=7), today + timedelta(days=2), now)
    _assign(trainer, current, "course", "knowledge-updates", services.Target("agent", user=users["E1002"]),
            today - timedelta(days=20), today - timedelta(days=2), now)
    _assign(trainer, current, "scenario", "repeated-outage-complaint", services.Target("agent", user=users["E1002"]),
            today - timedelta(days=3), today + timedelta(days=3), now)
    _assign(trainer, current, "scenario", "iptv-refund-outside-policy", services.Target("level", level=2),
            today - timedelta(days=5), today + timedelta(days=12), now)
    _assign(trainer, current, "course", "communication-basics", services.Target("agent", user=new_hire),
            today, today + timedelta(days=20), now)
