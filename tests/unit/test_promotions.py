"""The star ladder's gate: eligibility from the archive and the ladder file, confirm, decline, demote."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms import clock
from lms.content.sync import sync_courses
from lms.extensions import db
from lms.lessons.services import complete_lesson
from lms.models import AuditEvent, Certificate, Course, StarChange, StarLevel
from lms.promotions import services
from lms.records.ladder_file import apply_ladder, parse_ladder
from lms.records.services import add_entry
from tests.conftest import write_course

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def ladder_courses(course_root):
    write_course(course_root, "0-01-a", slug="basics-a", lessons=("one",))
    write_course(course_root, "0-02-b", slug="basics-b", lessons=("one",))
    write_course(course_root, "0-03-e", slug="elective-e", kind="elective", lessons=("one",))
    write_course(course_root, "1-01-c", slug="level-one", level=1, track="in-service", lessons=("one",))
    sync_courses(db.session, course_root, NOW)
    return {course.slug: course for course in db.session.scalars(select(Course))}


def read(agent, course, at=NOW - timedelta(days=10)):
    clock.freeze(at)
    for lesson in course.live_lessons:
        complete_lesson(agent, lesson)
    clock.freeze(None)


def set_ladder(text: str) -> None:
    specs, errors = parse_ladder(text, "courses/ladder.yaml")
    assert errors == []
    apply_ladder(db.session, specs, NOW)
    db.session.commit()


def test_eligible_once_every_required_course_of_the_level_is_complete(ladder_courses, make_user):
    agent = make_user(star_level=0, hire_date=date(2026, 1, 1))
    read(agent, ladder_courses["basics-a"])
    result = services.eligibility(agent, NOW)
    assert not result.eligible and [c.state.course.slug for c in result.missing] == ["basics-b"]
    assert [c.state.course.slug for c in result.checks] == ["basics-a", "basics-b"]  # electives do not count
    read(agent, ladder_courses["basics-b"])
    assert services.eligibility(agent, NOW).eligible
    assert [e.user.id for e in services.ready_for_promotion(NOW)] == [agent.id]


def test_the_ladder_file_adds_months_and_average_score(ladder_courses, make_user):
    set_ladder("levels:\n  1:\n    title: 一星坐席\n    min_months_since_hire: 3\n    min_average_score: 80\n")
    agent = make_user(star_level=0, hire_date=date(2026, 9, 1))
    read(agent, ladder_courses["basics-a"])
    read(agent, ladder_courses["basics-b"])
    add_entry(user=agent, kind="exam", title="考试", score=7, max_score=10, passed=True, occurred_at=NOW)
    add_entry(user=agent, kind="practical", title="实操", score=9, max_score=10, passed=True, occurred_at=NOW)
    db.session.commit()
    result = services.eligibility(agent, NOW)
    assert result.title == "一星坐席"
    assert {(c.kind, c.met, c.needed, c.actual) for c in result.checks if c.kind != "course"} == {
        ("months_since_hire", False, 3, 2), ("average_score", True, 80.0, 80.0)}
    assert services.eligibility(agent, datetime(2026, 12, 1, tzinfo=timezone.utc)).eligible


def test_unknown_hire_date_does_not_meet_a_months_rule(ladder_courses, make_user):
    set_ladder("levels:\n  1:\n    title: 一星\n    min_months_since_hire: 1\n")
    agent = make_user(star_level=0)
    read(agent, ladder_courses["basics-a"])
    read(agent, ladder_courses["basics-b"])
    [check] = [c for c in services.eligibility(agent, NOW).checks if c.kind == "months_since_hire"]
    assert not check.met and check.actual is None


def test_confirm_promotes_with_history_audit_certificate_and_opens_the_next_level(ladder_courses, make_user):
    from lms.catalog.services import load_progress

    manager = make_user(roles=("admin",), star_level=5)
    agent = make_user(star_level=0)
    read(agent, ladder_courses["basics-a"])
    assert not load_progress(agent).access(ladder_courses["level-one"]).is_open
    with pytest.raises(services.NotEligible):
        services.confirm_promotion(manager, agent, NOW)
    assert agent.star_level == 0 and db.session.scalar(select(StarChange.id)) is None

    read(agent, ladder_courses["basics-b"])
    change = services.confirm_promotion(manager, agent, NOW, reason="季度评定")
    assert (change.kind, change.from_level, change.to_level, change.reason, change.changed_by_id) == (
        "promotion", 0, 1, "季度评定", manager.id)
    assert agent.star_level == 1 and load_progress(agent).access(ladder_courses["level-one"]).is_open
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "star.promotion"))
    assert event.actor_id == manager.id and event.details["to_level"] == 1
    certificate = db.session.scalar(select(Certificate).where(Certificate.kind == "promotion"))
    assert certificate.star_level == 1 and certificate.star_change_id == change.id
    assert services.ready_for_promotion(NOW) == []  # level 1 has a required course not done


def test_decline_needs_a_reason_keeps_the_level_and_shows_on_the_ready_list(ladder_courses, make_user):
    manager = make_user(roles=("trainer",))
    agent = make_user(star_level=0)
    read(agent, ladder_courses["basics-a"])
    read(agent, ladder_courses["basics-b"])
    with pytest.raises(services.ReasonRequired):
        services.decline_promotion(manager, agent, "   ", NOW)
    services.decline_promotion(manager, agent, "投诉率偏高，下季度再评", NOW)
    assert agent.star_level == 0
    [item] = services.ready_for_promotion(NOW)
    assert item.declined.reason == "投诉率偏高，下季度再评" and item.declined.changed_by_id == manager.id
    assert db.session.scalar(select(AuditEvent.action)) == "star.declined"


def test_a_demotion_needs_a_reason_and_every_change_is_history(make_user):
    admin = make_user(roles=("admin",))
    agent = make_user(star_level=3)
    with pytest.raises(services.ReasonRequired):
        services.record_star_change(agent, 2, kind="edit", actor=admin, reason="", now=NOW)
    services.record_star_change(agent, 2, kind="edit", actor=admin, reason="质检连续不合格", now=NOW)
    assert services.record_star_change(agent, 2, kind="edit", actor=admin, reason="", now=NOW) is None  # no change
    services.record_star_change(agent, 3, kind="edit", actor=admin, reason="", now=NOW + timedelta(days=1))
    db.session.commit()
    assert [(c.kind, c.from_level, c.to_level) for c in services.star_history(agent)] == [
        ("demotion", 3, 2), ("edit", 2, 3)]


def test_top_level_cannot_be_promoted(make_user):
    with pytest.raises(services.TopLevel):
        services.confirm_promotion(make_user(roles=("admin",)), make_user(star_level=5), NOW)


def test_an_expired_refresher_stops_counting(course_root, make_user):
    write_course(course_root, "0-01-r", slug="refresh", track="refresher", lessons=("one",), extra="valid_months: 6\n")
    sync_courses(db.session, course_root, NOW)
    course = db.session.scalar(select(Course))
    agent = make_user(star_level=0)
    read(agent, course, at=NOW - timedelta(days=200))
    assert not services.eligibility(agent, NOW).eligible
    read(agent, course, at=NOW)  # reading it again in the new cycle recertifies it
    assert services.eligibility(agent, NOW).eligible


@pytest.mark.parametrize("text, line, words", [
    ("levels:\n  7:\n    title: x\n", 2, "0 to 5"),
    ("levels:\n  1:\n    title: x\n    min_months_since_hire: -1\n", 4, "whole number"),
    ("levels:\n  1:\n    title: x\n    bonus: 3\n", 4, "unknown key"),
    ("levels:\n  1:\n    min_average_score: 80\n", 2, "the title ('title') must be given"),
    ("steps: []\n", 1, "one key"),
    ("levels:\n  1:\n    title: x\n    min_average_score: 101\n", 4, "from 0 to 100"),
])
def test_a_bad_ladder_file_names_the_line(text, line, words):
    specs, errors = parse_ladder(text, "courses/ladder.yaml")
    assert specs == [] and errors and errors[0].line == line and words in errors[0].message
    assert str(errors[0]).startswith(f"courses/ladder.yaml:{line}")


def test_ladder_sync_is_idempotent(app, writes):
    text = "levels:\n  1:\n    title: 一星\n    min_months_since_hire: 1\n"
    set_ladder(text)
    writes.clear()
    set_ladder(text)
    assert writes == []
    assert db.session.get(StarLevel, 1).min_months_since_hire == 1
