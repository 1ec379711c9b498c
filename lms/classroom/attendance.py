"""Check-in and attendance: an agent checks in with the code shown in the room (`check_in`,
throttled per agent and session), the instructor sees the roster (`roster`), marks statuses by hand
(`mark_attendance`) and closes attendance (`close_attendance`), which writes one "attendance" entry
per expected agent into the training record; later changes write correcting entries. Each operation
commits once and raises the `services` errors.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.classroom import timing
from lms.classroom.services import (AlreadyCheckedIn, AttendanceClosed, AttendanceNotClosable, CheckinNotYetOpen,
                                    CheckinOver, CodeExpired, CodeWrong, NotExpected, ReasonRequired,
                                    SessionCancelled, SessionNotFound, TooManyWrongCodes, attendance_of,
                                    attendance_rows, expected_users, locked_session, registrations_of, is_expected)
from lms.extensions import db
from lms.models import RecordEntry, User
from lms.models.classroom import ATTENDANCE_STATUSES, ClassAttendance, ClassRegistration, ClassSession
from lms.records.completion import in_force
from lms.records.services import add_entry, audit

MAX_WRONG_CODES = 5  # wrong check-in codes per agent and session within WRONG_CODE_WINDOW
WRONG_CODE_WINDOW = 10 * 60
PRESENT = ("present", "late")


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
    existing = attendance_of(session.id, user.id)
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
        raise AlreadyCheckedIn(attendance_of(session.id, user.id)) from None
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
    attendance = attendance_rows(session)
    registrations = registrations_of(session) if session.signup_required else []
    users = expected_users(session, attendance, registrations)
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
    attendance = attendance_rows(session)
    expected = {user.id: user for user in expected_users(session, attendance)}
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
    session = locked_session(session.id)
    if session.cancelled_at is not None:
        raise SessionCancelled()
    if session.attendance_closed_at is not None:
        raise AttendanceClosed()
    if now < session.starts_at:
        raise AttendanceNotClosable()
    attendance = attendance_rows(session)
    counts = {status: 0 for status in ATTENDANCE_STATUSES}
    for user in expected_users(session, attendance):
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
