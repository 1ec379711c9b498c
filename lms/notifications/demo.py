"""Demo inboxes: the story's own notifications (exam results, practicals, certificates) were
written by the hooks as it ran; here older ones are marked read, as people would have, the day's
reminders are sent at `now`, and the demo people get example email addresses."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from lms.extensions import db
from lms.models.notifications import Notification

if TYPE_CHECKING:
    from lms.models import User

READ_AFTER = timedelta(days=10)  # older than this: read (a few hours after it came)
EMAILS = {"A0001": "wangmin@example.com", "T0001": "lijing@example.com", "M0001": "chengang@example.com",
          "E1001": "zhangxiao@example.com", "E1002": "liuyang@example.com", "E1003": "zhaolei@example.com",
          "E1004": "sunyue@example.com", "E1005": "zhouting@example.com"}


def seed_demo(users: dict[str, "User"], now: datetime) -> None:
    from lms.notifications.producers import run_producers
    from lms.notifications.services import notify

    people = [user for number, user in sorted(users.items()) if number in EMAILS]
    ids = [user.id for user in people]
    for notification in db.session.scalars(select(Notification).where(
            Notification.user_id.in_(ids), Notification.read_at.is_(None),
            Notification.created_at < now - READ_AFTER)):
        notification.read_at = notification.created_at + timedelta(hours=3)
    # one welcome note each, so no inbox is empty, read by those who have worked here a while
    for user in people:
        notify(user.id, "welcome", key="demo:welcome", link="/", now=now - timedelta(days=20))
    db.session.commit()
    run_producers(now)  # commits each producer's reminders
    new_hire = users["E1001"].id if "E1001" in users else None
    newest = {}
    for notification in db.session.scalars(select(Notification).where(Notification.user_id.in_(ids))
                                           .order_by(Notification.created_at, Notification.id)):
        newest[notification.user_id] = notification
        if notification.key == "demo:welcome" and notification.user_id != new_hire:
            notification.read_at = notification.created_at + timedelta(hours=1)
    for notification in newest.values():  # everyone has at least the newest one still unread
        notification.read_at = None
    for user in people:
        if not user.email:
            user.email = EMAILS[user.employee_no]
    db.session.commit()
