"""In-app notifications and the outgoing mail queue."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.users import User

MAIL_STATUSES = ("queued", "sending", "sent", "failed")


class Notification(Base):
    """One message in a person's inbox. The text is not stored: `kind` and `params` are rendered in
    the reader's language when shown (lms/notifications/messages.py). `key` makes a notification
    happen once: a second notify() with the same key for the same person adds nothing."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(300), default="")  # a path inside the app, e.g. /exams/x
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def unread(self) -> bool:
        return self.read_at is None


class OutgoingMail(Base):
    """A notification's email, written in the recipient's language when it was queued and sent by
    lms/notifications/mail.py outside any request. A sender claims a row by moving
    `next_attempt_at` past now in one conditional UPDATE (a lease): of two senders exactly one
    gets it, and a row whose sender died is taken again when the lease ends."""

    __tablename__ = "outgoing_mails"
    __table_args__ = (
        CheckConstraint(f"status IN {MAIL_STATUSES!r}", name="known_status"),
        Index("ix_outgoing_mails_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    notification: Mapped[Notification | None] = relationship()
