"""Staff accounts and their roles."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from lms.clock import utcnow
from lms.models.base import Base

ROLES = ("agent", "mentor", "trainer", "admin")
STAR_LEVELS = range(0, 6)


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="known_role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("star_level BETWEEN 0 AND 5", name="star_level_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    team: Mapped[str] = mapped_column(String(100), default="")
    hire_date: Mapped[date | None] = mapped_column(Date)
    star_level: Mapped[int] = mapped_column(Integer, default=0)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    # Where notifications are also mailed when LMS_SMTP_URL is set (lms/notifications/mail.py).
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Copied into the session at login and compared on every request: raising it (logout, a new
    # password, deactivation) ends every session opened before, on every device.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A bulk-created account waits for its owner to activate it with a one-time code
    # (lms/auth/activation.py): the code's hash and when it expires. No password works meanwhile.
    activation_hash: Mapped[str | None] = mapped_column(String(64))
    activation_expires_at: Mapped[datetime | None]
    # The agent asked not to appear on the recognition board (表彰榜, lms/reports/recognition.py).
    recognition_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An admin reset the password: the next login must choose a new one before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Loaded when first used: a JSON answer save needs neither; lists that show them selectinload.
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan")
    mentor: Mapped[User | None] = relationship(remote_side=[id])

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    @roles.setter
    def roles(self, names) -> None:
        wanted = set(names)
        unknown = wanted - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
        self.role_rows = [row for row in self.role_rows if row.role in wanted] + [
            UserRole(role=name) for name in ROLES if name in wanted and name not in self.roles
        ]

    def has_role(self, *names: str) -> bool:
        return bool(self.roles.intersection(names))

    @property
    def can_author(self) -> bool:
        """Trainers and admins see every course whatever their own star level."""
        return self.has_role("trainer", "admin")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def set_password(self, password: str) -> None:
        # Tests set a cheap method; production keeps werkzeug's default (scrypt).
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def activation_pending(self) -> bool:
        return self.activation_hash is not None

    def end_sessions(self) -> None:
        """End every session opened before now (the caller commits)."""
        self.session_version = (self.session_version or 1) + 1

    def __repr__(self) -> str:
        return f"<User {self.employee_no}>"


class RateLimitCounter(Base):
    """A counter of the login throttle (lms.auth.throttle) kept in the app's own database, so every
    worker process and every app server sees the same counts without an extra service."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch (lms.clock)
