"""Login sessions that end: on logout, a new password or deactivation (everywhere), after an idle
time, and after an absolute lifetime, but never in the middle of an open exam attempt.

The session cookie is signed, not stored on the server, so the server checks three values it put
in it at login:
- the user's `session_version`. Logout, a password change and deactivation raise the number in
  the database (User.end_sessions), so every cookie issued before, copied or not, stops working.
- the login time: the session ends LMS_SESSION_MAX_HOURS (default 8) after it.
- the last-seen time: the session ends after LMS_SESSION_IDLE_MINUTES (default 60) without a
  request. It is rewritten at most once a minute (a cookie value, no database write).
While the user has an exam attempt open, neither limit ends the session (the exam page also sends
a heartbeat every few minutes); afterwards the idle time counts from the attempt's deadline (plus
the grace allowance), and a session past its lifetime lasts RESULT_MINUTES after that deadline, so
the result page still opens. The open attempt is only looked up when a session would otherwise end.
A remember-me cookie (none is issued today) carries none of these values, so it is refused as well.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, session
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.extensions import db
from lms.models import ExamAttempt, User

VERSION_KEY = "_session_version"
LOGIN_KEY = "_login_at"
SEEN_KEY = "_seen_at"
SEEN_EVERY = 60  # seconds: the last-seen time is rewritten at most this often
RESULT_MINUTES = 10
FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")


@dataclass(frozen=True)
class Limits:
    idle_seconds: int
    max_seconds: int


def limits() -> Limits:
    config = current_app.config
    return Limits(int(config.get("LMS_SESSION_IDLE_MINUTES", 60)) * 60,
                  int(config.get("LMS_SESSION_MAX_HOURS", 8)) * 3600)


def start(user: User, now: float) -> None:
    """Stamp a fresh login session (call right after login_user)."""
    session[VERSION_KEY] = user.session_version
    session[LOGIN_KEY] = now
    session[SEEN_KEY] = now


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def ended(*, version, user_version: int, login_at, seen_at, now: float, limits: Limits,
          attempt_end: float | None) -> bool:
    """Whether a session stamped (version, login_at, seen_at) has ended at `now`. `attempt_end`:
    when the user's open exam attempt stops accepting answers (deadline + grace), or None."""
    login_at, seen_at = _number(login_at), _number(seen_at)
    if version != user_version or login_at is None or seen_at is None:
        return True
    if attempt_end is not None and now <= attempt_end:
        return False  # never in the middle of an exam
    if attempt_end is not None:
        seen_at = max(seen_at, attempt_end)
    lifetime_end = login_at + limits.max_seconds
    if attempt_end is not None:
        lifetime_end = max(lifetime_end, attempt_end + RESULT_MINUTES * 60)
    return now - seen_at > limits.idle_seconds or now > lifetime_end


def open_attempt_end(user_id: int) -> float | None:
    """When the user's latest open exam attempt stops accepting answers, as a timestamp, or None."""
    deadline = db.session.scalar(select(func.max(ExamAttempt.deadline))
                                 .where(ExamAttempt.user_id == user_id, ExamAttempt.state == "open"))
    if deadline is None:
        return None
    grace = int(current_app.config.get("LMS_EXAM_GRACE_SECONDS", 30))
    return (deadline + timedelta(seconds=grace)).timestamp()


def check(user: User) -> bool:
    """Whether the current request's session for `user` is still valid; a valid one is marked as
    seen (at most once a minute), an ended one loses its login."""
    now = utcnow().timestamp()
    stamp = dict(version=session.get(VERSION_KEY), user_version=user.session_version,
                 login_at=session.get(LOGIN_KEY), seen_at=session.get(SEEN_KEY), now=now, limits=limits())
    if ended(**stamp, attempt_end=None) and (
            stamp["version"] != user.session_version
            or ended(**stamp, attempt_end=open_attempt_end(user.id))):
        for key in (*FLASK_LOGIN_KEYS, VERSION_KEY, LOGIN_KEY, SEEN_KEY):
            session.pop(key, None)
        return False
    seen_at = _number(session.get(SEEN_KEY)) or now
    if now - seen_at >= SEEN_EVERY:
        session[SEEN_KEY] = now
    return True


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the active user whose session has not ended, else None."""
    from lms.auth.services import load_active_user

    user = load_active_user(user_id)
    return user if user is not None and check(user) else None
