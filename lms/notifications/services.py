"""Notifications: the one function every capability calls, `notify`, and the inbox.

A capability that has something to tell a person calls `notify(...)` inside its own operation (it
does not commit; the operation does). The text is rendered from `kind` and `params` when shown, in
the reader's language. A `key` (e.g. "due:assignment:12:2026-11-27") makes it happen once per person.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lms.clock import utcnow
from lms.extensions import db
from lms.models.notifications import Notification


def notify(user_id: int, kind: str, *, params: dict[str, Any] | None = None, link: str = "",
           key: str | None = None, now: datetime | None = None) -> Notification | None:
    """Add a notification for `user_id` (the caller commits). With `key`, nothing is added when this
    person already has a notification with that key; returns None then."""
    if key is not None:
        pending = next((obj for obj in db.session.new if isinstance(obj, Notification)
                        and obj.user_id == user_id and obj.key == key), None)
        if pending is not None or db.session.scalar(
                select(Notification.id).where(Notification.user_id == user_id, Notification.key == key)):
            return None
    notification = Notification(user_id=user_id, kind=kind, params=params or {}, link=link,
                                key=key or f"once:{uuid.uuid4().hex}", created_at=now or utcnow())
    db.session.add(notification)
    return notification
