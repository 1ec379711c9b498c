"""Daily reminders (`lms notify send-due`): a "survey_waiting" notification once per agent and
subject, while its survey waits. The key makes it once; the caller commits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from lms.extensions import db
from lms.models.notifications import Notification
from lms.notifications.services import notify
from lms.surveys.services import waiting_by_user

KIND = "survey_waiting"


def key_for(subject_type: str, subject_id: int) -> str:
    return f"survey:{subject_type}:{subject_id}"


def send_due(now: datetime) -> int:
    """Notify every agent of each survey newly waiting; returns how many notifications were added.
    A fixed number of queries for finding them, whatever the number of agents."""
    waiting = waiting_by_user(now)
    if not waiting:
        return 0
    sent = {(user_id, key) for user_id, key in db.session.execute(
        select(Notification.user_id, Notification.key).where(Notification.kind == KIND))}
    added = 0
    for user_id, subjects in waiting.items():
        for subject in subjects:
            key = key_for(subject.subject_type, subject.subject_id)
            if (user_id, key) in sent:
                continue
            if notify(user_id, KIND, params={"title": subject.title, "subject_type": subject.subject_type},
                      link=subject.link, key=key, now=now) is not None:
                added += 1
    return added
