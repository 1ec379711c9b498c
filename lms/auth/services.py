"""Authentication without HTTP: who is this, and where may they be sent after login."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from lms.auth import throttle
from lms.config import LANGUAGES
from lms.extensions import db
from lms.models import User

# Checked against when the employee number is unknown, so a wrong login takes the same time
# whether or not the account exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


# Every request loads its user: the roles come in the same query (pages check them), not a second.
# Built once: building it (and its loader option) each time cost as much as running it.
_USER_WITH_ROLES = (select(User).options(joinedload(User.role_rows)).where(User.id == bindparam("user_id"))
                    .execution_options(populate_existing=True))


def load_active_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.execute(_USER_WITH_ROLES, {"user_id": int(user_id)}).unique().scalar_one_or_none()
    return user if user is not None and user.active else None


def authenticate(employee_no: str, password: str) -> User | None:
    """The active user with this employee number and password, else None."""
    user = db.session.scalar(select(User).where(User.employee_no == employee_no.strip()))
    if user is None or user.activation_pending:  # a pending account takes its code, no password
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


class LoginThrottled(Exception):
    """Too many failed logins for this account or from this address: wait `wait_seconds`."""

    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


def log_in(employee_no: str, password: str, address: str | None) -> User | None:
    """The active user with this employee number and password, else None (the failure is counted).

    Raises LoginThrottled while the account or the address must wait (the right password is
    refused too) and when this failure starts a wait; the start of a wait is audited as
    `auth.locked_out`. A success clears the account's failures. Unknown employee numbers are
    throttled exactly like known ones.
    """
    wait = throttle.seconds_to_wait(employee_no, address)
    if wait:
        raise LoginThrottled(wait)
    user = authenticate(employee_no, password)
    if user is not None:
        throttle.record_success(employee_no)
        return user
    count_failure(employee_no, address)
    return None


def count_failure(employee_no: str, address: str | None) -> None:
    """Count a failed login (or activation code); raise LoginThrottled, after auditing it as
    `auth.locked_out`, when this failure starts a wait."""
    lockouts = throttle.record_failure(employee_no, address)
    if not lockouts:
        return
    from lms.records.services import audit

    known = db.session.scalar(select(User).where(User.employee_no == employee_no.strip()))
    for lockout in lockouts:
        audit(None, "auth.locked_out", "user" if known else "login", known.id if known else 0,
              scope=lockout.scope, employee_no=employee_no.strip()[:32], address=address or "",
              wait_seconds=lockout.wait_seconds, lockouts=lockout.lockouts)
    db.session.commit()
    raise LoginThrottled(max(lockout.wait_seconds for lockout in lockouts))


class WrongPassword(Exception):
    """The current password given to change it is not the account's."""


class SamePassword(Exception):
    """The new password is the current one (a temporary password must really be replaced)."""


def change_password(user: User, current: str, new: str, address: str | None) -> None:
    """`user` replaces their own password; commits. Every other session of theirs ends (the caller
    stamps the current one afresh, lms/auth/sessions.py), a forced change is done, and the change is
    audited as `account.password_changed` (never the password).

    Raises LoginThrottled while the account or the address must wait, WrongPassword for a wrong
    current password (counted like a failed login: a borrowed session cannot guess it forever),
    SamePassword when nothing would change."""
    wait = throttle.seconds_to_wait(user.employee_no, address)
    if wait:
        raise LoginThrottled(wait)
    if not user.check_password(current):
        count_failure(user.employee_no, address)
        raise WrongPassword()
    if current == new:
        raise SamePassword()
    from lms.records.services import audit

    throttle.record_success(user.employee_no)
    forced = user.must_change_password
    user.set_password(new)
    user.must_change_password = False
    user.end_sessions()
    audit(user, "account.password_changed", "user", user.id, forced=forced)
    db.session.commit()


def end_sessions(user: User) -> None:
    """End every session of `user`, on every device (logout); commits."""
    user.end_sessions()
    db.session.commit()


def safe_next_url(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirect to another host)."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    return target


def set_language(user: User | None, language: str) -> None:
    """Remember a logged-in user's preferred language."""
    if language not in LANGUAGES:
        raise ValueError(language)
    if user is not None:
        user.preferred_language = language
        db.session.commit()
