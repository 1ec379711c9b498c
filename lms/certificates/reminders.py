"""Reminders of certificates about to expire, for `lms notify send-due` (lms/notifications/producers.py).

A course certificate with an expiry (a refresher's) is announced once, when its recertification
cycle opens: LMS_RECERT_LEAD_DAYS (30) before it expires, the same moment the course shows as due
again (lms/records/completion.py). A certificate already renewed (a later one for the same course),
withdrawn (its completion corrected away) or held by an inactive account is not announced.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, tuple_
from sqlalchemy.orm import aliased, joinedload

from lms.clock import center_zone
from lms.extensions import db
from lms.models import Certificate, RecordEntry, User
from lms.models.notifications import Notification
from lms.notifications.services import notify
from lms.records.completion import in_force, lead_time


def expiring_certificates(now: datetime) -> list[Certificate]:
    """Course certificates in force that expire within the lead time and were not renewed (one query)."""
    newer = aliased(Certificate)
    renewed = exists().where(newer.user_id == Certificate.user_id, newer.course_id == Certificate.course_id,
                             newer.id != Certificate.id, newer.issued_at > Certificate.issued_at)
    return list(db.session.scalars(
        select(Certificate)
        .join(RecordEntry, RecordEntry.id == Certificate.record_entry_id)
        .join(User, User.id == Certificate.user_id)
        .where(Certificate.kind == "course", Certificate.valid_until > now,
               Certificate.valid_until <= now + lead_time(), User.active.is_(True), in_force(), ~renewed)
        .options(joinedload(Certificate.course))
        .order_by(Certificate.valid_until, Certificate.id)))


def send_due(now: datetime) -> int:
    """Notify "certificate_expiring" {title, expires_on} once per certificate; returns how many were
    added (the caller commits)."""
    certificates = expiring_certificates(now)
    if not certificates:
        return 0
    keys = {(c.user_id, f"certificate_expiring:{c.id}") for c in certificates}
    known = set(db.session.execute(select(Notification.user_id, Notification.key)
                                   .where(tuple_(Notification.user_id, Notification.key).in_(keys))).all())
    zone = center_zone()
    added = 0
    for certificate in certificates:
        key = f"certificate_expiring:{certificate.id}"
        if (certificate.user_id, key) in known:
            continue
        link = f"/courses/{certificate.course.slug}" if certificate.course else f"/certificates/{certificate.id}"
        added += notify(certificate.user_id, "certificate_expiring", key=key, link=link, now=now, params={
            "title": certificate.title,
            "expires_on": certificate.valid_until.astimezone(zone).date().isoformat(),
        }) is not None
    return added
