"""The mentor report: per mentor, their mentees, the practicals they observed in a period, the pass
rate, how long a failed agent waits for the re-observation, and a first look at calibration: the
scores a mentor gives on a scenario against the scores every other observer gives on it.

- An observation is a signed practical, counted for whoever signed it (a trainer who signs appears
  too), dated by its sign-off. Its result is the record entry in force (a correction replaces it).
- Time to re-observation: for each failed observation of the period, the days from its sign-off to
  the sign-off of the practical scheduled as its re-observation (the median, over those re-observed);
  the fails still waiting are counted apart.
- Calibration, per scenario: this mentor's mean percent and pass rate against the other observers'
  on the same scenario in the same period. A scenario is flagged when the mentor passed everyone on
  at least FLAG_MIN_OBSERVATIONS observations while the others passed fewer than FLAG_OTHERS_BELOW %.

Every figure is an SQL aggregate: five queries whatever the number of mentors, agents or practicals.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from lms.extensions import db
from lms.models import Practical, RecordEntry, Scenario, User, UserRole
from lms.records.completion import in_force
from lms.reports.period import Period
from lms.reports.tables import Column, Filters, ReportTable, report

FLAG_MIN_OBSERVATIONS = 5
FLAG_OTHERS_BELOW = 80.0
# The score bands of the distribution, lower bounds in percent (the last one includes 100).
BUCKETS = (0, 60, 70, 80, 90)
SECONDS_PER_DAY = 86400.0


class MentorReportNotAllowed(PermissionError):
    """Agents read no report; a mentor reads only their own."""


class MentorNotFound(LookupError):
    pass


@dataclass
class Tally:
    """Observations of one scenario (or of all), their passes and the sum of their percents."""

    observed: int = 0
    passed: int = 0
    percent_total: float = 0.0
    scored: int = 0  # observations with a percent
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))

    def add(self, other: "Tally") -> None:
        self.observed += other.observed
        self.passed += other.passed
        self.percent_total += other.percent_total
        self.scored += other.scored
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets)]

    def minus(self, other: "Tally") -> "Tally":
        return Tally(self.observed - other.observed, self.passed - other.passed,
                     self.percent_total - other.percent_total, self.scored - other.scored,
                     [a - b for a, b in zip(self.buckets, other.buckets)])

    @property
    def pass_rate(self) -> float | None:
        return round(100.0 * self.passed / self.observed, 1) if self.observed else None

    @property
    def mean(self) -> float | None:
        return round(self.percent_total / self.scored, 1) if self.scored else None

    def bucket_shares(self) -> list[float | None]:
        """Each band's share of the scored observations, in percent."""
        return [round(100.0 * n / self.scored, 1) if self.scored else None for n in self.buckets]


@dataclass
class ScenarioCalibration:
    scenario_id: int
    title: str
    mine: Tally
    others: Tally

    @property
    def flagged(self) -> bool:
        return (self.mine.observed >= FLAG_MIN_OBSERVATIONS and self.mine.passed == self.mine.observed
                and self.others.observed > 0 and self.others.pass_rate < FLAG_OTHERS_BELOW)


@dataclass
class MentorRow:
    mentor: User
    mentees: int = 0
    total: Tally = field(default_factory=Tally)
    reobservation_days: list[float] = field(default_factory=list)
    awaiting_reobservation: int = 0
    scenarios: list[ScenarioCalibration] = field(default_factory=list)

    @property
    def median_days(self) -> float | None:
        return round(statistics.median(self.reobservation_days), 1) if self.reobservation_days else None

    @property
    def flagged(self) -> bool:
        return any(item.flagged for item in self.scenarios)


@dataclass
class MentorReport:
    period: Period
    rows: list[MentorRow]


# --- who may read what ---------------------------------------------------------------------------

def may_read_all(viewer: User | None) -> bool:
    """Trainers, admins, and the system itself (viewer None: `lms reports export`)."""
    return viewer is None or viewer.has_role("trainer", "admin")


def check_mentor_access(viewer: User, mentor_id: int) -> None:
    """Trainers and admins read every mentor's report; a mentor their own. Raises
    MentorReportNotAllowed."""
    if may_read_all(viewer):
        return
    if viewer.has_role("mentor") and viewer.id == mentor_id:
        return
    raise MentorReportNotAllowed(mentor_id)


# --- the figures ---------------------------------------------------------------------------------

def _bucket_index(percent: float) -> int:
    return max(i for i, low in enumerate(BUCKETS) if percent >= low)


def _observations(period: Period, filters: Filters):
    """(signer, scenario, pass?, percent) aggregated, of the signed practicals of the period."""
    statement = (
        select(Practical.signed_by_id, Practical.scenario_id, func.count(),
               func.sum(case((RecordEntry.passed.is_(True), 1), else_=0)),
               func.sum(RecordEntry.percent), func.count(RecordEntry.percent),
               *[func.sum(case((and_(RecordEntry.percent >= low, RecordEntry.percent < high), 1), else_=0))
                 for low, high in zip(BUCKETS, BUCKETS[1:] + (1000,))])
        .select_from(Practical)
        .join(RecordEntry, and_(RecordEntry.source_type == "practical", RecordEntry.source_id == Practical.id,
                                RecordEntry.kind == "practical", in_force()))
        .where(Practical.status == "signed", Practical.signed_by_id.is_not(None),
               Practical.signed_at >= period.start, Practical.signed_at < period.end)
        .group_by(Practical.signed_by_id, Practical.scenario_id))
    return db.session.execute(_narrow(statement, filters)).all()


def _narrow(statement, filters: Filters):
    """The observations of agents of the filters' team and star level (as they are now)."""
    if filters.team or filters.level is not None:
        agent = aliased(User)
        statement = statement.join(agent, agent.id == Practical.agent_id)
        if filters.team:
            statement = statement.where(agent.team == filters.team)
        if filters.level is not None:
            statement = statement.where(agent.star_level == filters.level)
    return statement


def _fails(period: Period, filters: Filters):
    """(signer of the fail, its sign-off, the re-observation's sign-off or None) for every failed
    observation of the period (the result in force)."""
    follow_up = aliased(Practical)
    return db.session.execute(_narrow(
        select(Practical.signed_by_id, Practical.signed_at, func.min(follow_up.signed_at))
        .select_from(Practical)
        .join(RecordEntry, and_(RecordEntry.source_type == "practical", RecordEntry.source_id == Practical.id,
                                RecordEntry.kind == "practical", in_force()))
        .outerjoin(follow_up, and_(follow_up.reobservation_of_id == Practical.id, follow_up.status == "signed"))
        .where(Practical.status == "signed", Practical.signed_by_id.is_not(None), RecordEntry.passed.is_(False),
               Practical.signed_at >= period.start, Practical.signed_at < period.end)
        .group_by(Practical.id, Practical.signed_by_id, Practical.signed_at), filters)).all()


def mentor_report(viewer: User, period: Period, filters: Filters = Filters(), *,
                  mentor_id: int | None = None) -> MentorReport:
    """Every mentor's row (trainers, admins), or one mentor's (`mentor_id`; a mentor: their own),
    each with its calibration per scenario. Mentors are the active users with the mentor role and
    whoever signed a practical in the period. Raises MentorReportNotAllowed, MentorNotFound."""
    if mentor_id is None and not may_read_all(viewer):
        if not viewer.has_role("mentor"):
            raise MentorReportNotAllowed(viewer.id)
        mentor_id = viewer.id
    if mentor_id is not None:
        check_mentor_access(viewer, mentor_id)

    by_pair: dict[tuple[int, int], Tally] = {}
    by_scenario: dict[int, Tally] = defaultdict(Tally)
    for signer, scenario_id, observed, passed, percent_total, scored, *buckets in _observations(period, filters):
        tally = Tally(int(observed), int(passed or 0), float(percent_total or 0.0), int(scored or 0),
                      [int(n or 0) for n in buckets])
        by_pair[(signer, scenario_id)] = tally
        by_scenario[scenario_id].add(tally)
    signers = {signer for signer, _ in by_pair}

    mentor_role = select(UserRole.user_id).where(UserRole.role == "mentor")
    people = select(User).where(or_(and_(User.id.in_(mentor_role), User.active.is_(True)),
                                    User.id.in_(signers) if signers else False))
    if mentor_id is not None:
        people = select(User).where(User.id == mentor_id)
    mentors = list(db.session.scalars(people.order_by(User.name, User.employee_no)))
    if mentor_id is not None and not mentors:
        raise MentorNotFound(mentor_id)
    rows = {mentor.id: MentorRow(mentor) for mentor in mentors}
    if not rows:
        return MentorReport(period, [])

    mentee_counts = select(User.mentor_id, func.count()).where(User.active.is_(True), User.mentor_id.in_(list(rows)))
    if filters.team:
        mentee_counts = mentee_counts.where(User.team == filters.team)
    if filters.level is not None:
        mentee_counts = mentee_counts.where(User.star_level == filters.level)
    for mentor, count in db.session.execute(mentee_counts.group_by(User.mentor_id)):
        rows[mentor].mentees = count

    titles = dict(db.session.execute(select(Scenario.id, Scenario.title).where(
        Scenario.id.in_({scenario for _, scenario in by_pair}))).all()) if by_pair else {}
    for (signer, scenario_id), tally in sorted(by_pair.items(), key=lambda item: (titles.get(item[0][1], ""),
                                                                                 item[0][1])):
        row = rows.get(signer)
        if row is None:
            continue
        row.total.add(tally)
        row.scenarios.append(ScenarioCalibration(scenario_id, titles.get(scenario_id, "?"), tally,
                                                 by_scenario[scenario_id].minus(tally)))

    for signer, failed_at, reobserved_at in _fails(period, filters):
        row = rows.get(signer)
        if row is None:
            continue
        if reobserved_at is None:
            row.awaiting_reobservation += 1
        else:
            row.reobservation_days.append((reobserved_at - failed_at).total_seconds() / SECONDS_PER_DAY)
    return MentorReport(period, list(rows.values()))


def load_mentor_report_for(viewer: User, mentor_id: int, period: Period) -> MentorRow:
    """One mentor's row. Raises MentorReportNotAllowed, MentorNotFound."""
    check_mentor_access(viewer, mentor_id)
    rows = mentor_report(viewer, period, mentor_id=mentor_id).rows
    return rows[0]


# --- the tables (page, chart and exports) ---------------------------------------------------------

MENTOR_COLUMNS = [
    Column("employee_no", _l("Employee no."), "text"),
    Column("name", _l("Mentor"), "text"),
    Column("team", _l("Team"), "text"),
    Column("mentees", _l("Mentees"), "int"),
    Column("observed", _l("Practicals observed"), "int"),
    Column("pass_rate", _l("Pass rate (%)"), "percent"),
    Column("mean", _l("Mean score (%)"), "percent"),
    Column("median_days", _l("Median days to re-observation"), "number"),
    Column("awaiting", _l("Fails awaiting re-observation"), "int"),
    Column("flag", _l("Passes nearly everyone"), "text"),
]

CALIBRATION_COLUMNS = [
    Column("employee_no", _l("Employee no."), "text"),
    Column("name", _l("Mentor"), "text"),
    Column("scenario", _l("Scenario"), "text"),
    Column("observed", _l("Observed by this mentor"), "int"),
    Column("mean", _l("This mentor's mean (%)"), "percent"),
    Column("others_mean", _l("Other mentors' mean (%)"), "percent"),
    Column("pass_rate", _l("This mentor's pass rate (%)"), "percent"),
    Column("others_pass_rate", _l("Other mentors' pass rate (%)"), "percent"),
    Column("others_observed", _l("Observed by other mentors"), "int"),
    Column("flag", _l("Passes nearly everyone"), "text"),
]


def _flag_text(flagged: bool) -> str:
    return str(_l("yes")) if flagged else ""


def mentors_table(result: MentorReport) -> ReportTable:
    return ReportTable("mentors", _l("Mentors"), MENTOR_COLUMNS, [{
        "employee_no": row.mentor.employee_no, "name": row.mentor.name, "team": row.mentor.team,
        "mentees": row.mentees, "observed": row.total.observed, "pass_rate": row.total.pass_rate,
        "mean": row.total.mean, "median_days": row.median_days, "awaiting": row.awaiting_reobservation,
        "flag": _flag_text(row.flagged), "mentor_id": row.mentor.id,
    } for row in result.rows])


def calibration_table(rows: list[MentorRow], name: str = "mentors-scenarios", title=None) -> ReportTable:
    title = title or _l("Scores by scenario: this mentor against the others")
    return ReportTable(name, title, CALIBRATION_COLUMNS, [{
        "employee_no": row.mentor.employee_no, "name": row.mentor.name, "scenario": item.title,
        "observed": item.mine.observed, "mean": item.mine.mean, "others_mean": item.others.mean,
        "pass_rate": item.mine.pass_rate, "others_pass_rate": item.others.pass_rate,
        "others_observed": item.others.observed, "flag": _flag_text(item.flagged),
    } for row in rows for item in row.scenarios])


def bucket_labels() -> list[str]:
    highs = list(BUCKETS[1:])
    return [f"{low}–{high - 1}" if high else f"{low}–100" for low, high in zip(BUCKETS, highs + [None])]


def distribution_table(row: MentorRow) -> ReportTable:
    """The share of observations in each score band, this mentor against the others, all scenarios
    the mentor observed (the others' on those same scenarios)."""
    others = Tally()
    for item in row.scenarios:
        others.add(item.others)
    mine_shares, other_shares = row.total.bucket_shares(), others.bucket_shares()
    return ReportTable("mentor-distribution", _l("Distribution of the scores given"), [
        Column("band", _l("Score (%)"), "text"),
        Column("mine", _l("This mentor (share of observations)"), "percent"),
        Column("others", _l("Other mentors (share of observations)"), "percent"),
    ], [{"band": label, "mine": mine, "others": other}
        for label, mine, other in zip(bucket_labels(), mine_shares, other_shares)])


@report("mentors")
def build_mentors(viewer: User, period: Period, filters: Filters, now: datetime) -> list[ReportTable]:
    """The mentors (a mentor: only their own row) and their calibration per scenario."""
    result = mentor_report(viewer, period, filters)
    return [mentors_table(result), calibration_table(result.rows)]
