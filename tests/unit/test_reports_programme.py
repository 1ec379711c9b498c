"""The programme reports' figures (lms/reports/programme.py): a small hand-built center whose every
number is known, drill-down lists that add up to the totals, filters, sorting, trends, the funnel."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import Course, LessonProgress, RecordEntry, StarChange
from lms.plans.reach import onboarding_due
from lms.models.plans import Assignment, Cohort, CohortMember, TrainingPlan
from lms.records.services import add_entry
from lms.reports import programme
from lms.reports.period import parse_period
from lms.reports.tables import REPORTS, Filters

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def course(slug: str) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def read_all(user, slug: str, when: datetime) -> None:
    for lesson in course(slug).lessons:
        db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, opened_at=when, completed_at=when))


def result(user, kind: str, slug: str | None, percent: float, passed: bool, when: datetime, **extra) -> RecordEntry:
    return add_entry(user=user, kind=kind, title=f"{kind} {slug}", course=course(slug) if slug else None,
                     score=percent, max_score=100, passed=passed, occurred_at=when, **extra)


@pytest.fixture
def center(catalog, make_user, frozen_now):
    """Four agents in two teams, a trainer; results, a correction, a plan, a cohort, a refresher.

    A1 热线一组 0 stars, hired 19 Oct (onboarding due before 23 Nov): read basics-a (complete), not basics-b
       (overdue); exams: basics-a 85 passed (good), basics-b 40 failed.
    A2 热线一组 1 star, hired 5 Oct, cohort "十月批次", promoted from 0; read both onboarding courses;
       practical 65 failed in September (outside a November period).
    A3 热线二组 2 stars: refresh completed 2026-01-07 valid until now + 45 days; exam on refresh
       50 failed corrected to 70 passed (pass); practical 95 passed (excellent); assigned level-one by
       a team plan due 10 Nov (overdue).
    A4 热线二组 2 stars, inactive: never counted.
    """
    frozen_now(NOW)
    trainer = make_user(roles=("trainer",), team="")
    a1 = make_user(team="热线一组", star_level=0, hire_date=date(2026, 10, 19), employee_no="A1")
    assert onboarding_due(a1.hire_date) < NOW.date()
    a2 = make_user(team="热线一组", star_level=1, hire_date=date(2026, 10, 5), employee_no="A2")
    a3 = make_user(team="热线二组", star_level=2, hire_date=date(2024, 3, 1), employee_no="A3")
    a4 = make_user(team="热线二组", star_level=2, active=False, employee_no="A4")
    day = datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc)
    read_all(a1, "basics-a", day)
    read_all(a2, "basics-a", datetime(2026, 10, 8, tzinfo=timezone.utc))
    read_all(a2, "basics-b", datetime(2026, 10, 9, tzinfo=timezone.utc))
    result(a1, "exam", "basics-a", 85, True, day)
    result(a1, "exam", "basics-b", 40, False, day + timedelta(days=1))
    result(a2, "practical", "basics-a", 65, False, datetime(2026, 9, 20, tzinfo=timezone.utc))
    wrong = result(a3, "exam", "refresh", 50, False, datetime(2026, 11, 3, tzinfo=timezone.utc))
    result(a3, "exam", "refresh", 70, True, datetime(2026, 11, 3, tzinfo=timezone.utc), corrects=wrong,
           reason="评分错误")
    result(a3, "practical", "refresh", 95, True, datetime(2026, 11, 5, tzinfo=timezone.utc))
    result(a4, "exam", "refresh", 99, True, day)
    done = add_entry(user=a3, kind="course", title="refresh", course=course("refresh"), passed=True,
                     occurred_at=datetime(2026, 1, 7, tzinfo=timezone.utc))
    done.valid_until = NOW + timedelta(days=45)
    db.session.add(StarChange(user=a2, kind="promotion", from_level=0, to_level=1, changed_at=datetime(
        2026, 11, 20, tzinfo=timezone.utc)))
    cohort = Cohort(name="十月批次")
    db.session.add(cohort)
    db.session.flush()
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=a2.id))
    plan = TrainingPlan(name="二组提升")
    db.session.add(plan)
    db.session.flush()
    db.session.add(Assignment(plan_id=plan.id, item_kind="course", course_id=course("level-one").id,
                              target_kind="team", target_team="热线二组", starts_on=date(2026, 11, 1),
                              due_on=date(2026, 11, 10), month="2026-11"))
    db.session.commit()
    return {"trainer": trainer, "a1": a1, "a2": a2, "a3": a3, "a4": a4, "cohort": cohort}


def load(period="2026-11", **filters):
    return programme.load_programme(parse_period(period), Filters(**filters), NOW)


def test_overview_numbers_are_the_hand_counted_ones(center):
    view = programme.overview(load())
    n = view.numbers
    assert n["agents"] == 3  # the inactive agent and the trainer are out
    # A1: basics-a, basics-b (level 0 required + onboarding); A2: level-one; A3: refresh + level-one (plan)
    assert (n["assigned"], n["complete"]) == (5, 2)  # A1 basics-a, A3 refresh
    assert n["overdue"] == 2  # A1 basics-b (onboarding window over), A3 level-one (due 10 Nov)
    assert (n["exams_taken"], n["exams_passed"]) == (3, 2)  # the corrected 50 is not in force
    assert (n["practicals_taken"], n["practicals_passed"]) == (1, 1)  # A2's September fail is outside
    assert view.exam_rate == pytest.approx(66.7) and view.practical_rate == 100.0
    assert view.average == pytest.approx(round((85 + 40 + 70 + 95) / 4, 1))
    assert (n["band_excellent"], n["band_good"], n["band_pass"], n["band_needs_improvement"]) == (1, 1, 1, 1)
    assert (n["expiring_30"], n["expiring_60"], n["expiring_90"]) == (0, 1, 1)
    assert view.completion_rate == 40.0


@pytest.mark.parametrize("filters", [{}, {"team": "热线一组"}, {"level": 2}, {"track": "refresher"},
                                     {"course_slug": "basics-b"}])
def test_each_drill_down_list_adds_up_to_its_number(center, filters):
    data = load(**filters)
    numbers = programme.overview(data).numbers
    for metric in numbers:
        table = programme.drill_down(data, metric)
        listed = len(table.rows) if programme.METRICS[metric].counts_agents else sum(r["value"] for r in table.rows)
        assert listed == numbers[metric], metric
        if metric != "agents":
            assert all(row["value"] for row in table.rows), metric  # nobody listed for a zero
    for intake, counts in programme.overview(data).funnel:
        for stage in programme.FUNNEL_STAGES:
            assert len(programme.drill_down(data, f"funnel_{stage}", intake.key).rows) == counts[stage]


def test_drill_down_names_the_agents(center):
    data = load()
    overdue = programme.drill_down(data, "overdue")
    assert [(r["employee_no"], r["team"], r["value"]) for r in overdue.rows] == [("A1", "热线一组", 1),
                                                                                ("A3", "热线二组", 1)]
    assert [r["employee_no"] for r in programme.drill_down(data, "expiring_60").rows] == ["A3"]
    assert [r["employee_no"] for r in programme.drill_down(data, "exams_failed").rows] == ["A1"]
    with pytest.raises(programme.UnknownMetric):
        programme.drill_down(data, "nonsense")
    with pytest.raises(programme.UnknownMetric):
        programme.drill_down(data, "funnel_lessons", "cohort:999999")


def test_filters_narrow_agents_and_courses(center):
    assert programme.overview(load(team="热线二组")).numbers["agents"] == 1
    by_track = programme.overview(load(track="onboarding")).numbers
    assert (by_track["assigned"], by_track["complete"], by_track["overdue"]) == (2, 1, 1)
    assert (by_track["exams_taken"], by_track["practicals_taken"]) == (2, 0)
    one = programme.overview(load(course_slug="refresh")).numbers
    assert (one["assigned"], one["complete"], one["exams_taken"], one["expiring_90"]) == (1, 1, 1, 1)
    nobody = programme.overview(load(level=5))
    assert nobody.numbers["agents"] == 0 and nobody.exam_rate is None and nobody.average is None


def test_the_period_decides_which_results_count(center):
    september = programme.overview(load("2026-09")).numbers
    assert (september["practicals_taken"], september["practicals_passed"], september["exams_taken"]) == (1, 0, 0)
    year = programme.overview(load("2026")).numbers
    assert (year["practicals_taken"], year["exams_taken"]) == (2, 3)


def test_onboarding_funnel_by_cohort_and_hire_month(center):
    view = programme.overview(load("2026-10..2026-11"))
    funnel = {intake.label: counts for intake, counts in view.funnel}
    cohort = funnel["十月批次"]
    assert cohort == {"intake": 1, "lessons": 1, "exams": 1, "practicals": 1, "promoted": 1}
    hired = [counts for intake, counts in view.funnel if intake.key == "hired:2026-10"][0]
    assert hired == {"intake": 1, "lessons": 0, "exams": 1, "practicals": 1, "promoted": 0}
    # A3 (hired 2024, no cohort) is in no intake of this period
    assert sum(c["intake"] for _, c in view.funnel) == 2
    key = f"cohort:{center['cohort'].id}"
    rows = programme.drill_down(load("2026-10..2026-11"), "funnel_promoted", key).rows
    assert [r["employee_no"] for r in rows] == ["A2"]


def test_team_and_course_tables_and_sorting(center):
    data = load()
    teams = programme.teams_table(data)
    assert [r["team"] for r in teams.rows] == ["热线一组", "热线二组"]
    one, two = teams.rows
    assert (one["agents"], one["assigned"], one["complete"], one["overdue"]) == (2, 3, 1, 1)
    assert one["exam_rate"] == 50.0 and two["exam_rate"] == 100.0 and one["practical_rate"] is None
    by_rate = programme.teams_table(data, "exam_rate", descending=True)
    assert [r["team"] for r in by_rate.rows] == ["热线二组", "热线一组"]
    by_practical = programme.teams_table(data, "practical_rate", descending=False)
    assert by_practical.rows[-1]["team"] == "热线一组"  # empty last either way
    assert programme.teams_table(data, "no-such-column").rows == teams.rows
    courses = {r["slug"]: r for r in programme.courses_table(data).rows}
    assert (courses["basics-b"]["assigned"], courses["basics-b"]["complete"], courses["basics-b"]["overdue"]) == (1, 0, 1)
    assert courses["refresh"]["exam_results"] == 1 and courses["refresh"]["average"] == pytest.approx(82.5)
    assert courses["level-one"]["assigned"] == 2 and courses["level-one"]["overdue"] == 1


def test_trend_by_month(center):
    trend = programme.trend_table(load("2026-09..2026-11"), "t")
    assert [r["month"] for r in trend.rows] == ["2026-09", "2026-10", "2026-11"]
    september, october, november = trend.rows
    assert september["practical_rate"] == 0.0 and september["exam_rate"] is None
    assert october == {"month": "2026-10", "completions": 0, "exam_rate": None, "practical_rate": None,
                       "average": None, "index": None}
    assert november["exam_rate"] == pytest.approx(66.7)
    assert november["index"] is not None  # monthly_kpi has results that month
    one_course = programme.trend_table(load("2026-11"), "c", course_id=course("refresh").id)
    assert one_course.rows[0]["exam_rate"] == 100.0 and one_course.rows[0]["index"] is None


def test_registered_builders(center):
    assert {"overview", "teams", "courses", "team", "course"} <= set(REPORTS)
    period = parse_period("2026-11")
    tables = REPORTS["overview"](center["trainer"], period, Filters(), NOW)
    assert [t.name for t in tables] == ["overview", "overview-bands", "overview-expiring", "overview-onboarding",
                                        "overview-trend"]
    team = REPORTS["team"](center["trainer"], period, Filters(team="热线二组"), NOW)
    assert [r["employee_no"] for r in team[1].rows] == ["A3"]
    with pytest.raises(programme.ReportNotAllowed):
        REPORTS["teams"](center["a1"], period, Filters(), NOW)


def test_check_filters(center):
    programme.check_filters(Filters(team="热线一组", level=0, track="onboarding", course_slug="basics-a"))
    for bad in (Filters(team="不存在"), Filters(level=9), Filters(track="x"), Filters(course_slug="nope")):
        with pytest.raises(programme.FilterInvalid):
            programme.check_filters(bad)


def test_empty_center(app, frozen_now):
    frozen_now(NOW)
    view = programme.overview(load())
    assert view.numbers["agents"] == 0 and view.funnel == [] and len(view.trend.rows) == 1
    assert programme.teams_table(load()).rows == []
