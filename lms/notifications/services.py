"""Notifications: the one function every capability calls, `notify`, and the inbox.

A capability that has something to tell a person calls `notify(...)` inside its own operation (it
does not commit; the operation does). The text is rendered from `kind` and `params` when shown, in
the reader's language (messages.py). A `key` (e.g. "due:assignment:12:2026-11-27") makes it happen
once per person. When LMS_SMTP_URL is set and the person has an email address, a mail is queued in
the same transaction and sent after the commit, outside the request (mail.py).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select, update
from werkzeug.exceptions import NotFound

from lms.auth.services import safe_next_url
from lms.clock import utcnow
from lms.extensions import db
from lms.models.notifications import Notification
from lms.models.users import User

PER_PAGE = 20


def notify(user_id: int, kind: str, *, params: dict[str, Any] | None = None, link: str = "",
           key: str | None = None, now: datetime | None = None, seen: bool = False) -> Notification | None:
    """Add a notification for `user_id` (the caller commits). With `key`, nothing is added when this
    person already has a notification with that key; returns None then. Also queues its mail
    when mail is set up and the person has an address, unless `seen` (the person is looking at
    it right now: it is added already read, and not mailed)."""
    if key is not None:
        pending = next((obj for obj in db.session.new if isinstance(obj, Notification)
                        and obj.user_id == user_id and obj.key == key), None)
        if pending is not None or db.session.scalar(
                select(Notification.id).where(Notification.user_id == user_id, Notification.key == key)):
            return None
    now = now or utcnow()
    notification = Notification(user_id=user_id, kind=kind, params=params or {}, link=(link or "")[:300],
                                key=(key or f"once:{uuid.uuid4().hex}")[:200], created_at=now,
                                read_at=now if seen else None)
    db.session.add(notification)
    from lms.notifications import mail

    if not seen and mail.mail_enabled():
        mail.queue_mail(notification, db.session.get(User, user_id))
    return notification


# --- the inbox -------------------------------------------------------------------------------------

def load_notification_for(user: User, notification_id: int) -> Notification:
    """The user's own notification; NotFound for anyone else's (whether it exists is not told)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound()
    return notification


def inbox_page(user: User, page: int, per_page: int = PER_PAGE) -> Pagination:
    """One page of the user's notifications, newest first (two queries: the count and the page)."""
    statement = (select(Notification).where(Notification.user_id == user.id)
                 .order_by(Notification.created_at.desc(), Notification.id.desc()))
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def unread_count(user_id: int) -> int:
    """One COUNT on the (user_id, read_at) index."""
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def open_notification(user: User, notification_id: int, now: datetime) -> str | None:
    """Mark the user's notification read (commits) and return where it leads: its link when that
    is a path on this site, else None. Raises NotFound for someone else's."""
    notification = load_notification_for(user, notification_id)
    if notification.read_at is None:
        notification.read_at = now
        db.session.commit()
    return safe_next_url(notification.link)


def mark_all_read(user: User, now: datetime) -> int:
    """Mark every unread notification of the user read (commits); returns how many."""
    changed = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return changed
