"""Authentication without HTTP: who is this, and where may they be sent after login."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from lms.config import LANGUAGES
from lms.extensions import db
from lms.models import User

# Checked against when the employee number is unknown, so a wrong login takes the same time
# whether or not the account exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def load_active_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def authenticate(employee_no: str, password: str) -> User | None:
    """The active user with this employee number and password, else None."""
    user = db.session.scalar(select(User).where(User.employee_no == employee_no.strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


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
