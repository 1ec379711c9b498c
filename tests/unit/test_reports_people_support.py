"""Shared by the mentor report and recognition board tests: signed practicals and monthly results
written straight into the tables (the sign-off service is tested elsewhere)."""
from __future__ import annotations

from datetime import datetime, timezone

from lms.extensions import db
from lms.models import Practical, PracticalCorrection
from lms.records.services import add_entry

UTC = timezone.utc


def nov(day: int, hour: int = 4, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)  # noon in Shanghai


def observe(agent, signer, scenario, percent: float, at: datetime, *, passed: bool | None = None,
            reobservation_of: Practical | None = None, commit: bool = True) -> Practical:
    """A practical of `agent` signed by `signer` at `at` with the result `percent`."""
    passed = percent >= 75 if passed is None else passed
    entry = add_entry(user=agent, kind="practical", title=scenario.title, score=percent, max_score=100.0,
                      passed=passed, source_type="practical", recorded_by=signer, occurred_at=at)
    db.session.flush()
    practical = Practical(agent=agent, scenario=scenario, status="signed", scheduled_by=signer, signed_by=signer,
                          signed_at=at, created_at=at, script_version_id=scenario.script.id,
                          rubric_version_id=scenario.rubric.id, record_entry_id=entry.id,
                          reobservation_of=reobservation_of)
    db.session.add(practical)
    db.session.flush()
    entry.source_id = practical.id
    if commit:
        db.session.commit()
    return practical


def correct(practical: Practical, percent: float, passed: bool, author, at: datetime) -> None:
    previous = practical.current_entry
    entry = add_entry(user=practical.agent, kind="practical", title=previous.title, score=percent, max_score=100.0,
                      passed=passed, source_type="practical", source_id=practical.id, recorded_by=author,
                      occurred_at=previous.occurred_at, corrects=previous, reason="复核")
    db.session.add(PracticalCorrection(practical=practical, author=author, reason="复核", record_entry=entry,
                                       created_at=at))
    db.session.commit()


def result(user, percent: float, at: datetime, kind: str = "practical"):
    """A scored result of the month (counts in the training index)."""
    return add_entry(user=user, kind=kind, title="月度练习", score=percent, max_score=100.0, passed=percent >= 60,
                     occurred_at=at)


def absence(user, at: datetime):
    return add_entry(user=user, kind="attendance", title="培训课", passed=False, occurred_at=at)
