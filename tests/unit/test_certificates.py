"""Certificates: codes typed from paper, and whether a certificate still holds."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.certificates.services import (ALPHABET, certificate_status, load_certificate_for, new_code,
                                       normalize_code, verify)
from lms.extensions import db
from lms.models import Certificate, Course, RecordEntry
from lms.records.services import add_entry


def test_new_codes_are_grouped_and_unambiguous():
    code = new_code()
    assert len(code) == 14 and code.count("-") == 2
    assert set(code.replace("-", "")) <= set(ALPHABET)
    assert not set("01IO") & set(code)


@pytest.mark.parametrize("typed", ["ABCD-EFGH-JKLM", "abcd-efgh-jklm", "ABCDEFGHJKLM", " abcd efgh jklm ",
                                   "abcd—efgh—jklm"])
def test_typed_codes_are_normalized(typed):
    assert normalize_code(typed) == "ABCD-EFGH-JKLM"


def complete(user, course: Course, now: datetime) -> Certificate:
    from lms.lessons.services import complete_lesson

    for lesson in course.live_lessons:
        complete_lesson(user, lesson)
    return db.session.scalar(select(Certificate).where(Certificate.user_id == user.id,
                                                       Certificate.course_id == course.id))


def course(slug: str) -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def test_a_course_certificate_is_valid_then_expired(catalog, make_user, frozen_now):
    now = frozen_now()
    agent = make_user(star_level=2)
    certificate = complete(agent, course("refresh"), now)
    assert certificate.kind == "course" and certificate.valid_until is not None
    assert verify(certificate.code.lower().replace("-", ""), now).status == "valid"
    assert certificate_status(certificate, certificate.valid_until - timedelta(seconds=1)) == "valid"
    assert certificate_status(certificate, certificate.valid_until) == "expired"


def test_a_corrected_completion_withdraws_its_certificate(catalog, make_user, frozen_now):
    now = frozen_now()
    agent = make_user()
    certificate = complete(agent, course("elective-e"), now)
    entry = db.session.get(RecordEntry, certificate.record_entry_id)
    add_entry(user=agent, kind="course", title=entry.title, course=entry.course, passed=False, corrects=entry,
              reason="recorded in error", occurred_at=now)
    db.session.commit()
    assert verify(certificate.code, now).status == "withdrawn"


def test_unknown_codes_verify_to_nothing(app):
    assert verify("ZZZZ-ZZZZ-ZZZZ", datetime(2026, 1, 1, tzinfo=timezone.utc)) is None
    assert verify("", datetime(2026, 1, 1, tzinfo=timezone.utc)) is None


def test_who_may_load_a_certificate(catalog, make_user, frozen_now):
    now = frozen_now()
    mentor = make_user(roles=("mentor", "agent"))
    agent = make_user(mentor=mentor)
    certificate = complete(agent, course("elective-e"), now)
    for viewer in (agent, mentor, make_user(roles=("trainer",)), make_user(roles=("admin",))):
        assert load_certificate_for(viewer, certificate.id).id == certificate.id
    for viewer in (make_user(), make_user(roles=("mentor", "agent"))):
        with pytest.raises(PermissionError):
            load_certificate_for(viewer, certificate.id)
    with pytest.raises(LookupError):
        load_certificate_for(agent, certificate.id + 1000)
