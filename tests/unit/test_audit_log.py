"""The audit log's services (lms/reports/audit.py): filters by person, kind and period with their
edges, readable details, the export table cell by cell, who may read it, bounded queries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lms.clock import center_zone
from lms.extensions import db
from lms.models import User
from lms.records.services import audit as write_audit
from lms.reports import audit
from lms.reports.period import parse_period
from tests.conftest import count_queries

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def event(actor, action, subject_type, subject_id, at=NOW, **details):
    written = write_audit(actor, action, subject_type, subject_id, **details)
    written.created_at = at
    db.session.commit()
    return written


@pytest.fixture
def people(make_user):
    admin = make_user(roles=("admin",), employee_no="A0001", name="王敏")
    mentor = make_user(roles=("mentor", "agent"), employee_no="M0001", name="陈刚")
    agent = make_user(employee_no="E1001", name="张晓", mentor=mentor)
    other = make_user(employee_no="E1002", name="刘洋", mentor=mentor)
    trainer = make_user(roles=("trainer",), employee_no="T0001", name="李静")
    return {"admin": admin, "mentor": mentor, "agent": agent, "other": other, "trainer": trainer}


def ids(filters: audit.AuditFilter) -> list[int]:
    return [row.event.id for row in audit.search_events(None, filters).events]


def test_person_matches_actor_subject_named_agent_and_number(people):
    admin, mentor, agent, other = people["admin"], people["mentor"], people["agent"], people["other"]
    as_actor = event(agent, "practical.acknowledged", "practical", 7, record_entry_id=1)
    as_subject = event(admin, "star.promotion", "user", agent.id, from_level=0, to_level=1)
    as_named = event(mentor, "practical.signed", "practical", 7, agent_id=agent.id)
    by_number = event(admin, "cohort.member_removed", "cohort", 3, employee_no="E1001")
    unrelated = [event(mentor, "practical.signed", "practical", 8, agent_id=other.id),
                 event(admin, "star.promotion", "user", other.id, from_level=1, to_level=2),
                 event(admin, "cohort.member_removed", "cohort", 3, employee_no="E1002")]
    found = ids(audit.AuditFilter(person_id=agent.id, person_no="E1001"))
    assert sorted(found) == sorted([as_actor.id, as_subject.id, as_named.id, by_number.id])
    assert not set(found) & {one.id for one in unrelated}
    assert len(ids(audit.AuditFilter())) == 7


def test_kind_is_an_exact_action_or_a_prefix(people):
    admin, agent = people["admin"], people["agent"]
    signed = event(admin, "practical.signed", "practical", 1, agent_id=agent.id)
    corrected = event(admin, "practical.corrected", "practical", 1, agent_id=agent.id)
    event(admin, "star.promotion", "user", agent.id)
    underscore = event(admin, "exam_graded", "exam_attempt", 4)
    event(admin, "examXgraded", "exam_attempt", 4)  # "_" is not a LIKE wildcard here
    assert sorted(ids(audit.AuditFilter(kind="practical."))) == sorted([signed.id, corrected.id])
    assert ids(audit.AuditFilter(kind="practical.signed")) == [signed.id]
    assert ids(audit.AuditFilter(kind="exam_graded")) == [underscore.id]
    assert ids(audit.AuditFilter(kind="practical")) == []  # no such action; a prefix ends with "."
    for bad in ("x%", "PRACTICAL.", "a.b.c", "1abc", "x" * 41, "practical. signed"):
        with pytest.raises(audit.KindInvalid):
            audit.check_kind(bad)
    assert audit.check_kind("  ") is None and audit.check_kind("practical.") == "practical."


def test_period_starts_and_ends_at_local_midnight(app, people):
    admin = people["admin"]
    period = parse_period("2026-11")  # the center's November: from 31 Oct 16:00 UTC (UTC+8)
    assert period.start == datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)
    first = event(admin, "account.updated", "user", admin.id, at=period.start)
    before = event(admin, "account.updated", "user", admin.id, at=period.start - timedelta(seconds=1))
    last = event(admin, "account.updated", "user", admin.id, at=period.end - timedelta(seconds=1))
    after = event(admin, "account.updated", "user", admin.id, at=period.end)
    assert ids(audit.AuditFilter(period=period)) == [last.id, first.id]  # newest first
    assert ids(audit.AuditFilter(period=parse_period("2026-12"))) == [after.id]
    assert ids(audit.AuditFilter(period=parse_period("2026-10"))) == [before.id]
    assert ids(audit.AuditFilter(period=parse_period("2025"))) == []


def test_newest_first_and_pages(people):
    admin = people["admin"]
    written = [event(admin, "account.updated", "user", admin.id, at=NOW - timedelta(minutes=n)) for n in range(5)]
    tie = event(admin, "account.created", "user", admin.id, at=NOW)  # same second: the later id first
    first = audit.search_events(None, audit.AuditFilter(), page=1, per_page=4)
    assert [row.event.id for row in first.events] == [tie.id] + [one.id for one in written[:3]]
    second = audit.search_events(None, audit.AuditFilter(), page=2, per_page=4)
    assert [row.event.id for row in second.events] == [one.id for one in written[3:]]
    assert first.pagination.total == 6 and first.pagination.pages == 2
    assert audit.search_events(None, audit.AuditFilter(), page=99, per_page=4).events == []


def test_details_read_as_people_and_plain_values(people):
    mentor, agent = people["mentor"], people["agent"]
    event(mentor, "practical.signed", "practical", 9, agent_id=agent.id, passed=True, employee_nos=["E1001", "E1002"],
          before={"title": "旧", "room": 2}, reason=None)
    event(None, "auth.locked_out", "login", 0, employee_no="E9999")
    system, signed = audit.search_events(None, audit.AuditFilter()).events
    assert str(signed.label) == str(audit.ACTION_LABELS["practical.signed"])
    assert dict(signed.details) == {"agent_id": "E1001 张晓", "passed": "✓", "employee_nos": "E1001, E1002",
                                    "before": '{"room": 2, "title": "旧"}', "reason": "—"}
    assert signed.subject_person is None
    assert system.event.actor is None and dict(system.details) == {"employee_no": "E9999"}
    unknown = event(mentor, "some.new_action", "thing", 1, agent_id=123456)  # an id nobody has any more
    row = audit.search_events(None, audit.AuditFilter(kind="some.new_action")).events[0]
    assert row.event.id == unknown.id and row.label == "some.new_action" and row.subject == "thing"
    assert dict(row.details) == {"agent_id": "123456"}


def test_export_table_cell_by_cell(app, people):
    admin, agent = people["admin"], people["agent"]
    event(admin, "star.promotion", "user", agent.id, at=NOW, from_level=0, to_level=1, reason="考核通过")
    event(None, "auth.locked_out", "login", 0, at=NOW - timedelta(hours=1), employee_no="E1001")
    (table,) = audit.build_audit(admin, None, None, NOW)
    assert table.name == "audit-log"
    assert [column.key for column in table.columns] == ["when", "actor_no", "actor", "action", "label",
                                                        "subject_type", "subject_id", "person_no", "person", "details"]
    promotion, locked = table.rows
    assert promotion == {"when": "2026-11-23 17:00:00", "actor_no": "A0001", "actor": "王敏", "action": "star.promotion",
                         "label": str(audit.ACTION_LABELS["star.promotion"]), "subject_type": str(audit.SUBJECT_LABELS["user"]),
                         "subject_id": agent.id, "person_no": "E1001", "person": "张晓",
                         "details": "from_level: 0; to_level: 1; reason: 考核通过"}
    assert locked["when"] == "2026-11-23 16:00:00" and locked["actor_no"] == "" and locked["person_no"] == ""
    assert locked["details"] == "employee_no: E1001"
    assert center_zone().key == "Asia/Shanghai"


def test_export_filters_and_refusals(people):
    admin, mentor, agent = people["admin"], people["mentor"], people["agent"]
    event(admin, "star.promotion", "user", agent.id)
    event(mentor, "practical.signed", "practical", 2, agent_id=people["other"].id)
    (table,) = audit.build_audit(None, parse_period("2026-11"), None, NOW, person="E1002", kind="practical.")
    assert [row["action"] for row in table.rows] == ["practical.signed"]
    (empty,) = audit.build_audit(None, parse_period("2026-10"), None, NOW)
    assert empty.rows == []
    with pytest.raises(audit.PersonNotFound):
        audit.build_audit(None, None, None, NOW, person="NOBODY")
    with pytest.raises(audit.KindInvalid):
        audit.build_audit(None, None, None, NOW, kind="%")
    for viewer in (mentor, people["trainer"], agent):
        with pytest.raises(audit.AuditLogNotAllowed):
            audit.build_audit(viewer, None, None, NOW)
        with pytest.raises(audit.AuditLogNotAllowed):
            audit.search_events(viewer, audit.AuditFilter())


def test_kinds_on_offer(people):
    admin = people["admin"]
    assert audit.kinds_on_offer() == []
    for action in ("star.promotion", "practical.signed", "practical.corrected", "exam_graded"):
        event(admin, action, "x", 1)
    values = [value for value, _label in audit.kinds_on_offer()]
    assert values == ["practical.", "star.", "exam_graded", "practical.corrected", "practical.signed", "star.promotion"]


def test_find_person(people):
    assert audit.find_person(" E1001 ").id == people["agent"].id
    for missing in ("", "e1001", "E100"):
        with pytest.raises(audit.PersonNotFound):
            audit.find_person(missing)


@pytest.mark.parametrize("size", [10, 1000])
def test_a_page_of_the_log_runs_a_fixed_number_of_queries(app, people, size):
    admin = people["admin"]
    agents = [User(employee_no=f"B{n:05d}", name=f"坐席{n}", team="热线一组", password_hash="x") for n in range(size)]
    db.session.add_all(agents)
    db.session.commit()
    for n, agent in enumerate(agents):
        db.session.add(audit.AuditEvent(actor_id=admin.id if n % 2 else agent.id, action="practical.signed",
                                        subject_type="user" if n % 3 else "practical", subject_id=agent.id,
                                        details={"agent_id": agent.id}, created_at=NOW - timedelta(minutes=n)))
    db.session.commit()
    db.session.expunge_all()

    def page_of(number):
        result = audit.search_events(None, audit.AuditFilter(kind="practical."), page=number, per_page=50)
        assert result.events and all(row.details for row in result.events)
        [(row.event.actor.name if row.event.actor else None, row.subject_person) for row in result.events]

    assert count_queries(lambda: page_of(1)) == 3  # count, rows with actor, the people they name
    db.session.expunge_all()

    def export():
        (table,) = audit.build_audit(None, None, None, NOW, kind="practical.")
        assert len(table.rows) == size

    assert count_queries(export) == 2  # rows with actor, the people they name
