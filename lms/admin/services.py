"""Staff accounts without HTTP: create, edit, deactivate, and bulk import."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from lms.config import LANGUAGES
from lms.extensions import db
from lms.models import ROLES, User

EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MIN_PASSWORD = 8


class AccountInvalid(ValueError):
    """A value that cannot make a valid account; the message says which and why."""


def find_by_employee_no(employee_no: str) -> User | None:
    return db.session.scalar(select(User).where(User.employee_no == employee_no))


def validate_account_fields(*, employee_no: str, name: str, roles: set[str], star_level: int,
                            preferred_language: str | None, password: str | None) -> None:
    if not EMPLOYEE_NO.match(employee_no or ""):
        raise AccountInvalid(f"employee number {employee_no!r}: use 1-32 letters, digits, '-' or '_'")
    if not (name or "").strip() or len(name) > 100:
        raise AccountInvalid("name: required, at most 100 characters")
    if not roles or not roles <= set(ROLES):
        raise AccountInvalid(f"roles: choose from {', '.join(ROLES)}")
    if not 0 <= star_level <= 5:
        raise AccountInvalid("star level: 0 to 5")
    if preferred_language and preferred_language not in LANGUAGES:
        raise AccountInvalid(f"language: one of {', '.join(LANGUAGES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountInvalid(f"password: at least {MIN_PASSWORD} characters")


def create_user(*, employee_no: str, name: str, password: str, roles: set[str] | None = None,
                star_level: int = 0, team: str = "", hire_date: date | None = None,
                mentor_employee_no: str | None = None, preferred_language: str | None = None) -> User:
    """Create and commit an account. Raises AccountInvalid for a bad value, a taken employee
    number or an unknown mentor."""
    roles = roles or {"agent"}
    validate_account_fields(employee_no=employee_no, name=name, roles=roles, star_level=star_level,
                            preferred_language=preferred_language, password=password)
    if find_by_employee_no(employee_no) is not None:
        raise AccountInvalid(f"employee number {employee_no} is taken")
    mentor = None
    if mentor_employee_no:
        mentor = find_by_employee_no(mentor_employee_no)
        if mentor is None:
            raise AccountInvalid(f"mentor {mentor_employee_no} does not exist")
    user = User(employee_no=employee_no, name=name.strip(), team=team.strip(), star_level=star_level,
                hire_date=hire_date, mentor=mentor, preferred_language=preferred_language or None, active=True)
    user.roles = roles
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user
