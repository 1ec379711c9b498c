"""Sign-up and the waiting list: an agent takes a place or joins the waiting list (`sign_up`),
gives it up or leaves (`withdraw`), and sees how far back they wait (`waiting_position`). A freed
place goes to the first waiting agent through `services.fill_places`, which scheduling shares
when a trainer raises the capacity. Each operation commits once and raises the `services` errors.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from lms.classroom import timing
from lms.classroom.services import (AlreadySignedUp, NotInvited, NotSignedUp, SessionCancelled, SessionStarted,
                                    SignupClosed, SignupNotNeeded, fill_places, locked_session, registration_of,
                                    is_invited)
from lms.extensions import db
from lms.models import User
from lms.models.classroom import ClassRegistration, ClassSession


def sign_up(session_id: int, user: User, now: datetime) -> ClassRegistration:
    """A place for `user`, or a place on the waiting list when the session is full (the returned
    registration's status says which). Raises SessionNotFound, SessionCancelled, SignupNotNeeded,
    SignupClosed, NotInvited, AlreadySignedUp."""
    session = locked_session(session_id)
    if session.cancelled_at is not None:
        raise SessionCancelled()
    if not session.signup_required:
        raise SignupNotNeeded()
    if not timing.signup_open(session.starts_at, session.signup_cutoff_hours, now):
        raise SignupClosed()
    if not is_invited(user, session):
        raise NotInvited()
    registration = registration_of(session.id, user.id)
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
    session = locked_session(session_id)
    registration = registration_of(session.id, user.id)
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
        fill_places(session, now)
    db.session.commit()
    return registration


def waiting_position(session: ClassSession, user: User) -> int | None:
    """1 for the first on the waiting list; None when `user` is not waiting."""
    registration = registration_of(session.id, user.id)
    if registration is None or registration.status != "waitlisted":
        return None
    ahead = db.session.scalar(select(func.count()).select_from(ClassRegistration).where(
        ClassRegistration.session_id == session.id, ClassRegistration.status == "waitlisted",
        or_(ClassRegistration.updated_at < registration.updated_at,
            and_(ClassRegistration.updated_at == registration.updated_at, ClassRegistration.id < registration.id))))
    return ahead + 1
