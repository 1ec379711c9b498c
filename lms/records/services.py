"""Writing to the training record. Entries are appended, never changed: see `correct_entry`.

Services here do not commit: they are called inside the operation that produced the result
(an exam submission, a sign-off), which commits once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from lms.clock import utcnow
from lms.config import DEFAULT_BAND_THRESHOLDS  # noqa: F401 (kept importable from here)
from lms.extensions import db
from lms.models import AuditEvent, Course, RecordEntry, User


def band_for(percent: float | None, passed: bool | None, thresholds: dict[str, float] | None = None) -> str | None:
    """excellent / good / pass / needs_improvement. A fail is always needs_improvement; a pass is
    excellent or good from the configured percentages (LMS_BAND_THRESHOLDS, validated at start-up),
    else pass. The percent is compared as shown, to one decimal: 89.96 shows as 90 and is excellent."""
    if passed is None or percent is None:
        return None
    if not passed:
        return "needs_improvement"
    limits = thresholds or current_app.config.get("LMS_BAND_THRESHOLDS") or DEFAULT_BAND_THRESHOLDS
    percent = round(percent, 1)
    if percent >= limits["excellent"]:
        return "excellent"
    if percent >= limits["good"]:
        return "good"
    return "pass"


def add_entry(*, user: User, kind: str, title: str, course: Course | None = None, score: float | None = None,
              max_score: float | None = None, passed: bool | None = None, source_type: str | None = None,
              source_id: int | None = None, recorded_by: User | None = None, occurred_at: datetime | None = None,
              details: dict[str, Any] | None = None, corrects: RecordEntry | None = None,
              reason: str = "") -> RecordEntry:
    """Append an entry; percent and band follow from score, max_score and passed."""
    percent = round(100.0 * score / max_score, 2) if score is not None and max_score else None
    entry = RecordEntry(
        user=user, kind=kind, title=title, course=course, score=score, max_score=max_score, percent=percent,
        passed=passed, band=band_for(percent, passed), source_type=source_type, source_id=source_id,
        recorded_by=recorded_by, occurred_at=occurred_at or utcnow(), details=details or {},
        corrects=corrects, reason=reason,
    )
    db.session.add(entry)
    return entry


def audit(actor: User | None, action: str, subject_type: str, subject_id: int, **details: Any) -> AuditEvent:
    event = AuditEvent(actor=actor, action=action, subject_type=subject_type, subject_id=subject_id,
                       details=details, created_at=utcnow())
    db.session.add(event)
    return event
