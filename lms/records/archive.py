"""The training archive (培训档案) of one agent, and the staff list that leads to it.

Everything here reads; nothing writes. The archive runs a fixed number of queries whatever the
size of the record: the entries are loaded at once (with their authors) and grouped in Python,
the course standing comes from lms.records.completion, the star ladder from lms.promotions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.admin.services import like_pattern
from lms.certificates.services import certificates_of
from lms.extensions import db
from lms.models import Certificate, Course, RecordEntry, StarChange, User
from lms.promotions.services import Eligibility, eligibility, ladder, level_title, star_history
from lms.pagination import clamp_page
from lms.records.access import load_agent_for
from lms.records.completion import CourseState, Standing, live_courses, load_standing

SCORED_KINDS = ("exam", "practical")  # the kinds the average score and the pass rate count
SOON = 5  # expiring completions shown in the summary


class StaffListNotAllowed(PermissionError):
    """Only mentors (their mentees), trainers and admins list staff."""


# --- filters ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArchiveFilter:
    """What the reader narrowed the entries to; None means no limit. `date_to` is inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    course_id: int | None = None
    kind: str | None = None
    tz: tzinfo = timezone.utc  # the center's time zone: a day runs from its midnight to the next


    @property
    def active(self) -> bool:
        return any(value is not None for value in (self.date_from, self.date_to, self.course_id, self.kind))

    def covers(self, moment: datetime) -> bool:
        if self.date_from is not None and moment < _start_of(self.date_from, self.tz):
            return False
        if (self.date_to is not None and self.date_to < date.max  # the day after date.max does not exist
                and moment >= _start_of(self.date_to + timedelta(days=1), self.tz)):
            return False
        return True

    def matches(self, entry: RecordEntry) -> bool:
        return (self.covers(entry.occurred_at)
                and (self.course_id is None or entry.course_id == self.course_id)
                and (self.kind is None or entry.kind == self.kind))


def _start_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


# --- rows of the record -----------------------------------------------------------------------------

@dataclass
class EntryGroup:
    """A result as first recorded, and the entries that corrected it, in the order they were made."""

    entry: RecordEntry
    corrections: list[RecordEntry] = field(default_factory=list)
    is_expiry = False

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)

    @property
    def in_force(self) -> RecordEntry:
        return self.corrections[-1] if self.corrections else self.entry

    @property
    def moment(self) -> datetime:
        return self.entry.occurred_at

    def members(self) -> list[RecordEntry]:
        return [self.entry, *self.corrections]


@dataclass
class ExpiryRow:
    """Derived, not stored: a course completion whose validity ended before now."""

    completion: RecordEntry
    is_expiry = True

    @property
    def moment(self) -> datetime:
        return self.completion.valid_until


def group_entries(entries: list[RecordEntry]) -> list[EntryGroup]:
    """Each original result with the chain of corrections made to it (a correction of a correction
    joins the same chain), originals in the order given."""
    by_id = {entry.id: entry for entry in entries}
    groups: dict[int, EntryGroup] = {}
    root_of: dict[int, int] = {}

    def root(entry: RecordEntry) -> int:
        seen = set()
        while entry.corrects_id is not None and entry.corrects_id in by_id and entry.id not in seen:
            seen.add(entry.id)
            entry = by_id[entry.corrects_id]
        return entry.id

    for entry in entries:
        root_of[entry.id] = root(entry)
        if root_of[entry.id] == entry.id:
            groups[entry.id] = EntryGroup(entry)
    for entry in sorted(entries, key=lambda e: (e.created_at, e.id)):
        if root_of[entry.id] != entry.id:
            groups[root_of[entry.id]].corrections.append(entry)
    return list(groups.values())


def expiry_rows(groups: list[EntryGroup], now: datetime) -> list[ExpiryRow]:
    """A row per course completion in force whose `valid_until` has passed."""
    return [ExpiryRow(group.in_force) for group in groups
            if group.in_force.kind == "course" and group.in_force.passed
            and group.in_force.valid_until is not None and group.in_force.valid_until <= now]


# --- the summary ------------------------------------------------------------------------------------

@dataclass
class LevelProgress:
    level: int
    required_done: int = 0
    required_total: int = 0
    elective_done: int = 0
    elective_total: int = 0
    expired: int = 0


def level_progress(standing: Standing) -> list[LevelProgress]:
    """Per star level, how many required and elective courses count (complete, or due but not expired)."""
    levels: dict[int, LevelProgress] = {}
    for course in standing.courses:
        state = standing.state(course)
        row = levels.setdefault(course.star_level, LevelProgress(course.star_level))
        if course.kind == "required":
            row.required_total += 1
            row.required_done += state.counts
        else:
            row.elective_total += 1
            row.elective_done += state.counts
        row.expired += state.status == "expired"
    return [levels[level] for level in sorted(levels)]


@dataclass
class Summary:
    levels: list[LevelProgress]
    average_percent: float | None  # mean percent of the exam and practical results in force
    passed: int
    decided: int
    expiring: list[CourseState]  # completions with an expiry ahead, soonest first
    due_or_expired: list[CourseState]  # refreshers in a recertification cycle, most urgent first

    @property
    def pass_rate(self) -> float | None:
        return round(100.0 * self.passed / self.decided, 1) if self.decided else None


def summarize(groups: list[EntryGroup], standing: Standing) -> Summary:
    scored = [group.in_force for group in groups if group.in_force.kind in SCORED_KINDS]
    percents = [entry.percent for entry in scored if entry.percent is not None]
    decided = [entry for entry in scored if entry.passed is not None]
    return Summary(
        levels=level_progress(standing),
        average_percent=round(sum(percents) / len(percents), 1) if percents else None,
        passed=sum(1 for entry in decided if entry.passed), decided=len(decided),
        expiring=standing.expiring()[:SOON], due_or_expired=standing.due_or_expired(),
    )


# --- the archive ------------------------------------------------------------------------------------

@dataclass
class Archive:
    agent: User
    level_title: str
    history: list[StarChange]
    eligibility: Eligibility
    rows: list[EntryGroup | ExpiryRow]  # newest first, as filtered
    total_entries: int  # every entry of the record, unfiltered
    summary: Summary
    certificates: list[Certificate]
    courses: list[Course]  # the live catalog, for the course filter
    filters: ArchiveFilter


def load_entries(agent: User) -> list[RecordEntry]:
    """Every entry of `agent`'s record with its author, oldest first (one query, however many authors)."""
    return list(db.session.scalars(
        select(RecordEntry).where(RecordEntry.user_id == agent.id)
        .options(joinedload(RecordEntry.recorded_by))
        .order_by(RecordEntry.occurred_at, RecordEntry.id)))


def build_archive(agent: User, now: datetime, filters: ArchiveFilter | None = None,
                  courses: list[Course] | None = None) -> Archive:
    """The archive of `agent` at `now`, its entries narrowed by `filters` (the summary is not).
    `courses`: the live catalog, when the caller has it already."""
    filters = filters or ArchiveFilter()
    courses = live_courses() if courses is None else courses
    standing = load_standing(agent, now, courses)
    groups = group_entries(load_entries(agent))
    shown: list[EntryGroup | ExpiryRow] = [
        group for group in groups if any(filters.matches(member) for member in group.members())]
    shown += [row for row in expiry_rows(groups, now)
              if filters.covers(row.moment)
              and (filters.course_id is None or row.completion.course_id == filters.course_id)
              and filters.kind in (None, "course")]
    shown.sort(key=lambda row: (row.moment, isinstance(row, ExpiryRow)), reverse=True)
    rules = ladder()
    return Archive(
        agent=agent, level_title=level_title(agent.star_level, rules), history=star_history(agent),
        eligibility=eligibility(agent, now), rows=shown, total_entries=sum(len(g.members()) for g in groups),
        summary=summarize(groups, standing), certificates=certificates_of(agent), courses=courses, filters=filters,
    )


def load_archive_for(viewer: User, employee_no: str, now: datetime, filters: ArchiveFilter | None = None) -> Archive:
    """The archive if `viewer` may read it. Raises ArchiveNotFound, NotAllowed (lms.records.access)."""
    return build_archive(load_agent_for(viewer, employee_no), now, filters)


# --- the staff list ---------------------------------------------------------------------------------

def may_list_staff(viewer: User) -> bool:
    return viewer.has_role("mentor", "trainer", "admin")


def search_staff(viewer: User, query: str | None, page: int = 1, per_page: int = 50) -> Pagination:
    """One page of the accounts `viewer` may open the archive of, whose employee number, name or
    team contains `query`: everyone for trainers and admins, their own mentees for mentors.
    Two queries whatever the page size (the count, the users with their mentor joined).
    Raises StaffListNotAllowed."""
    if not may_list_staff(viewer):
        raise StaffListNotAllowed(viewer.id)
    statement = select(User).options(selectinload(User.mentor)).order_by(User.employee_no)
    if not viewer.has_role("trainer", "admin"):
        statement = statement.where(User.mentor_id == viewer.id)
    text = (query or "").strip()
    if text:
        pattern = like_pattern(text)
        statement = statement.where(or_(*(column.ilike(pattern, escape="\\")
                                          for column in (User.employee_no, User.name, User.team))))
    return db.paginate(statement, page=clamp_page(page), per_page=per_page, error_out=False)
