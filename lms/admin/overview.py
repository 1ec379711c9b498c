"""The admin's landing page (/admin): the staff in numbers, what waits for a decision (promotions,
overdue training, imports), and the latest audit events.

Read-only, and a fixed number of queries whatever the size of the center. The page itself (`load`)
aggregates in SQL and answers at once. Who is ready for promotion and who is behind on training
(`decisions`) come from the same services as their own pages, which work out every agent's course
completion: a fixed number of queries too, but seconds of work in a center of thousands, so the page
shows placeholders and fetches them from /admin/decisions (static/js/fill.js)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from lms.extensions import db
from lms.models import Job, User, UserRole
from lms.models.users import ROLES, STAR_LEVELS
from lms.plans.progress import overdue_overview
from lms.promotions.services import Eligibility, ready_for_promotion
from lms.reports.audit import AuditFilter, EventView, may_read, search_events

RECENT_EVENTS = 6
RECENT_IMPORTS = 4
FAILED_IMPORT_DAYS = 7
IMPORT_KINDS = {"staff": _l("Staff list"), "bank": _l("Question bank"), "evaluations": _l("Customer evaluations")}
IMPORT_STATUSES = {"queued": _l("Waiting"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}


@dataclass
class StaffNumbers:
    agents_by_star: list[tuple[int, int]]  # (star level, active agents), every level 0-5
    roles: dict[str, int]  # active accounts holding each role
    inactive: int  # accounts that cannot log in
    awaiting_activation: int  # active accounts still waiting for their code to be used
    codes_expired: int  # ... whose code has expired (the admin must issue a new one)
    must_change_password: int  # reset by an admin, the new password not chosen yet

    @property
    def agents(self) -> int:
        return sum(count for _level, count in self.agents_by_star)

    @property
    def busiest_level(self) -> int:
        return max((count for _level, count in self.agents_by_star), default=0)


@dataclass
class ImportRow:
    id: int
    kind: str  # staff / bank / evaluations
    status: str  # queued / running / done / failed
    filename: str
    created_at: datetime
    by: str

    @property
    def kind_label(self):
        return IMPORT_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self):
        return IMPORT_STATUSES.get(self.status, self.status)


@dataclass
class AdminOverview:
    staff: StaffNumbers
    imports: list[ImportRow]  # the latest, newest first
    imports_running: int
    imports_failed: int  # in the last FAILED_IMPORT_DAYS days
    events: list[EventView] = field(default_factory=list)
    events_total: int = 0


@dataclass
class Decisions:
    ready: list[Eligibility]  # ready for promotion and not declined, by team and number
    declined: int  # ready but declined before (the promotions page lists them last)
    overdue_items: int
    overdue_agents: int
    overdue_teams: list[tuple[str, int]]  # (team, overdue items), most first
    imports_failed: int

    @property
    def waiting(self) -> int:
        """How many things wait for the admin: ready promotions, agents behind, failed imports."""
        return len(self.ready) + self.overdue_agents + self.imports_failed


def staff_numbers(now: datetime) -> StaffNumbers:
    """Three queries."""
    per_level = dict(db.session.execute(
        select(User.star_level, func.count()).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "agent", User.active.is_(True)).group_by(User.star_level)).all())
    roles = dict(db.session.execute(
        select(UserRole.role, func.count()).join(User, User.id == UserRole.user_id)
        .where(User.active.is_(True)).group_by(UserRole.role)).all())
    pending = and_(User.active.is_(True), User.activation_hash.is_not(None))
    inactive, awaiting, expired, must_change = db.session.execute(select(
        func.count().filter(User.active.is_(False)),
        func.count().filter(pending),
        func.count().filter(pending, User.activation_expires_at < now),
        func.count().filter(User.active.is_(True), User.must_change_password.is_(True)),
    ).select_from(User)).one()
    return StaffNumbers(agents_by_star=[(level, per_level.get(level, 0)) for level in STAR_LEVELS],
                        roles={role: roles.get(role, 0) for role in ROLES}, inactive=inactive,
                        awaiting_activation=awaiting, codes_expired=expired, must_change_password=must_change)


def recent_imports(now: datetime) -> tuple[list[ImportRow], int, int]:
    """(the latest imports, how many wait or run, how many failed lately): two queries, without the
    files and codes the jobs may still hold."""
    rows = db.session.execute(
        select(Job.id, Job.kind, Job.status, Job.filename, Job.created_at, User.name)
        .outerjoin(User, User.id == Job.created_by_id)
        .order_by(Job.created_at.desc(), Job.id.desc()).limit(RECENT_IMPORTS)).all()
    running, failed = db.session.execute(select(
        func.count().filter(Job.status.in_(("queued", "running"))),
        func.count().filter(Job.status == "failed", Job.finished_at >= now - timedelta(days=FAILED_IMPORT_DAYS)),
    ).select_from(Job)).one()
    return [ImportRow(row.id, row.kind, row.status, row.filename, row.created_at, row.name or "—") for row in rows], \
        running, failed


def load(viewer: User, now: datetime) -> AdminOverview:
    """What /admin shows at once, for an admin: staff numbers, imports, the latest audit events."""
    imports, running, failed = recent_imports(now)
    overview = AdminOverview(staff=staff_numbers(now), imports=imports, imports_running=running, imports_failed=failed)
    if may_read(viewer):
        page = search_events(viewer, AuditFilter(), 1, RECENT_EVENTS)
        overview.events, overview.events_total = page.events, page.pagination.total
    return overview


def failed_imports(now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(Job).where(
        Job.status == "failed", Job.finished_at >= now - timedelta(days=FAILED_IMPORT_DAYS)))


def decisions(now: datetime) -> Decisions:
    """Who is ready for promotion and who is behind on their assigned training (the slow part)."""
    eligible = ready_for_promotion(now)
    overdue = overdue_overview(now)
    return Decisions(ready=[item for item in eligible if item.declined is None],
                     declined=sum(item.declined is not None for item in eligible),
                     overdue_items=len(overdue.tasks), overdue_agents=len(overdue.agents),
                     overdue_teams=[(team or "—", tally.overdue) for team, tally in overdue.teams],
                     imports_failed=failed_imports(now))
