"""Classroom sessions, the ground every other classroom module stands on: the refusals
(`ClassroomError` and its kinds, worded by the views), scheduling (create, update, cancel; the row
lock; filling free places from the waiting list, shared with sign-up), who is invited and who is
expected, and who may see or run a session (`load_session_for`). Sign-up lives in `signups`,
check-in and attendance in `attendance`, lists and an agent's sessions in `agenda`.

Who is expected (on the attendance list):
- without sign-up: every invited agent (an active agent matching the audience's agents, teams or
  star levels);
- with sign-up: the agents holding a place ("registered"); beyond the capacity the waiting list, in
  order of arrival, moves in as places free up (an agent cancels, the capacity is raised);
- anyone who already has an attendance row; once attendance is closed, exactly those.
Each operation commits once. Exceptions say why a request is refused; the views word them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.orm import selectinload

from lms.extensions import db
from lms.models import Course, User, UserRole
from lms.models.classroom import ClassAttendance, ClassRegistration, ClassSession
from lms.notifications.services import notify
from lms.records.services import audit

MANAGERS = ("trainer", "admin")  # schedule and edit every session; an instructor manages their own
STAFF_INSTRUCTORS = ("trainer", "admin", "mentor")


class ClassroomError(Exception):
    """A classroom request refused; the view words it."""


class SessionNotFound(ClassroomError):
    pass


class NotAllowed(ClassroomError):
    pass


class SessionCancelled(ClassroomError):
    pass


class SessionStarted(ClassroomError):
    pass


class SignupClosed(ClassroomError):
    pass


class SignupNotNeeded(ClassroomError):
    pass


class NotInvited(ClassroomError):
    pass


class AlreadySignedUp(ClassroomError):
    pass


class NotSignedUp(ClassroomError):
    pass


class CheckinNotYetOpen(ClassroomError):
    pass


class CheckinOver(ClassroomError):
    pass


class AttendanceClosed(ClassroomError):
    pass


class AttendanceNotClosable(ClassroomError):
    pass


class NotExpected(ClassroomError):
    pass


class CodeExpired(ClassroomError):
    pass


class CodeWrong(ClassroomError):
    pass


class TooManyWrongCodes(ClassroomError):
    pass


class AlreadyCheckedIn(ClassroomError):
    def __init__(self, attendance: ClassAttendance):
        super().__init__("already checked in")
        self.attendance = attendance


class ReasonRequired(ClassroomError):
    pass


class InvalidSession(ClassroomError):
    pass


# --- scheduling ---------------------------------------------------------------------------------

@dataclass
class SessionFields:
    """What a trainer sets on a session (times aware UTC)."""

    title: str
    starts_at: datetime
    ends_at: datetime
    course: Course | None = None
    instructor: User | None = None
    location: str = ""
    online_url: str = ""
    capacity: int | None = None
    signup_required: bool = False
    signup_cutoff_hours: int = 24
    audience: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def normalize_audience(agents: Iterable[int] = (), teams: Iterable[str] = (), levels: Iterable[int] = ()) -> dict:
    return {"agents": sorted({int(a) for a in agents}), "teams": sorted({t.strip() for t in teams if t.strip()}),
            "levels": sorted({int(level) for level in levels})}


def _check_fields(fields: SessionFields) -> None:
    if fields.ends_at <= fields.starts_at:
        raise InvalidSession("the end must come after the start")
    if fields.capacity is not None and fields.capacity < 1:
        raise InvalidSession("capacity must be positive")
    if fields.online_url and not fields.online_url.lower().startswith(("http://", "https://")):
        raise InvalidSession("online link must be http or https")
    if not (fields.title or "").strip() and fields.course is None:
        raise InvalidSession("a topic or a course is needed")


def _apply(session: ClassSession, fields: SessionFields) -> None:
    session.title = (fields.title or "").strip() or (fields.course.title if fields.course else "")
    session.course = fields.course
    session.instructor = fields.instructor
    session.location = fields.location.strip()
    session.online_url = fields.online_url.strip()
    session.starts_at, session.ends_at = fields.starts_at, fields.ends_at
    session.capacity = fields.capacity
    session.signup_required = fields.signup_required
    session.signup_cutoff_hours = fields.signup_cutoff_hours
    session.audience = normalize_audience(**fields.audience)
    session.description = fields.description.strip()


def _invite(session: ClassSession, user_ids: Iterable[int], now: datetime) -> int:
    if session.starts_at <= now:
        return 0
    count = 0
    for user_id in user_ids:
        if notify(user_id, "session_invited", params=notification_params(session), link=f"/sessions/{session.id}",
                  key=f"session_invited:{session.id}", now=now) is not None:
            count += 1
    return count


def notification_params(session: ClassSession) -> dict[str, Any]:
    return {"title": session.title, "starts_at": session.starts_at.isoformat(),
            "location": session.location or session.online_url, "session_id": session.id}


def create_session(actor: User, fields: SessionFields, now: datetime) -> ClassSession:
    """Schedule a session and tell every invited agent (notification "session_invited").
    Raises InvalidSession."""
    _check_fields(fields)
    session = ClassSession(created_by_id=actor.id, created_at=now)
    _apply(session, fields)
    db.session.add(session)
    db.session.flush()
    _invite(session, db.session.scalars(select(User.id).where(_invited_clause(session.audience))), now)
    audit(actor, "class_session_created", "class_session", session.id, title=session.title,
          starts_at=session.starts_at.isoformat())
    db.session.commit()
    return session


def update_session(session: ClassSession, actor: User, fields: SessionFields, now: datetime) -> ClassSession:
    """Change a session. Newly invited agents are told; so is everyone expected or waiting when the time or
    place changes ("session_changed"); a raised capacity moves the waiting list in.
    Raises InvalidSession, SessionCancelled."""
    if session.cancelled_at is not None:
        raise SessionCancelled()
    _check_fields(fields)
    session = locked_session(session.id)
    before = {"title": session.title, "starts_at": session.starts_at.isoformat(),
              "ends_at": session.ends_at.isoformat(), "capacity": session.capacity, "audience": session.audience}
    moved = _when_and_where(session)
    _apply(session, fields)
    db.session.flush()
    if _when_and_where(session) != moved and session.ends_at > now:
        _tell(session, "session_changed", f"session_changed:{session.id}:{now.isoformat()}", now)
    _invite(session, db.session.scalars(select(User.id).where(_invited_clause(session.audience))), now)
    if session.signup_required and session.ends_at > now:
        fill_places(session, now)
    audit(actor, "class_session_updated", "class_session", session.id, before=before,
          after={"title": session.title, "starts_at": session.starts_at.isoformat(),
                 "ends_at": session.ends_at.isoformat(), "capacity": session.capacity,
                 "audience": session.audience})
    db.session.commit()
    return session


def cancel_session(session: ClassSession, actor: User, now: datetime) -> None:
    """Cancel a session that has not been closed; everyone expected or waiting is told
    ("session_cancelled"). Raises SessionCancelled, AttendanceClosed."""
    if session.cancelled_at is not None:
        raise SessionCancelled()
    if session.attendance_closed_at is not None:
        raise AttendanceClosed()
    session.cancelled_at = now
    if session.ends_at > now:
        _tell(session, "session_cancelled", f"session_cancelled:{session.id}", now)
    audit(actor, "class_session_cancelled", "class_session", session.id, title=session.title)
    db.session.commit()


def _when_and_where(session: ClassSession) -> tuple:
    return session.starts_at, session.ends_at, session.location, session.online_url


def _tell(session: ClassSession, kind: str, key: str, now: datetime) -> None:
    """Notify everyone expected at the session or waiting for a place."""
    told = {user.id for user in expected_agents(session)}
    told |= set(db.session.scalars(select(ClassRegistration.user_id).where(
        ClassRegistration.session_id == session.id, ClassRegistration.status == "waitlisted")))
    for user_id in sorted(told):
        notify(user_id, kind, params=notification_params(session), link=f"/sessions/{session.id}", key=key, now=now)


def locked_session(session_id: int) -> ClassSession:
    """The session row, locked until the commit: capacity holds under concurrent sign-ups."""
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a no-op write first takes the database's write lock, so the counts
        # read next are inside the writing transaction and no other sign-up can slip in between.
        table = ClassSession.__table__
        db.session.execute(table.update().where(table.c.id == session_id).values(id=table.c.id))
    session = db.session.scalar(select(ClassSession).where(ClassSession.id == session_id).with_for_update()
                                .execution_options(populate_existing=True))
    if session is None:
        raise SessionNotFound()
    return session


def fill_places(session: ClassSession, now: datetime) -> list[ClassRegistration]:
    """Move the first waiting agents into free places (FIFO) and tell them ("session_place_freed").
    Here, not in `signups`, because a raised capacity (update_session) frees places too."""
    registrations = list(db.session.scalars(
        select(ClassRegistration).where(ClassRegistration.session_id == session.id,
                                        ClassRegistration.status.in_(("registered", "waitlisted")))
        .order_by(ClassRegistration.updated_at, ClassRegistration.id)))
    taken = sum(1 for r in registrations if r.status == "registered")
    moved = []
    for registration in (r for r in registrations if r.status == "waitlisted"):
        if session.capacity is not None and taken >= session.capacity:
            break
        registration.status, registration.updated_at = "registered", now
        taken += 1
        moved.append(registration)
        notify(registration.user_id, "session_place_freed", params=notification_params(session),
               link=f"/sessions/{session.id}", now=now)
    return moved


# --- who: invited, expected ---------------------------------------------------------------------

def _is_agent():
    return exists().where(UserRole.user_id == User.id, UserRole.role == "agent")


def _invited_clause(audience: dict[str, Any]):
    audience = audience or {}
    matches = []
    if audience.get("agents"):
        matches.append(User.id.in_(audience["agents"]))
    if audience.get("teams"):
        matches.append(User.team.in_(audience["teams"]))
    if audience.get("levels"):
        matches.append(User.star_level.in_(audience["levels"]))
    return and_(User.active.is_(True), _is_agent(), or_(*matches) if matches else false())


def is_invited(user: User, session: ClassSession) -> bool:
    audience = session.audience or {}
    return bool(user.active and user.has_role("agent") and (
        user.id in audience.get("agents", []) or user.team in audience.get("teams", [])
        or user.star_level in audience.get("levels", [])))


def invited_agents(session: ClassSession) -> list[User]:
    return list(db.session.scalars(select(User).where(_invited_clause(session.audience))
                                   .order_by(User.team, User.employee_no)))


def attendance_rows(session: ClassSession) -> dict[int, ClassAttendance]:
    rows = db.session.scalars(select(ClassAttendance).where(ClassAttendance.session_id == session.id)
                              .options(selectinload(ClassAttendance.user)))
    return {row.user_id: row for row in rows}


def registrations_of(session: ClassSession) -> list[ClassRegistration]:
    return list(db.session.scalars(
        select(ClassRegistration).where(ClassRegistration.session_id == session.id)
        .options(selectinload(ClassRegistration.user))
        .order_by(ClassRegistration.updated_at, ClassRegistration.id)))


def expected_users(session: ClassSession, attendance: dict[int, ClassAttendance],
                    registrations: list[ClassRegistration] | None = None) -> list[User]:
    users = {row.user_id: row.user for row in attendance.values()}
    if session.attendance_closed_at is None:
        if session.signup_required:
            registrations = registrations_of(session) if registrations is None else registrations
            users.update({r.user_id: r.user for r in registrations if r.status == "registered"})
        else:
            users.update({user.id: user for user in invited_agents(session)})
    return sorted(users.values(), key=lambda user: (user.team, user.employee_no))


def expected_agents(session: ClassSession) -> list[User]:
    return expected_users(session, attendance_rows(session))


def registration_of(session_id: int, user_id: int) -> ClassRegistration | None:
    return db.session.scalar(select(ClassRegistration).where(
        ClassRegistration.session_id == session_id, ClassRegistration.user_id == user_id))


def attendance_of(session_id: int, user_id: int) -> ClassAttendance | None:
    return db.session.scalar(select(ClassAttendance).where(
        ClassAttendance.session_id == session_id, ClassAttendance.user_id == user_id))


def is_expected(user: User, session: ClassSession) -> bool:
    if attendance_of(session.id, user.id) is not None:
        return True
    if session.attendance_closed_at is not None:
        return False
    if session.signup_required:
        registration = registration_of(session.id, user.id)
        return registration is not None and registration.status == "registered"
    return is_invited(user, session)


# --- authorization ------------------------------------------------------------------------------

def can_schedule(user: User) -> bool:
    return user.has_role(*MANAGERS)


def can_manage(user: User, session: ClassSession) -> bool:
    """Trainers and admins manage every session; an instructor (a mentor, say) the ones they teach."""
    return user.has_role(*MANAGERS) or (session.instructor_id is not None and session.instructor_id == user.id)


def can_attend(user: User, session: ClassSession) -> bool:
    """An agent sees a session they are invited to, hold a place or wait for, or attended."""
    if is_invited(user, session):
        return True
    return db.session.scalar(select(
        exists().where(ClassRegistration.session_id == session.id, ClassRegistration.user_id == user.id,
                       ClassRegistration.status != "cancelled")
        | exists().where(ClassAttendance.session_id == session.id, ClassAttendance.user_id == user.id)))


def load_session_for(user: User, session_id: int, *, manage: bool = False) -> ClassSession:
    """The session if `user` may see it (manage=True: run it). Raises SessionNotFound, NotAllowed."""
    session = db.session.get(ClassSession, session_id)
    if session is None:
        raise SessionNotFound()
    if can_manage(user, session):
        return session
    if manage or not can_attend(user, session):
        raise NotAllowed()
    return session
