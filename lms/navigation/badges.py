"""What waits for a person, counted for the navigation's badges: results to acknowledge (agents),
mentees' practicals to observe (mentors), essays to mark (trainers), unread notifications (everyone).
All counts in one SQL statement per page, whatever the data."""
from __future__ import annotations

from datetime import datetime

from flask import g
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import exists, func, select

from lms.extensions import db
from lms.models import (AttemptAnswer, AttemptQuestion, ExamAttempt, Practical, PracticalAcknowledgement,
                        PracticalCorrection, User)
from lms.models.notifications import Notification


def _count(statement):
    return select(func.count()).select_from(statement.subquery()).scalar_subquery()


def _to_acknowledge(user_id: int):
    """Signed practicals of the agent whose result in force (the latest correction, else the signed
    entry) has no acknowledgement yet (lms/practicals/services.acknowledge)."""
    latest_correction = (select(PracticalCorrection.record_entry_id)
                         .where(PracticalCorrection.practical_id == Practical.id)
                         .order_by(PracticalCorrection.id.desc()).limit(1).scalar_subquery())
    in_force = func.coalesce(latest_correction, Practical.record_entry_id)
    acknowledged = exists().where(PracticalAcknowledgement.practical_id == Practical.id,
                                  PracticalAcknowledgement.record_entry_id == in_force)
    return _count(select(Practical.id).where(Practical.agent_id == user_id, Practical.status == "signed",
                                             ~acknowledged))


def _to_observe(user_id: int):
    """Practicals of the mentor's active mentees that are open (scheduled, not yet signed or cancelled)."""
    mentees = select(User.id).where(User.mentor_id == user_id, User.active.is_(True))
    return _count(select(Practical.id).where(Practical.agent_id.in_(mentees),
                                             Practical.status.not_in(("signed", "cancelled"))))


def _to_mark(user_id: int):
    """Submitted attempts with essays waiting for marks (the marking queue), except the marker's own."""
    unmarked = exists().where(AttemptQuestion.attempt_id == ExamAttempt.id,
                              AttemptAnswer.attempt_question_id == AttemptQuestion.id,
                              AttemptAnswer.points.is_(None))
    return _count(select(ExamAttempt.id).where(ExamAttempt.state == "pending", ExamAttempt.user_id != user_id,
                                               unmarked))


def _unread(user_id: int):
    return _count(select(Notification.id).where(Notification.user_id == user_id, Notification.read_at.is_(None)))


BADGE_QUERIES = {  # badge key: (roles that see it (empty: everyone), the COUNT)
    "acknowledge": (frozenset({"agent"}), _to_acknowledge),
    "to_observe": (frozenset({"mentor"}), _to_observe),
    "to_mark": (frozenset({"trainer"}), _to_mark),
    "inbox": (frozenset(), _unread),
}


def badges_for(user, now: datetime | None = None) -> dict[str, int]:
    """What waits for `user`, by badge key: {"inbox": 2, "acknowledge": 1, ...} (only the keys their roles
    have). All counts in ONE statement; cached per request. The unread count is shared with
    unread_notifications() (lms/notifications/views.py) through g. `now` is for counts that will need it."""
    cache = g.setdefault("nav_badges", {})
    if user.id in cache:
        return cache[user.id]
    wanted = {key: query for key, (roles, query) in BADGE_QUERIES.items() if not roles or user.has_role(*roles)}
    known_unread = g.get("unread_notifications") if user.id == getattr(current_user, "id", None) else None
    if known_unread is not None:
        wanted.pop("inbox", None)
    counts: dict[str, int] = {}
    if wanted:
        row = db.session.execute(select(*(query(user.id).label(key) for key, query in wanted.items()))).one()
        counts = {key: int(value or 0) for key, value in zip(wanted, row)}
    if known_unread is not None:
        counts["inbox"] = known_unread
    elif "inbox" in counts and user.id == getattr(current_user, "id", None):
        g.unread_notifications = counts["inbox"]  # the bell's include asks again: no second COUNT
    cache[user.id] = counts
    return counts


def badge_text(key: str, count: int) -> str:
    """What a badge says to a screen reader, e.g. "3 unread"."""
    if key == "inbox":
        return ngettext("%(num)s unread", "%(num)s unread", count)
    if key == "acknowledge":
        return ngettext("%(num)s result to acknowledge", "%(num)s results to acknowledge", count)
    if key == "to_observe":
        return ngettext("%(num)s practical to observe", "%(num)s practicals to observe", count)
    if key == "to_mark":
        return ngettext("%(num)s attempt to mark", "%(num)s attempts to mark", count)
    return ngettext("%(num)s waiting", "%(num)s waiting", count)
