"""Which sessions to show: the sessions a trainer or instructor runs (`managed_sessions`, for the
list and the calendar, with `local_day_bounds` turning local days into UTC), an agent's sessions
with their place, waiting position and attendance (`MySession`: `my_session`, `my_sessions`,
`upcoming_for` on the home page), and the sessions of a day for the reminders (`sessions_on`).
Read-only: nothing here writes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from lms.classroom import timing
from lms.classroom.services import MANAGERS, is_invited
from lms.clock import center_zone
from lms.extensions import db
from lms.models import User
from lms.models.classroom import ClassAttendance, ClassRegistration, ClassSession

HOME_DAYS = 14


# --- lists, calendar, an agent's sessions -------------------------------------------------------

def managed_sessions(user: User, start: datetime | None = None, end: datetime | None = None,
                     *, limit: int | None = None, newest_first: bool = False) -> list[ClassSession]:
    """Sessions `user` runs (all of them for trainers and admins), starting in [start, end)."""
    query = select(ClassSession).options(selectinload(ClassSession.instructor), selectinload(ClassSession.course))
    if not user.has_role(*MANAGERS):
        query = query.where(ClassSession.instructor_id == user.id)
    if start is not None:
        query = query.where(ClassSession.starts_at >= start)
    if end is not None:
        query = query.where(ClassSession.starts_at < end)
    order = (ClassSession.starts_at.desc(), ClassSession.id.desc()) if newest_first else (
        ClassSession.starts_at, ClassSession.id)
    return list(db.session.scalars(query.order_by(*order).limit(limit)))


def local_day_bounds(first: date, last_exclusive: date) -> tuple[datetime, datetime]:
    """The UTC moments at which local (center-zone) day `first` begins and `last_exclusive` begins."""
    zone = center_zone()
    return (datetime.combine(first, time(0), zone).astimezone(timezone.utc),
            datetime.combine(last_exclusive, time(0), zone).astimezone(timezone.utc))


@dataclass
class MySession:
    """One session as an agent sees it: their place, waiting position, attendance."""

    session: ClassSession
    registration: str | None = None  # registered / waitlisted / None
    position: int | None = None
    attendance: str | None = None
    expected: bool = False
    checkin_open: bool = False


def _my_sessions(user: User, sessions: list[ClassSession], now: datetime) -> list[MySession]:
    ids = [s.id for s in sessions]
    registrations = {r.session_id: r for r in db.session.scalars(select(ClassRegistration).where(
        ClassRegistration.user_id == user.id, ClassRegistration.session_id.in_(ids)))} if ids else {}
    attendance = {a.session_id: a for a in db.session.scalars(select(ClassAttendance).where(
        ClassAttendance.user_id == user.id, ClassAttendance.session_id.in_(ids)))} if ids else {}
    waiting_ids = [sid for sid, r in registrations.items() if r.status == "waitlisted"]
    positions: dict[int, int] = {}
    if waiting_ids:
        queue = db.session.execute(select(ClassRegistration.session_id, ClassRegistration.user_id).where(
            ClassRegistration.session_id.in_(waiting_ids), ClassRegistration.status == "waitlisted")
            .order_by(ClassRegistration.updated_at, ClassRegistration.id))
        seen: dict[int, int] = {}
        for session_id, user_id in queue:
            seen[session_id] = seen.get(session_id, 0) + 1
            if user_id == user.id:
                positions[session_id] = seen[session_id]
    result = []
    for session in sessions:
        registration = registrations.get(session.id)
        status = registration.status if registration and registration.status != "cancelled" else None
        row = attendance.get(session.id)
        if not (status or row or is_invited(user, session)):
            continue
        if session.attendance_closed_at is not None:
            expected = row is not None
        elif session.signup_required:
            expected = status == "registered" or row is not None
        else:
            expected = True
        result.append(MySession(
            session=session, registration=status, position=positions.get(session.id),
            attendance=row.status if row else None, expected=expected,
            checkin_open=(expected and session.cancelled_at is None and session.attendance_closed_at is None
                          and timing.checkin_open(session.starts_at, session.ends_at, now))))
    return result


def my_session(user: User, session: ClassSession, now: datetime) -> MySession | None:
    items = _my_sessions(user, [session], now)
    return items[0] if items else None


def _candidate_sessions(user: User, where) -> list[ClassSession]:
    """Sessions matching `where` that may concern `user`; the audience is JSON, so invitations are
    checked in Python (sessions are few; agents are many)."""
    return list(db.session.scalars(select(ClassSession).where(where)
                                   .options(selectinload(ClassSession.instructor))
                                   .order_by(ClassSession.starts_at, ClassSession.id)))


def upcoming_for(user: User, now: datetime, days: int = HOME_DAYS) -> list[MySession]:
    """The agent's sessions that have not ended and start within `days` (home page), cancelled ones left out."""
    sessions = _candidate_sessions(user, and_(ClassSession.ends_at > now, ClassSession.cancelled_at.is_(None),
                                              ClassSession.starts_at < now + timedelta(days=days)))
    return [item for item in _my_sessions(user, sessions, now)
            if item.registration or item.expected or item.session.signup_required]


def my_sessions(user: User, now: datetime, past_days: int = 180) -> tuple[list[MySession], list[MySession]]:
    """(upcoming or running, past) sessions of an agent; past ones newest first."""
    sessions = _candidate_sessions(user, ClassSession.ends_at > now - timedelta(days=past_days))
    items = _my_sessions(user, sessions, now)
    upcoming = [item for item in items if item.session.ends_at > now]
    past = [item for item in reversed(items) if item.session.ends_at <= now]
    return upcoming, past


# --- reminders ----------------------------------------------------------------------------------

def sessions_on(day: date) -> list[ClassSession]:
    start, end = local_day_bounds(day, day + timedelta(days=1))
    return list(db.session.scalars(select(ClassSession).where(
        ClassSession.starts_at >= start, ClassSession.starts_at < end, ClassSession.cancelled_at.is_(None))))
