"""The mentor report on a hand-built history: counts, pass rates, corrections, waiting times, the
calibration per scenario and its flag, who reads whose report, filters, bounded queries, export."""
import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.models import Practical, RecordEntry, User
from lms.reports import mentors
from lms.reports.period import parse_period
from lms.reports.tables import REPORTS, Filters
from lms.clock import utcnow
from tests.conftest import count_queries
from tests.practicals_support import scenario  # noqa: F401 (fixture)
from tests.unit.test_reports_people_support import correct, nov, observe



@pytest.fixture
def app_config():
    return {"BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai"}


@pytest.fixture
def november(app):
    return parse_period("2026-11")


@pytest.fixture
def history(scenario, make_user):
    """M1 passes everyone on the scenario; M2 fails three and re-observes two; a trainer fails one."""
    m1 = make_user(roles=("mentor", "agent"), name="宽松导师", star_level=4)
    m2 = make_user(roles=("mentor",), name="严格导师")
    trainer = make_user(roles=("trainer",), name="培训师")
    mine = [make_user(mentor=m1), make_user(mentor=m1), make_user(mentor=m1, active=False)]
    theirs = [make_user(mentor=m2, team="热线二组") for _ in range(3)]
    for agent, percent, day in zip(mine * 2, (90, 92, 95, 88, 91), (1, 2, 3, 4, 5)):
        observe(agent, m1, scenario, percent, nov(day))
    observe(mine[0], m1, scenario, 30, nov(20, month=10))  # October: outside the period
    fail1 = observe(theirs[0], m2, scenario, 50, nov(1))
    fail2 = observe(theirs[1], m2, scenario, 60, nov(2))
    fail3 = observe(theirs[2], m2, scenario, 55, nov(3))
    correct(fail3, 58, False, m2, nov(3, hour=8))  # still a fail: counts once, as corrected
    observe(theirs[0], m2, scenario, 80, nov(4), reobservation_of=fail1)  # 3 days later
    observe(theirs[1], m2, scenario, 75, nov(9), reobservation_of=fail2)  # 7 days later
    observe(mine[1], trainer, scenario, 40, nov(5))
    return {"m1": m1, "m2": m2, "trainer": trainer, "scenario": scenario}


def rows_by_name(report):
    return {row.mentor.name: row for row in report.rows}


def test_figures_of_each_mentor(history, november):
    rows = rows_by_name(mentors.mentor_report(history["trainer"], november))
    lenient, strict, trainer = rows["宽松导师"], rows["严格导师"], rows["培训师"]
    assert (lenient.mentees, lenient.total.observed, lenient.total.passed) == (2, 5, 5)
    assert lenient.total.pass_rate == 100.0 and lenient.total.mean == 91.2
    assert (strict.mentees, strict.total.observed, strict.total.passed) == (3, 5, 2)
    assert strict.total.mean == pytest.approx(64.6)  # 50, 60, 58 (corrected from 55), 80, 75
    assert sorted(strict.reobservation_days) == [3.0, 7.0]
    assert strict.median_days == 5.0 and strict.awaiting_reobservation == 1
    assert lenient.median_days is None and lenient.awaiting_reobservation == 0
    assert trainer.total.observed == 1 and trainer.awaiting_reobservation == 1  # a signer who is no mentor


def test_calibration_against_the_other_observers(history, november):
    rows = rows_by_name(mentors.mentor_report(history["trainer"], november))
    [lenient] = rows["宽松导师"].scenarios
    assert (lenient.others.observed, lenient.others.passed) == (6, 2)
    assert lenient.others.pass_rate == 33.3 and lenient.others.mean == 60.5  # (50+60+58+80+75+40) / 6
    assert lenient.flagged and rows["宽松导师"].flagged
    [strict] = rows["严格导师"].scenarios
    assert (strict.others.observed, strict.others.passed) == (6, 5) and not strict.flagged
    assert strict.others.mean == 82.7  # (90+92+95+88+91+40) / 6
    assert mentors.distribution_table(rows["宽松导师"]).values("mine") == [0.0, 0.0, 0.0, 20.0, 80.0]


def test_four_passes_are_not_enough_to_flag(scenario, make_user, november):
    m1, m2 = make_user(roles=("mentor",)), make_user(roles=("mentor",))
    agents = [make_user() for _ in range(5)]
    for agent in agents[:4]:
        observe(agent, m1, scenario, 95, nov(2))
    for agent in agents:
        observe(agent, m2, scenario, 40, nov(3))
    row = mentors.mentor_report(m1, november).rows[0]
    assert row.total.observed == 4 and not row.flagged
    observe(agents[4], m1, scenario, 95, nov(4))
    assert mentors.mentor_report(m1, november).rows[0].flagged


def test_others_at_eighty_percent_do_not_flag(scenario, make_user, november):
    m1, m2 = make_user(roles=("mentor",)), make_user(roles=("mentor",))
    agents = [make_user() for _ in range(5)]
    for agent in agents:
        observe(agent, m1, scenario, 95, nov(2))
    for agent, percent in zip(agents, (90, 90, 90, 90, 40)):
        observe(agent, m2, scenario, percent, nov(3))
    [item] = mentors.mentor_report(m1, november).rows[0].scenarios
    assert item.others.pass_rate == 80.0 and not item.flagged


def test_a_mentor_reads_only_their_own(history, make_user, november):
    m1, m2 = history["m1"], history["m2"]
    own = mentors.mentor_report(m2, november)
    assert [row.mentor.id for row in own.rows] == [m2.id]
    with pytest.raises(mentors.MentorReportNotAllowed):
        mentors.mentor_report(m2, november, mentor_id=m1.id)
    with pytest.raises(mentors.MentorReportNotAllowed):
        mentors.mentor_report(make_user(roles=("agent",)), november)
    assert mentors.mentor_report(make_user(roles=("admin",)), november, mentor_id=m1.id).rows[0].mentor.id == m1.id
    with pytest.raises(mentors.MentorNotFound):
        mentors.mentor_report(history["trainer"], november, mentor_id=999999)


def test_team_filter_narrows_the_observed_agents(history, november):
    rows = rows_by_name(mentors.mentor_report(history["trainer"], november, Filters(team="热线二组")))
    assert rows["宽松导师"].total.observed == 0 and rows["宽松导师"].mentees == 0
    assert rows["严格导师"].total.observed == 5 and rows["严格导师"].awaiting_reobservation == 1


def test_empty_period(history):
    report = mentors.mentor_report(history["trainer"], parse_period("2025-01"))
    assert {row.mentor.name for row in report.rows} == {"宽松导师", "严格导师"}  # the mentors, without figures
    assert all(row.total.observed == 0 and row.total.pass_rate is None and row.median_days is None
               for row in report.rows)


def test_export_builder(history, november):
    tables = REPORTS["mentors"](history["trainer"], november, Filters(), utcnow())
    assert [table.name for table in tables] == ["mentors", "mentors-scenarios"]
    by_name = {row["name"]: row for row in tables[0].rows}
    assert by_name["宽松导师"]["pass_rate"] == 100.0 and by_name["宽松导师"]["flag"] == "yes"
    assert by_name["严格导师"]["median_days"] == 5.0
    assert len(REPORTS["mentors"](None, november, Filters(), utcnow())[0].rows) == 3  # the CLI: everyone
    own = REPORTS["mentors"](history["m2"], november, Filters(), utcnow())
    assert [row["name"] for row in own[0].rows] == ["严格导师"]


def _bulk(scenario, n_agents: int, trainer: User):
    """n agents, one mentor per ten, each agent observed once by their mentor."""
    mentors_ = [User(employee_no=f"BM{i:05d}", name=f"导师{i}", team="热线一组", password_hash="x")
                for i in range(max(1, n_agents // 10))]
    for mentor in mentors_:
        mentor.roles = {"mentor"}
    db.session.add_all(mentors_)
    db.session.flush()
    agents = [User(employee_no=f"BA{i:05d}", name=f"坐席{i}", team="热线一组", password_hash="x",
                   mentor=mentors_[i % len(mentors_)]) for i in range(n_agents)]
    for agent in agents:
        agent.roles = {"agent"}
    db.session.add_all(agents)
    db.session.flush()
    for i, agent in enumerate(agents):
        failed = observe(agent, agent.mentor, scenario, 50 + i % 50, nov(1 + i % 20), commit=False)
        if i % 3 == 0 and not failed.record_entry.passed:
            observe(agent, agent.mentor, scenario, 90, nov(22), reobservation_of=failed, commit=False)
    db.session.commit()


def test_bounded_queries(scenario, make_user, november):
    """The report of every mentor and one mentor's report: as many queries for 10 agents as for 1,000."""
    trainer = make_user(roles=("trainer",))
    counts = []
    for n in (10, 1000):
        db.session.query(Practical).delete()
        db.session.query(RecordEntry).delete()
        db.session.query(User).filter(User.employee_no.like("B%")).delete(synchronize_session=False)
        db.session.commit()
        _bulk(scenario, n, trainer)
        target = db.session.scalar(select(User.id).where(User.employee_no == "BM00000"))
        db.session.expire_all()
        every = count_queries(lambda: mentors.mentor_report(trainer, november))
        one = count_queries(lambda: mentors.mentor_report(trainer, november, mentor_id=target))
        counts.append((every, one))
    report = mentors.mentor_report(trainer, november)
    assert len(report.rows) == 100 and sum(row.total.observed for row in report.rows) > 1000
    assert counts[0] == counts[1] and max(counts[0]) <= 8
