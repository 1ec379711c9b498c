"""The training KPI: the formula, what counts as a month's scored result and an absence, corrections,
months of the center's calendar, empty months, the report's aggregates, bounded queries."""
from datetime import datetime, timedelta, timezone

import pytest

from lms.extensions import db
from lms.models import Exam
from lms.records import kpi
from lms.records.services import add_entry
from tests.conftest import count_queries

UTC = timezone.utc


@pytest.fixture
def app_config():
    return {"BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai"}


def at(day: int, month: int = 11, hour: int = 4) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)  # 12:00 in Shanghai


def exam_entry(user, exam, percent, moment, **kw):
    return add_entry(user=user, kind="exam", title=exam.title, score=percent, max_score=100.0, passed=percent >= 60,
                     occurred_at=moment, details={"exam_id": exam.id, "exam_slug": exam.slug}, **kw)


def practical(user, percent, moment, **kw):
    return add_entry(user=user, kind="practical", title="账单疑问", score=percent, max_score=100.0,
                     passed=percent >= 70, occurred_at=moment, **kw)


def evaluation(user, period, score, imported):
    entry = add_entry(user=user, kind="evaluation", title=period, score=score, max_score=100.0, passed=score >= 85,
                      occurred_at=imported)
    entry.period = period
    return entry


def attendance(user, passed, moment, status="absent"):
    return add_entry(user=user, kind="attendance", title="投诉处理课堂", passed=passed, occurred_at=moment,
                     details={"status": status, "session_id": 1})


def exam_of(slug, method):
    exam = Exam(slug=slug, title=f"考试 {slug}", grading_method=method)
    db.session.add(exam)
    db.session.flush()
    return exam


def cell(user, month="2026-11", **kw):
    return kpi.monthly_kpi([user.id], [month], **kw)[(user.id, month)]


# --- the formula -----------------------------------------------------------------------------------

@pytest.mark.parametrize("average, absences, coefficient, index", [
    (82.5, 0, 5, 82.5),
    (82.5, 2, 5, 72.5),
    (12.0, 3, 5, 0.0),  # never below zero
    (90.04, 1, 2.5, 87.5),  # one decimal
    (None, 2, 5, None),  # no scored result: no index, not zero
])
def test_the_formula(average, absences, coefficient, index):
    assert kpi.training_index(average, absences, coefficient) == index


def test_a_month_with_exams_practicals_evaluations_and_absences(app, make_user):
    agent = make_user()
    highest, first = exam_of("a", "highest"), exam_of("b", "first")
    exam_entry(agent, highest, 50, at(3))
    exam_entry(agent, highest, 80, at(6))  # highest of the month: 80
    exam_entry(agent, first, 70, at(4))
    exam_entry(agent, first, 100, at(9))  # first of the month: 70
    practical(agent, 90, at(10))
    evaluation(agent, "2026-11", 92, at(3, month=12))  # November's, imported in December
    attendance(agent, False, at(12))
    attendance(agent, None, at(13), "excused")
    attendance(agent, True, at(14), "late")
    db.session.commit()
    result = cell(agent)
    assert (result.exams, result.practicals, result.evaluations, result.results) == (2, 1, 1, 4)
    assert result.average == 83.0  # (80 + 70 + 90 + 92) / 4
    assert result.absences == 1 and result.coefficient == 5.0
    assert result.index == 78.0


def test_exam_entries_without_an_exam_id_count_by_title_at_their_highest(app, make_user):
    """Only the exam's id is read of an entry's details (by the database): one without it (written
    elsewhere than by an exam's grading) is grouped by its title and combined by "highest"."""
    agent = make_user()
    first = exam_of("f", "first")
    exam_entry(agent, first, 40, at(3))
    exam_entry(agent, first, 95, at(5))  # first: 40
    for percent, day in ((55, 6), (75, 8)):
        add_entry(user=agent, kind="exam", title="旧系统考试", score=percent, max_score=100.0, passed=percent >= 60,
                  occurred_at=at(day), details={"source": "import"})
    db.session.commit()
    result = cell(agent)
    assert (result.exams, result.average) == (2, 57.5)  # (40 + 75) / 2


def test_average_grading_combines_the_months_attempts(app, make_user):
    agent = make_user()
    exam = exam_of("avg", "average")
    exam_entry(agent, exam, 60, at(2))
    exam_entry(agent, exam, 85, at(20))
    exam_entry(agent, exam, 10, at(2, month=10))  # October: not this month's
    db.session.commit()
    assert (cell(agent).average, cell(agent).results) == (72.5, 1)
    assert cell(agent, "2026-10").average == 10.0


def test_an_empty_month_is_no_data_even_with_absences(app, make_user):
    agent = make_user()
    attendance(agent, False, at(5))
    attendance(agent, False, at(6))
    db.session.commit()
    empty = cell(agent)
    assert (empty.average, empty.index, empty.results, empty.absences, empty.has_data) == (None, None, 0, 2, False)
    assert cell(agent, "2026-09") == kpi.KpiCell(None, 0, 0, 5.0, None)


def test_only_results_in_force_count(app, make_user):
    agent = make_user()
    original = practical(agent, 40, at(8))
    db.session.flush()
    practical(agent, 75, at(8), corrects=original, reason="评分表录入错误")
    absent = attendance(agent, False, at(9))
    db.session.flush()
    add_entry(user=agent, kind="attendance", title="投诉处理课堂", passed=None, occurred_at=at(9), corrects=absent,
              reason="病假条补交", details={"status": "excused", "session_id": 1})
    db.session.commit()
    result = cell(agent)
    assert (result.average, result.results, result.absences, result.index) == (75.0, 1, 0, 75.0)


def test_months_follow_the_centers_time_zone(app, make_user):
    agent = make_user()
    practical(agent, 80, datetime(2026, 10, 31, 17, 0, tzinfo=UTC))  # 1 November, 01:00 in Shanghai
    practical(agent, 60, datetime(2026, 10, 31, 15, 59, tzinfo=UTC))  # 31 October, 23:59 in Shanghai
    db.session.commit()
    assert cell(agent).average == 80.0 and cell(agent, "2026-10").average == 60.0
    assert kpi.month_of(datetime(2026, 10, 31, 16, 0, tzinfo=UTC)) == "2026-11"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_the_month_finder_agrees_with_month_of_to_the_second(app, zone):
    """Reports find an entry's month by the months' bounds; it must be month_of's answer at every
    edge (the last second of a month, the first of the next, a DST change), and None outside."""
    app.config["BABEL_DEFAULT_TIMEZONE"] = zone
    months = ["2026-02", "2026-03", "2026-04", "2026-11"]  # 2026-05..10 left out: a gap
    find = kpi.month_finder(months + ["bad", "2026-13"])
    moments = []
    for month in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-11", "2026-12"):
        start = kpi.month_start(month)
        moments += [start - timedelta(seconds=1), start, start + timedelta(seconds=1), start + timedelta(days=9, hours=7)]
    moments.append(datetime(2026, 3, 8, 7, 30, tzinfo=UTC))  # New York's clocks go forward that night
    for moment in moments:
        expected = kpi.month_of(moment)
        assert find(moment) == (expected if expected in months else None), (zone, moment)


def test_the_coefficient_is_configurable(app, make_user):
    agent = make_user()
    practical(agent, 80, at(8))
    attendance(agent, False, at(9))
    db.session.commit()
    assert cell(agent).index == 75.0
    app.config["LMS_KPI_ABSENCE_POINTS"] = 10.0
    assert cell(agent).index == 70.0 and cell(agent).coefficient == 10.0
    assert cell(agent, coefficient=0).index == 80.0


def test_results_without_a_percent_do_not_count(app, make_user):
    agent = make_user()
    add_entry(user=agent, kind="practical", title="待评分", occurred_at=at(4))  # no score
    add_entry(user=agent, kind="course", title="课程完成", passed=True, occurred_at=at(4))
    db.session.commit()
    assert cell(agent).results == 0 and cell(agent).index is None


def test_month_helpers():
    assert kpi.shift_month("2026-01", -1) == "2025-12" and kpi.shift_month("2026-12", 1) == "2027-01"
    assert kpi.parse_month("2026-13") is None and kpi.parse_month("2026-1") is None
    assert kpi.parse_month(" 2026-02 ") == "2026-02"


def test_agent_kpi_is_twelve_months_newest_first(app, make_user):
    agent = make_user()
    practical(agent, 88, at(1, month=6))
    db.session.commit()
    months = kpi.agent_kpi(agent, datetime(2026, 11, 23, tzinfo=UTC))
    assert [m for m, _ in months][:2] == ["2026-11", "2026-10"] and len(months) == 12
    assert months[-1][0] == "2025-12"
    assert dict(months)["2026-06"].index == 88.0 and dict(months)["2026-07"].index is None


def test_monthly_kpi_runs_two_queries_for_any_number_of_agents(app, make_user):
    exam = exam_of("q", "highest")
    users = [make_user() for _ in range(12)]
    for n, user in enumerate(users):
        exam_entry(user, exam, 60 + n, at(3))
        practical(user, 70, at(4))
        attendance(user, False, at(5))
    ids = [user.id for user in users]
    db.session.commit()
    few = count_queries(lambda: kpi.monthly_kpi(ids[:2], ["2026-11", "2026-10"]))
    cells = {}
    many = count_queries(lambda: cells.update(kpi.monthly_kpi(ids, kpi.recent_months(at(20), 12))))
    assert few == many == 2
    assert len(cells) == 12 * 12 and cells[(ids[3], "2026-11")].index == 61.5  # (63 + 70) / 2 − 5


def test_the_report_aggregates_per_team_and_level(app, make_user):
    trainer = make_user(roles=("trainer",))
    a = make_user(team="热线一组", star_level=1)
    b = make_user(team="热线一组", star_level=2)
    c = make_user(team="热线二组", star_level=1)
    make_user(team="热线二组", star_level=2, active=False)  # left: not in scope
    practical(a, 80, at(3))
    practical(b, 90, at(3))
    attendance(b, False, at(4))
    db.session.commit()
    report = kpi.kpi_report(trainer, "2026-11", sort="index")
    assert [row.user.id for row in report.rows] == [b.id, a.id, c.id]  # 85, 80, no data last
    teams = {t.label: (t.mean_index, t.with_data, t.agents) for t in report.teams}
    assert teams == {"热线一组": (82.5, 2, 2), "热线二组": (None, 0, 1)}
    levels = {lvl.label: (lvl.mean_index, lvl.with_data, lvl.agents) for lvl in report.levels}
    assert levels == {1: (80.0, 1, 2), 2: (85.0, 1, 1)}
    assert (report.overall.mean_index, report.overall.with_data, report.overall.agents) == (82.5, 2, 3)
    narrowed = kpi.kpi_report(trainer, "2026-11", team="热线一组", level=2)
    assert [row.user.id for row in narrowed.rows] == [b.id]


def test_a_mentor_reads_only_mentees_and_an_agent_nothing(app, make_user):
    mentor = make_user(roles=("mentor", "agent"))
    mentee = make_user(mentor=mentor)
    make_user()
    assert [row.user.id for row in kpi.kpi_report(mentor, "2026-11").rows] == [mentee.id]
    with pytest.raises(kpi.KpiNotAllowed):
        kpi.kpi_report(mentee, "2026-11")


def test_export_leaves_no_data_cells_empty_with_a_note(app, make_user):
    trainer = make_user(roles=("trainer",))
    a = make_user(employee_no="E9001", team="热线一组")
    make_user(employee_no="E9002", team="热线一组", name="=HYPERLINK(1)")
    practical(a, 80, at(3))
    db.session.commit()
    report = kpi.kpi_report(trainer, "2026-11")
    data, filename, media_type = kpi.export_kpi("csv", report, "无数据")
    lines = data.decode("utf-8-sig").splitlines()
    assert data.startswith("\ufeff".encode()) and lines[0] == ",".join(kpi.EXPORT_COLUMNS)
    assert lines[1] == "E9001,测试员工" + lines[1].split(",")[1][4:] + ",热线一组,0,2026-11,80.0,1,0,1,0,0,5.0,80.0,"
    assert lines[2].startswith("E9002,'=HYPERLINK(1),") and lines[2].endswith(",2026-11,,0,0,0,0,0,5.0,,无数据")
    assert filename == "training-kpi-2026-11.csv" and media_type.startswith("text/csv")
    with pytest.raises(ValueError):
        kpi.export_kpi("pdf", report, "无数据")
