"""Classroom sessions: scheduling, who is invited and who is expected, sign-up with a waiting list,
check-in with the room's rotating code, attendance marking, and closing attendance into the
training record.

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
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.classroom import timing
from lms.clock import center_zone
from lms.extensions import db
from lms.models import Course, RecordEntry, User, UserRole
from lms.models.classroom import ATTENDANCE_STATUSES, ClassAttendance, ClassRegistration, ClassSession
from lms.notifications.services import notify
from lms.records.completion import in_force
from lms.records.services import add_entry, audit

MANAGERS = ("trainer", "admin")  # schedule and edit every session; an instructor manages their own
STAFF_INSTRUCTORS = ("trainer", "admin", "mentor")
HOME_DAYS = 14
MAX_WRONG_CODES = 5  # wrong check-in codes per agent and session within WRONG_CODE_WINDOW
WRONG_CODE_WINDOW = 10 * 60
PRESENT = ("present", "late")


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
    """Change a session. Newly invited agents are told; a raised capacity moves the waiting list in.
    Raises InvalidSession, SessionCancelled."""
    if session.cancelled_at is not None:
        raise SessionCancelled()
    _check_fields(fields)
    session = _locked(session.id)
    before = {"title": session.title, "starts_at": session.starts_at.isoformat(),
              "ends_at": session.ends_at.isoformat(), "capacity": session.capacity, "audience": session.audience}
    _apply(session, fields)
    db.session.flush()
    _invite(session, db.session.scalars(select(User.id).where(_invited_clause(session.audience))), now)
    if session.signup_required and session.ends_at > now:
        _fill_places(session, now)
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
    told = {user.id for user in expected_agents(session)}
    told |= set(db.session.scalars(select(ClassRegistration.user_id).where(
        ClassRegistration.session_id == session.id, ClassRegistration.status == "waitlisted")))
    if session.ends_at > now:
        for user_id in sorted(told):
            notify(user_id, "session_cancelled", params=notification_params(session), link=f"/sessions/{session.id}",
                   key=f"session_cancelled:{session.id}", now=now)
    audit(actor, "class_session_cancelled", "class_session", session.id, title=session.title)
    db.session.commit()


def _locked(session_id: int) -> ClassSession:
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


def _attendance_rows(session: ClassSession) -> dict[int, ClassAttendance]:
    rows = db.session.scalars(select(ClassAttendance).where(ClassAttendance.session_id == session.id)
                              .options(selectinload(ClassAttendance.user)))
    return {row.user_id: row for row in rows}


def _registrations(session: ClassSession) -> list[ClassRegistration]:
    return list(db.session.scalars(
        select(ClassRegistration).where(ClassRegistration.session_id == session.id)
        .options(selectinload(ClassRegistration.user))
        .order_by(ClassRegistration.updated_at, ClassRegistration.id)))


def _expected_users(session: ClassSession, attendance: dict[int, ClassAttendance],
                    registrations: list[ClassRegistration] | None = None) -> list[User]:
    users = {row.user_id: row.user for row in attendance.values()}
    if session.attendance_closed_at is None:
        if session.signup_required:
            registrations = _registrations(session) if registrations is None else registrations
            users.update({r.user_id: r.user for r in registrations if r.status == "registered"})
        else:
            users.update({user.id: user for user in invited_agents(session)})
    return sorted(users.values(), key=lambda user: (user.team, user.employee_no))


def expected_agents(session: ClassSession) -> list[User]:
    return _expected_users(session, _attendance_rows(session))


def _registration(session_id: int, user_id: int) -> ClassRegistration | None:
    return db.session.scalar(select(ClassRegistration).where(
        ClassRegistration.session_id == session_id, ClassRegistration.user_id == user_id))


def _attendance(session_id: int, user_id: int) -> ClassAttendance | None:
    return db.session.scalar(select(ClassAttendance).where(
        ClassAttendance.session_id == session_id, ClassAttendance.user_id == user_id))


def attendance_of(session_id: int, user_id: int) -> ClassAttendance | None:
    return _attendance(session_id, user_id)


def is_expected(user: User, session: ClassSession) -> bool:
    if _attendance(session.id, user.id) is not None:
        return True
    if session.attendance_closed_at is not None:
        return False
    if session.signup_required:
        registration = _registration(session.id, user.id)
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


# --- sign-up and the waiting list ---------------------------------------------------------------

def _fill_places(session: ClassSession, now: datetime) -> list[ClassRegistration]:
    """Move the first waiting agents into free places (FIFO) and tell them ("session_place_freed")."""
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


def sign_up(session_id: int, user: User, now: datetime) -> ClassRegistration:
    """A place for `user`, or a place on the waiting list when the session is full (the returned
    registration's status says which). Raises SessionNotFound, SessionCancelled, SignupNotNeeded,
    SignupClosed, NotInvited, AlreadySignedUp."""
    session = _locked(session_id)
    if session.cancelled_at is not None:
        raise SessionCancelled()
    if not session.signup_required:
        raise SignupNotNeeded()
    if not timing.signup_open(session.starts_at, session.signup_cutoff_hours, now):
        raise SignupClosed()
    if not is_invited(user, session):
        raise NotInvited()
    registration = _registration(session.id, user.id)
    if registration is not None and registration.status != "cancelled":
        raise AlreadySignedUp(registration.status)
    taken = db.session.scalar(select(func.count()).select_from(ClassRegistration).where(
        ClassRegistration.session_id == session.id, ClassRegistration.status == "registered"))
    waiting = db.session.scalar(select(func.count()).select_from(ClassRegistration).where(
        ClassRegistration.session_id == session.id, ClassRegistration.status == "waitlisted"))
    full = session.capacity is not None and (taken >= session.capacity or waiting > 0)
    status = "waitlisted" if full else "registered"
    if registration is None:
        registration = ClassRegistration(session_id=session.id, user_id=user.id, status=status,
                                         created_at=now, updated_at=now)
        db.session.add(registration)
    else:
        registration.status, registration.updated_at = status, now
    try:
        db.session.commit()
    except IntegrityError:  # a double click in two tabs: the other request made the row
        db.session.rollback()
        raise AlreadySignedUp("registered") from None
    return registration


def withdraw(session_id: int, user: User, now: datetime) -> ClassRegistration:
    """Give up a place (until the cut-off; the first waiting agent moves in) or leave the waiting list
    (until the start). Raises SessionNotFound, NotSignedUp, SignupClosed, SessionStarted."""
    session = _locked(session_id)
    registration = _registration(session.id, user.id)
    if registration is None or registration.status == "cancelled":
        raise NotSignedUp()
    if now >= session.starts_at:
        raise SessionStarted()
    was = registration.status
    if was == "registered" and not timing.signup_open(session.starts_at, session.signup_cutoff_hours, now):
        raise SignupClosed()
    registration.status, registration.updated_at = "cancelled", now
    db.session.flush()
    if was == "registered" and session.cancelled_at is None:
        _fill_places(session, now)
    db.session.commit()
    return registration


def waiting_position(session: ClassSession, user: User) -> int | None:
    """1 for the first on the waiting list; None when `user` is not waiting."""
    registration = _registration(session.id, user.id)
    if registration is None or registration.status != "waitlisted":
        return None
    ahead = db.session.scalar(select(func.count()).select_from(ClassRegistration).where(
        ClassRegistration.session_id == session.id, ClassRegistration.status == "waitlisted",
        or_(ClassRegistration.updated_at < registration.updated_at,
            and_(ClassRegistration.updated_at == registration.updated_at, ClassRegistration.id < registration.id))))
    return ahead + 1


# --- check-in -----------------------------------------------------------------------------------

def _throttle():
    from lms.auth.throttle import EXTENSION

    return current_app.extensions[EXTENSION]


def _wrong_code_key(session_id: int, user_id: int) -> str:
    return f"lms-checkin/{session_id}/{user_id}"


def check_in(session_id: int, user: User, code: str, now: datetime) -> ClassAttendance:
    """Mark `user` present (or late) with the code shown in the room. Raises SessionNotFound,
    SessionCancelled, AttendanceClosed, CheckinNotYetOpen, CheckinOver, NotExpected, TooManyWrongCodes,
    CodeExpired, CodeWrong, AlreadyCheckedIn (the first check-in is kept)."""
    session = db.session.get(ClassSession, session_id)
    if session is None:
        raise SessionNotFound()
    if session.cancelled_at is not None:
        raise SessionCancelled()
    if session.attendance_closed_at is not None:
        raise AttendanceClosed()
    if now < timing.checkin_opens_at(session.starts_at):
        raise CheckinNotYetOpen()
    if now >= session.ends_at:
        raise CheckinOver()
    existing = _attendance(session.id, user.id)
    if existing is not None and existing.status in PRESENT:
        raise AlreadyCheckedIn(existing)
    if not is_expected(user, session):
        raise NotExpected()
    throttle, key = _throttle(), _wrong_code_key(session.id, user.id)
    if throttle.get(key) >= MAX_WRONG_CODES:
        raise TooManyWrongCodes()
    verdict = timing.check_code(session.id, code, now, opened_at=timing.checkin_opens_at(session.starts_at))
    if verdict == timing.EXPIRED:
        raise CodeExpired()
    if verdict != timing.VALID:
        throttle.incr(key, WRONG_CODE_WINDOW)
        raise CodeWrong()
    status = "late" if timing.is_late(session.starts_at, now) else "present"
    if existing is None:
        existing = ClassAttendance(session_id=session.id, user_id=user.id, status="present", method="code")
        db.session.add(existing)
    existing.status, existing.method, existing.checked_in_at = status, "code", now
    existing.marked_by_id, existing.updated_at = None, now
    try:
        db.session.commit()
    except IntegrityError:  # the same agent from two phones at once: the first one counts
        db.session.rollback()
        raise AlreadyCheckedIn(_attendance(session.id, user.id)) from None
    return existing


def checked_in_count(session: ClassSession) -> int:
    return db.session.scalar(select(func.count()).select_from(ClassAttendance).where(
        ClassAttendance.session_id == session.id, ClassAttendance.status.in_(PRESENT)))


# --- attendance ---------------------------------------------------------------------------------

@dataclass
class AttendanceLine:
    user: User
    attendance: ClassAttendance | None

    @property
    def status(self) -> str | None:
        return self.attendance.status if self.attendance else None


@dataclass
class Roster:
    """Everything the session page and the attendance sheet show, in a fixed number of queries."""

    session: ClassSession
    lines: list[AttendanceLine]
    registered: list[ClassRegistration]
    waiting: list[ClassRegistration]

    def count(self, status: str | None) -> int:
        return sum(1 for line in self.lines if line.status == status)


def roster(session: ClassSession) -> Roster:
    attendance = _attendance_rows(session)
    registrations = _registrations(session) if session.signup_required else []
    users = _expected_users(session, attendance, registrations)
    return Roster(session=session, lines=[AttendanceLine(user, attendance.get(user.id)) for user in users],
                  registered=[r for r in registrations if r.status == "registered"],
                  waiting=[r for r in registrations if r.status == "waitlisted"])


def _entries_in_force(session: ClassSession) -> dict[int, RecordEntry]:
    entries = db.session.scalars(select(RecordEntry).where(
        RecordEntry.kind == "attendance", RecordEntry.source_type == "class_session",
        RecordEntry.source_id == session.id, in_force()).order_by(RecordEntry.id))
    return {entry.user_id: entry for entry in entries}


def _passed(status: str) -> bool | None:
    return True if status in PRESENT else (None if status == "excused" else False)


def _record(session: ClassSession, user: User, status: str, actor: User, *, corrects: RecordEntry | None = None,
            reason: str = "") -> RecordEntry:
    return add_entry(user=user, kind="attendance", title=session.title, course=session.course,
                     passed=_passed(status), occurred_at=session.starts_at, source_type="class_session",
                     source_id=session.id, details={"status": status, "session_id": session.id},
                     recorded_by=actor, corrects=corrects, reason=reason)


@dataclass
class MarkResult:
    changed: int = 0
    stale: int = 0


def mark_attendance(session: ClassSession, actor: User, changes: dict[int, tuple[str | None, str]], reason: str,
                    now: datetime) -> MarkResult:
    """Set expected agents' statuses by hand. `changes` maps user id -> (status shown when the page
    was loaded, status chosen); a row changes only when the chosen status differs from the one shown
    and the row still has the status shown: a check-in that arrived meanwhile is not overwritten by a
    stale page (counted in `stale`). After attendance is closed every change writes a correcting
    record entry and needs a reason. Every change is audited ("attendance_marked"). Raises
    SessionCancelled, ReasonRequired, NotExpected."""
    if session.cancelled_at is not None:
        raise SessionCancelled()
    wanted = {user_id: (shown or None, chosen) for user_id, (shown, chosen) in changes.items()
              if chosen in ATTENDANCE_STATUSES and chosen != shown}
    result = MarkResult()
    if not wanted:
        return result
    closed = session.attendance_closed_at is not None
    reason = (reason or "").strip()
    if closed and not reason:
        raise ReasonRequired()
    attendance = _attendance_rows(session)
    expected = {user.id: user for user in _expected_users(session, attendance)}
    if set(wanted) - set(expected):
        raise NotExpected()
    entries = _entries_in_force(session) if closed else {}
    for user_id, (shown, status) in sorted(wanted.items()):
        row = attendance.get(user_id)
        before = row.status if row else None
        if before != shown:
            result.stale += 1
            continue
        if row is None:
            row = ClassAttendance(session_id=session.id, user_id=user_id, method="manual", status=status)
            db.session.add(row)
        row.status, row.method, row.marked_by_id, row.updated_at = status, "manual", actor.id, now
        details = {"user_id": user_id, "before": before, "after": status}
        if closed:
            previous = entries.get(user_id)
            entry = _record(session, expected[user_id], status, actor, corrects=previous, reason=reason)
            db.session.flush()
            details.update(reason=reason, entry_id=entry.id, corrects=previous.id if previous else None)
        audit(actor, "attendance_marked", "class_session", session.id, **details)
        result.changed += 1
    db.session.commit()
    return result


def close_attendance(session: ClassSession, actor: User, now: datetime) -> dict[str, int]:
    """Every expected agent without a status becomes absent, and each gets one "attendance" record
    entry (present/late pass, excused neither, absent fail). Allowed from the start of the session.
    Raises SessionCancelled, AttendanceClosed, AttendanceNotClosable. Returns the counts by status."""
    session = _locked(session.id)
    if session.cancelled_at is not None:
        raise SessionCancelled()
    if session.attendance_closed_at is not None:
        raise AttendanceClosed()
    if now < session.starts_at:
        raise AttendanceNotClosable()
    attendance = _attendance_rows(session)
    counts = {status: 0 for status in ATTENDANCE_STATUSES}
    for user in _expected_users(session, attendance):
        row = attendance.get(user.id)
        if row is None:
            row = ClassAttendance(session_id=session.id, user_id=user.id, status="absent", method="manual",
                                  marked_by_id=actor.id, updated_at=now)
            db.session.add(row)
        counts[row.status] += 1
        _record(session, user, row.status, actor)
    session.attendance_closed_at = now
    audit(actor, "attendance_closed", "class_session", session.id, **counts)
    db.session.commit()
    return counts


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
