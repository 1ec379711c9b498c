"""Training plans: targets, due and overdue edges with a frozen clock, the onboarding window,
completion by each item's own rule, the agent's list, reminders and the daily producer."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import AuditEvent, Course, Exam, ExamAttempt, Scenario
from lms.models.notifications import Notification
from lms.models.plans import Assignment, Cohort, CohortMember
from lms.plans import progress, reminders, services
from lms.plans.windows import (DONE, DUE_SOON, OPEN, OVERDUE, UPCOMING, add_working_days, is_late, status_of)
from lms.records.services import add_entry

# 2026-11-23 09:00 UTC is 17:00 on Monday 23 November in Shanghai
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 23)


# --- pure windows ----------------------------------------------------------------------------------

@pytest.mark.parametrize("start, days, expected", [
    (date(2026, 11, 2), 10, date(2026, 11, 16)),  # Monday -> Monday two weeks on
    (date(2026, 11, 6), 1, date(2026, 11, 9)),  # Friday -> Monday
    (date(2026, 11, 7), 1, date(2026, 11, 9)),  # hired on a Saturday
    (date(2026, 11, 4), 0, date(2026, 11, 4)),
    (date(2026, 12, 28), 5, date(2027, 1, 4)),  # across the year; 1 Jan is not skipped (no holidays)
])
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


@pytest.mark.parametrize("starts, due, expected", [
    (TODAY - timedelta(days=10), TODAY - timedelta(days=1), OVERDUE),  # due yesterday
    (TODAY - timedelta(days=10), TODAY, DUE_SOON),  # due today is not overdue yet
    (TODAY - timedelta(days=10), TODAY + timedelta(days=3), DUE_SOON),  # the last "soon" day
    (TODAY - timedelta(days=10), TODAY + timedelta(days=4), OPEN),
    (TODAY + timedelta(days=1), TODAY + timedelta(days=30), UPCOMING),
    (TODAY, TODAY + timedelta(days=30), OPEN),  # starts today
])
def test_status_edges(starts, due, expected):
    assert status_of(starts_on=starts, due_on=due, done_on=None, done=False, today=TODAY,
                     due_soon_days=3) == expected


def test_done_wins_and_late_is_after_the_due_day():
    assert status_of(starts_on=TODAY, due_on=TODAY - timedelta(days=5), done_on=TODAY, done=True, today=TODAY,
                     due_soon_days=3) == DONE
    assert not is_late(TODAY, TODAY) and is_late(TODAY + timedelta(days=1), TODAY) and not is_late(None, TODAY)


# --- helpers ---------------------------------------------------------------------------------------

@pytest.fixture
def app_config():
    """The dates below count a 10-working-day onboarding window (the default is 20)."""
    return {"LMS_ONBOARDING_WORKING_DAYS": 10}


@pytest.fixture
def plan(app, make_user):
    trainer = make_user(roles=("trainer",), name="李静")
    plan = services.create_plan(trainer, name="2027 年度培训计划", description="", now=NOW)
    plan.actor = trainer
    return plan


def course(slug: str) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def assign(plan, item, target: services.Target, starts=TODAY - timedelta(days=5), due=TODAY + timedelta(days=10),
           month=None, kind=None) -> Assignment:
    kind = kind or {Course: "course", Exam: "exam", Scenario: "scenario"}[type(item)]
    return services.add_assignment(plan.actor, plan, item=item, item_kind=kind, target=target, starts_on=starts,
                                   due_on=due, month=month, now=NOW)


def tasks_of(user, now=NOW):
    return [t for t in progress.evaluate(services.live_assignments(), now) if t.user.id == user.id]


# --- targets ---------------------------------------------------------------------------------------

def test_each_target_kind_reaches_its_agents(catalog, plan, make_user, frozen_now):
    frozen_now(NOW)
    one = make_user(team="热线一组", star_level=1)
    two = make_user(team="热线二组", star_level=1)
    three = make_user(team="热线二组", star_level=2)
    cohort = services.create_cohort(plan.actor, name="2026-11 新员工入职批次", description="", now=NOW)
    services.add_members(plan.actor, cohort, f"{three.employee_no}", NOW)
    a = course("basics-a")
    by_agent = assign(plan, a, services.Target("agent", user=one))
    by_team = assign(plan, course("basics-b"), services.Target("team", team="热线二组"))
    by_level = assign(plan, course("level-one"), services.Target("level", level=1))
    by_cohort = assign(plan, course("elective-e"), services.Target("cohort", cohort=cohort))
    reached = {}
    for task in progress.evaluate(services.live_assignments(), NOW):
        reached.setdefault(task.assignment_id, set()).add(task.user.employee_no)
    assert reached[by_agent.id] == {one.employee_no}
    assert reached[by_team.id] == {two.employee_no, three.employee_no}
    assert reached[by_level.id] == {one.employee_no, two.employee_no}
    assert reached[by_cohort.id] == {three.employee_no}


def test_targets_are_resolved_when_read(catalog, plan, make_user):
    assign(plan, course("basics-a"), services.Target("team", team="热线三组"))
    late_joiner = make_user(team="热线一组")
    assert tasks_of(late_joiner) == []
    late_joiner.team = "热线三组"
    db.session.commit()
    assert [t.item.slug for t in tasks_of(late_joiner)] == ["basics-a"]


def test_only_active_agents_count(catalog, plan, make_user):
    make_user(team="热线三组", active=False)
    make_user(team="热线三组", roles=("trainer",))
    agent = make_user(team="热线三组")
    assign(plan, course("basics-a"), services.Target("team", team="热线三组"))
    assert {t.user.id for t in progress.evaluate(services.live_assignments(), NOW)} == {agent.id}


def test_cancelled_assignments_and_archived_plans_reach_nobody(catalog, plan, make_user):
    agent = make_user(team="热线三组")
    assignment = assign(plan, course("basics-a"), services.Target("agent", user=agent))
    assert services.cancel_assignment(plan.actor, assignment, NOW) is True
    assert services.cancel_assignment(plan.actor, assignment, NOW) is False
    assert tasks_of(agent) == []
    other = services.create_plan(plan.actor, name="旧计划", description="", now=NOW)
    other.actor = plan.actor
    assign(other, course("basics-b"), services.Target("agent", user=agent))
    assert len(tasks_of(agent)) == 1
    services.update_plan(plan.actor, other, name="旧计划", description="", archived=True, now=NOW)
    assert tasks_of(agent) == []


def test_assignment_given_notifies_the_agents_reached_then(catalog, plan, make_user):
    agents = [make_user(team="热线三组") for _ in range(3)]
    make_user(team="热线一组")
    assignment = assign(plan, course("basics-a"), services.Target("team", team="热线三组"),
                        due=date(2026, 12, 4))
    rows = db.session.scalars(select(Notification).where(Notification.kind == "assignment_given")).all()
    assert sorted(n.user_id for n in rows) == sorted(a.id for a in agents)
    assert rows[0].params == {"title": "课程 basics-a", "kind": "course", "due_on": "2026-12-04",
                              "plan": "2027 年度培训计划"}
    assert rows[0].link == "/courses/basics-a"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment.created")
                             ).details["agents"] == 3
    assert assignment.month == "2026-12"  # the due month by default


@pytest.mark.parametrize("starts, due, month, field", [
    (None, date(2026, 12, 1), "", "starts_on"),
    (date(2026, 12, 2), date(2026, 12, 1), "", "due_on"),
    (date(2026, 12, 1), date(2026, 12, 1), "2026-13", "month"),
])
def test_bad_dates_are_refused_and_nothing_written(catalog, plan, make_user, starts, due, month, field):
    agent = make_user()
    with pytest.raises(services.PlanInvalid) as caught:
        services.add_assignment(plan.actor, plan, item=course("basics-a"), item_kind="course",
                                target=services.Target("agent", user=agent), starts_on=starts, due_on=due,
                                month=month, now=NOW)
    assert caught.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_due_on_the_start_day_is_allowed(catalog, plan, make_user):
    agent = make_user()
    assignment = assign(plan, course("basics-a"), services.Target("agent", user=agent), starts=TODAY, due=TODAY)
    assert assignment.due_on == assignment.starts_on


# --- due and overdue with a frozen clock -----------------------------------------------------------

def test_due_soon_then_overdue_as_the_clock_moves(catalog, plan, make_user, frozen_now):
    agent = make_user()
    assign(plan, course("basics-a"), services.Target("agent", user=agent), starts=date(2026, 11, 20),
           due=date(2026, 11, 30))
    # 29 Nov 15:59 UTC is 23:59 on the 29th in Shanghai: 1 day left
    assert tasks_of(agent, datetime(2026, 11, 26, 15, 59, tzinfo=timezone.utc))[0].status == OPEN
    assert tasks_of(agent, datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc))[0].status == DUE_SOON
    # the due day's last second in Shanghai is still not overdue; the next one is
    assert tasks_of(agent, datetime(2026, 11, 30, 15, 59, 59, tzinfo=timezone.utc))[0].status == DUE_SOON
    assert tasks_of(agent, datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc))[0].status == OVERDUE
    assert tasks_of(agent, datetime(2026, 11, 19, 15, 59, tzinfo=timezone.utc))[0].status == UPCOMING


def test_course_completion_uses_the_one_rule_and_flags_late(catalog, plan, make_user):
    agent = make_user()
    a = course("basics-a")
    assign(plan, a, services.Target("agent", user=agent), starts=date(2026, 11, 1), due=date(2026, 11, 10))
    assert tasks_of(agent)[0].status == OVERDUE
    add_entry(user=agent, kind="course", title=a.title, course=a, passed=True,
              occurred_at=datetime(2026, 11, 11, 2, 0, tzinfo=timezone.utc))
    db.session.commit()
    task = tasks_of(agent)[0]
    assert task.status == DONE and task.done_on == date(2026, 11, 11) and task.late


def test_a_completion_before_the_assignment_counts_on_time(catalog, plan, make_user):
    agent = make_user()
    a = course("basics-a")
    add_entry(user=agent, kind="course", title=a.title, course=a, passed=True,
              occurred_at=datetime(2026, 6, 1, tzinfo=timezone.utc))
    db.session.commit()
    assign(plan, a, services.Target("agent", user=agent), starts=date(2026, 11, 1), due=date(2026, 11, 10))
    task = tasks_of(agent)[0]
    assert task.status == DONE and not task.late


def _exam(slug="standalone", method="highest") -> Exam:
    exam = Exam(slug=slug, title=f"考试 {slug}", pass_percent=60.0, grading_method=method)
    db.session.add(exam)
    db.session.commit()
    return exam


def _attempt(exam, user, number, percent, day):
    at = datetime(2026, 11, day, 2, 0, tzinfo=timezone.utc)
    db.session.add(ExamAttempt(exam=exam, user=user, number=number, state="graded", started_at=at, deadline=at,
                               submitted_at=at, percent=percent, passed=percent >= 60, score=percent,
                               max_score=100))
    db.session.commit()


def test_exam_done_by_its_grading_method(catalog, plan, make_user):
    agent = make_user()
    exam = _exam(method="last")
    assign(plan, exam, services.Target("agent", user=agent), starts=date(2026, 11, 1), due=date(2026, 11, 30))
    _attempt(exam, agent, 1, 50.0, 2)
    assert tasks_of(agent)[0].status == OPEN
    _attempt(exam, agent, 2, 80.0, 3)
    task = tasks_of(agent)[0]
    assert task.status == DONE and task.done_on == date(2026, 11, 3)
    _attempt(exam, agent, 3, 40.0, 4)  # "last" fell below the mark again
    assert tasks_of(agent)[0].status == OPEN


def test_scenario_done_by_a_passed_practical_in_force(catalog, plan, make_user):
    agent = make_user()
    scenario = Scenario(slug="bill-went-up", title="话费突然变高")
    db.session.add(scenario)
    db.session.commit()
    assign(plan, scenario, services.Target("agent", user=agent), starts=date(2026, 11, 1), due=date(2026, 11, 30))
    failed = add_entry(user=agent, kind="practical", title=scenario.title, passed=False, score=40, max_score=100,
                       details={"scenario": "bill-went-up"}, occurred_at=datetime(2026, 11, 5, tzinfo=timezone.utc))
    db.session.commit()
    assert tasks_of(agent)[0].status == OPEN
    add_entry(user=agent, kind="practical", title=scenario.title, passed=True, score=70, max_score=100,
              details={"scenario": "bill-went-up"}, corrects=failed, reason="复核更正",
              occurred_at=datetime(2026, 11, 6, tzinfo=timezone.utc))
    db.session.commit()
    task = tasks_of(agent)[0]
    assert task.status == DONE and task.item.link == "/practicals/scenarios/bill-went-up"


# --- the onboarding window -------------------------------------------------------------------------

def test_onboarding_window_from_the_hire_date(catalog, make_user):
    hired = make_user(hire_date=date(2026, 11, 2))  # a Monday
    make_user(star_level=1, hire_date=date(2026, 11, 2))  # past onboarding
    make_user()  # no hire date
    tasks = progress.evaluate([], NOW, onboarding=True)
    assert {(t.user.id, t.item.slug) for t in tasks} == {(hired.id, "basics-a"), (hired.id, "basics-b")}
    assert {t.due_on for t in tasks} == {date(2026, 11, 16)}
    assert {t.starts_on for t in tasks} == {date(2026, 11, 2)}
    assert {t.status for t in tasks} == {OVERDUE}  # 23 Nov is after 16 Nov
    assert all(t.plan.onboarding and t.assignment_id is None for t in tasks)


def test_onboarding_due_soon_on_the_last_days(catalog, make_user, app):
    make_user(hire_date=date(2026, 11, 9))  # due Monday 23 Nov: today
    tasks = progress.evaluate([], NOW, onboarding=True)
    assert {t.status for t in tasks} == {DUE_SOON}
    app.config["LMS_ONBOARDING_WORKING_DAYS"] = 15
    assert {t.due_on for t in progress.evaluate([], NOW, onboarding=True)} == {date(2026, 11, 30)}


# --- the agent's own list --------------------------------------------------------------------------

def test_my_assignments_orders_overdue_then_due_soon_then_due_date(catalog, plan, make_user):
    agent = make_user(team="热线三组", hire_date=date(2026, 11, 2))  # onboarding overdue since 16 Nov
    a, b = course("basics-a"), course("basics-b")
    add_entry(user=agent, kind="course", title=a.title, course=a, passed=True, occurred_at=NOW)
    db.session.commit()
    assign(plan, course("elective-e"), services.Target("agent", user=agent), due=TODAY + timedelta(days=20))
    assign(plan, course("level-one"), services.Target("team", team="热线三组"), due=TODAY + timedelta(days=2))
    assign(plan, course("refresh"), services.Target("agent", user=agent), starts=TODAY + timedelta(days=1),
           due=TODAY + timedelta(days=9))
    # the same course by the team with a later date: listed once, the most urgent
    assign(plan, b, services.Target("team", team="热线三组"), due=TODAY + timedelta(days=30))
    mine = progress.my_assignments(agent, NOW)
    assert [(t.item.slug, t.status) for t in mine] == [
        ("basics-b", OVERDUE), ("level-one", DUE_SOON), ("elective-e", OPEN)]
    assert mine.done == 1 and mine.upcoming == 1 and mine.overdue == 1 and bool(mine)
    assert mine.items[0].plan.onboarding


def test_my_assignments_is_empty_for_staff_and_the_idle(catalog, plan, make_user):
    trainer = make_user(roles=("trainer",))
    idle = make_user(team="热线九组")
    assert not progress.my_assignments(trainer, NOW) and not progress.my_assignments(idle, NOW)


def test_summary_for_mentees(catalog, plan, make_user):
    one = make_user(team="热线三组", hire_date=date(2026, 11, 2))
    two = make_user(team="热线三组", star_level=1)
    assign(plan, course("level-one"), services.Target("team", team="热线三组"))
    summary = progress.assignment_summary_for([one.id, two.id], NOW)
    assert summary == {one.id: (1, 2), two.id: (1, 0)}


# --- reminders -------------------------------------------------------------------------------------

def test_manual_reminder_once_per_plan_agent_and_day(catalog, plan, make_user):
    late = make_user(team="热线三组")
    soon = make_user(team="热线三组")
    a = course("basics-a")
    add_entry(user=soon, kind="course", title=a.title, course=a, passed=True, occurred_at=NOW)
    db.session.commit()
    assign(plan, a, services.Target("team", team="热线三组"), due=TODAY - timedelta(days=1))
    assign(plan, course("basics-b"), services.Target("team", team="热线三组"), due=TODAY + timedelta(days=1))
    assert reminders.send_reminders(plan.actor, plan, NOW) == 2
    assert reminders.send_reminders(plan.actor, plan, NOW) == 0  # a double click
    rows = {n.user_id: n for n in db.session.scalars(select(Notification).where(
        Notification.kind == "assignment_reminder"))}
    assert rows[late.id].params["overdue"] == 1 and rows[late.id].params["count"] == 2
    assert rows[soon.id].params["count"] == 1
    assert reminders.send_reminders(plan.actor, plan, NOW + timedelta(days=1), employee_no=late.employee_no) == 1
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "plan.reminded")).all()
    assert [e.details["reminded"] for e in events] == [2, 0, 1]


def test_send_due_once_per_agent_and_assignment(catalog, plan, make_user):
    agent = make_user(team="热线三组", hire_date=date(2026, 11, 2))
    soon = assign(plan, course("level-one"), services.Target("agent", user=agent), due=TODAY + timedelta(days=3))
    assign(plan, course("elective-e"), services.Target("agent", user=agent), due=TODAY + timedelta(days=4))
    added = reminders.send_due(NOW)
    db.session.commit()
    kinds = sorted((n.kind, n.key) for n in db.session.scalars(select(Notification).where(
        Notification.kind.in_(("assignment_due_soon", "assignment_overdue")))))
    assert added == 3 and kinds == [
        ("assignment_due_soon", f"plans:due_soon:{soon.id}"),
        ("assignment_overdue", "plans:overdue:onboarding:basics-a"),
        ("assignment_overdue", "plans:overdue:onboarding:basics-b")]
    assert reminders.send_due(NOW) == 0
    later = NOW + timedelta(days=4)  # level-one now overdue, elective-e due soon
    assert reminders.send_due(later) == 2
    db.session.commit()
    assert reminders.send_due(later) == 0


# --- cohorts ---------------------------------------------------------------------------------------

def test_cohort_members_all_or_nothing(app, make_user):
    trainer = make_user(roles=("trainer",))
    agent = make_user()
    cohort = services.create_cohort(trainer, name="2026-11 新员工入职批次", description="", now=NOW)
    with pytest.raises(services.PlanInvalid, match="NOPE"):
        services.add_members(trainer, cohort, f"{agent.employee_no}, NOPE {trainer.employee_no}", NOW)
    assert db.session.scalar(select(func.count()).select_from(CohortMember)) == 0
    assert services.add_members(trainer, cohort, f"{agent.employee_no}\n{agent.employee_no}", NOW) == 1
    assert services.add_members(trainer, cohort, agent.employee_no, NOW) == 0
    with pytest.raises(services.PlanInvalid):
        services.create_cohort(trainer, name="2026-11 新员工入职批次", description="", now=NOW)
    assert services.remove_member(trainer, cohort, agent.id) is True
    assert services.remove_member(trainer, cohort, agent.id) is False
    assert db.session.scalar(select(func.count()).select_from(Cohort)) == 1


def test_plan_report_groups_by_month_team_and_agent(catalog, plan, make_user):
    one = make_user(team="热线一组")
    two = make_user(team="热线二组")
    assign(plan, course("basics-a"), services.Target("level", level=0), due=TODAY - timedelta(days=1),
           month="2026-11")
    assign(plan, course("basics-b"), services.Target("agent", user=two), due=TODAY + timedelta(days=40))
    report = progress.plan_report(plan, NOW)
    assert [month for month, _rows in report.months] == ["2026-11", "2027-01"]
    assert report.total.total == 3 and report.total.overdue == 2
    assert dict((team, t.overdue) for team, t in report.teams) == {"热线一组": 1, "热线二组": 1}
    # as many overdue each: by team, then employee number
    assert [(row.user.id, row.tally.total) for row in report.agents] == [(one.id, 1), (two.id, 2)]
