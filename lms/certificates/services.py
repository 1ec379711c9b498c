"""Certificates: one per course completion and per promotion, with a code anyone can verify.

The verification page shows the holder's name, what was earned, when, and whether it still holds;
nothing else. A course certificate stops holding when its completion expires or is corrected away;
a promotion certificate when a later star change took the holder below that level.
"""
from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.models import Certificate, RecordEntry, StarChange, User
from lms.records.completion import in_force

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper
CODE_LENGTH = 12


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(text: str) -> str:
    """What a person typed, as stored: upper case, hyphens every four characters. Full-width
    letters and digits (a Chinese input method's) count as their ASCII selves."""
    typed = unicodedata.normalize("NFKC", (text or "")[:CODE_LENGTH * 8])
    raw = "".join(ch for ch in typed.upper() if ch in ALPHABET)[:CODE_LENGTH * 2]
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def issue_for_completion(entry: RecordEntry) -> Certificate:
    certificate = Certificate(code=new_code(), user_id=entry.user_id, kind="course", title=entry.title,
                              course_id=entry.course_id, record_entry_id=entry.id, issued_at=entry.occurred_at,
                              valid_until=entry.valid_until)
    db.session.add(certificate)
    _notify_earned(certificate)
    return certificate


def issue_for_promotion(change: StarChange, title: str) -> Certificate:
    certificate = Certificate(code=new_code(), user_id=change.user_id, kind="promotion", title=title,
                              star_level=change.to_level, star_change_id=change.id, issued_at=change.changed_at)
    db.session.add(certificate)
    _notify_earned(certificate)
    return certificate


def _notify_earned(certificate: Certificate) -> None:
    """"certificate_earned" {title} to the holder, linking to the certificate (the caller commits)."""
    from lms.notifications.services import notify

    db.session.flush()  # the certificate's id, for its link
    notify(certificate.user_id, "certificate_earned", key=f"certificate_earned:{certificate.id}",
           link=f"/certificates/{certificate.id}", now=certificate.issued_at, params={"title": certificate.title})


@dataclass
class Verification:
    certificate: Certificate
    status: str  # valid / expired / withdrawn

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def certificate_status(certificate: Certificate, now: datetime) -> str:
    if certificate.kind == "recognition":  # a month's recognition (lms/reports/recognition.py) stands once given
        return "valid"
    if certificate.kind == "course":
        still_in_force = db.session.scalar(select(RecordEntry.id).where(
            RecordEntry.id == certificate.record_entry_id, in_force()))
        if still_in_force is None:
            return "withdrawn"
        if certificate.valid_until is not None and now >= certificate.valid_until:
            return "expired"
        return "valid"
    later = db.session.scalar(
        select(StarChange.to_level).where(StarChange.user_id == certificate.user_id,
                                          StarChange.kind != "declined", StarChange.id > certificate.star_change_id,
                                          StarChange.to_level < certificate.star_level).limit(1))
    return "withdrawn" if later is not None else "valid"


def verify(code: str, now: datetime) -> Verification | None:
    """The certificate behind `code` and whether it holds at `now`, else None."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == normalize_code(code))
                                    .options(joinedload(Certificate.user)))
    if certificate is None:
        return None
    return Verification(certificate, certificate_status(certificate, now))


def certificates_of(user: User) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                                   .order_by(Certificate.issued_at.desc(), Certificate.id.desc())))


def load_certificate_for(viewer: User, certificate_id: int) -> Certificate:
    """The certificate if `viewer` may see the holder's archive. Raises LookupError, PermissionError."""
    from lms.records.access import check_archive_access

    certificate = db.session.scalar(select(Certificate).where(Certificate.id == certificate_id)
                                    .options(joinedload(Certificate.user)))
    if certificate is None:
        raise LookupError(certificate_id)
    check_archive_access(viewer, certificate.user)
    return certificate
