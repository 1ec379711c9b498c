"""Classroom sessions: time rules, the check-in code, sign-up with capacity and waiting list,
check-in refusals, attendance marking and closing into the training record, reminders, .ics."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from lms.classroom import agenda, attendance, calendar, reminders, services, signups, timing
from lms.extensions import db
from lms.models import AuditEvent, RecordEntry
from lms.models.classroom import ClassAttendance, ClassRegistration, ClassSession
from lms.models.notifications import Notification
from lms.records.completion import in_force

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # 17:00 in Asia/Shanghai


@pytest.fixture
def trainer(make_user):
    return make_user(roles=("trainer",), star_level=5, name="李静")


@pytest.fixture
def agents(make_user):
    return [make_user(team="热线一组", name=f"坐席{i}") for i in range(4)]


def schedule(trainer, *, starts_in=timedelta(days=3), minutes=90, now=NOW, **fields) -> ClassSession:
    starts = now + starts_in
    values = dict(title="投诉处理工作坊", starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
                  instructor=trainer, location="培训室 A", audience={"teams": ["热线一组"]})
    values.update(fields)
    return services.create_session(trainer, services.SessionFields(**values), now)


def notifications(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


# --- time rules ---------------------------------------------------------------------------------

def test_checkin_window_edges():
    start, end = NOW, NOW + timedelta(hours=1)
    assert not timing.checkin_open(start, end, start - timedelta(minutes=15, seconds=1))
    assert timing.checkin_open(start, end, start - timedelta(minutes=15))
    assert timing.checkin_open(start, end, end - timedelta(seconds=1))
    assert not timing.checkin_open(start, end, end)


def test_late_after_ten_minutes_exactly():
    assert not timing.is_late(NOW, NOW + timedelta(minutes=10))
    assert timing.is_late(NOW, NOW + timedelta(minutes=10, seconds=1))


def test_signup_closes_at_the_cutoff_second():
    start = NOW + timedelta(hours=24)
    assert timing.signup_open(start, 24, NOW - timedelta(seconds=1))
    assert not timing.signup_open(start, 24, NOW)
    assert timing.signup_open(start, 0, start - timedelta(seconds=1))


def test_code_current_previous_expired_and_other_session(app):
    code, window, left = timing.current_code(7, NOW)
    assert len(code) == 6 and code.isdigit() and 1 <= left <= 60
    assert timing.check_code(7, code, NOW) == timing.VALID
    # read at the last second of its window: still good during the next window, not the one after
    end_of_window = datetime.fromtimestamp((window + 1) * 60 - 1, timezone.utc)
    assert timing.check_code(7, code, end_of_window + timedelta(seconds=60)) == timing.VALID
    assert timing.check_code(7, code, end_of_window + timedelta(seconds=61)) == timing.EXPIRED
    assert timing.check_code(8, code, NOW) == timing.WRONG or timing.code_for("test-secret-key", 8, window) == code
    assert timing.check_code(7, "12a456", NOW) == timing.WRONG
    assert timing.check_code(7, "", NOW) == timing.WRONG


def test_code_depends_on_the_secret_key():
    assert timing.code_for("one", 1, 100) != timing.code_for("two", 1, 100)
    assert timing.code_for("one", 1, 100) == timing.code_for("one", 1, 100)


# --- scheduling and invitations -----------------------------------------------------------------

def test_create_invites_matching_active_agents_only(trainer, agents, make_user):
    other_team = make_user(team="热线二组", star_level=2)
    by_level = make_user(team="热线三组", star_level=3)
    make_user(team="热线一组", active=False)
    make_user(roles=("mentor",), team="热线一组")
    session = schedule(trainer, audience={"teams": ["热线一组"], "levels": [3], "agents": [other_team.id]})
    invited = {user.id for user in services.invited_agents(session)}
    assert invited == {a.id for a in agents} | {other_team.id, by_level.id}
    sent = notifications("session_invited")
    assert {n.user_id for n in sent} == invited
    assert sent[0].params["title"] == "投诉处理工作坊" and sent[0].link == f"/sessions/{session.id}"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == session.id)) \
        == "class_session_created"


def test_session_fields_are_checked(trainer):
    with pytest.raises(services.InvalidSession):
        schedule(trainer, minutes=0)
    with pytest.raises(services.InvalidSession):
        schedule(trainer, online_url="javascript:alert(1)")
    with pytest.raises(services.InvalidSession):
        schedule(trainer, title="  ")


def test_cancel_tells_expected_and_waiting(trainer, agents):
    session = schedule(trainer, signup_required=True, capacity=1)
    signups.sign_up(session.id, agents[0], NOW)
    signups.sign_up(session.id, agents[1], NOW)
    services.cancel_session(session, trainer, NOW)
    assert {n.user_id for n in notifications("session_cancelled")} == {agents[0].id, agents[1].id}
    with pytest.raises(services.SessionCancelled):
        signups.sign_up(session.id, agents[2], NOW)


def test_a_new_time_or_place_tells_those_expected_and_waiting_a_new_title_does_not(trainer, agents):
    from dataclasses import replace

    session = schedule(trainer, signup_required=True, capacity=1)
    signups.sign_up(session.id, agents[0], NOW)
    signups.sign_up(session.id, agents[1], NOW)  # waiting
    fields = services.SessionFields(title="投诉处理工作坊", starts_at=session.starts_at, ends_at=session.ends_at,
                                    instructor=trainer, location="培训室 A", audience={"teams": ["热线一组"]},
                                    signup_required=True, capacity=1)
    services.update_session(session, trainer, replace(fields, title="投诉处理工作坊（二）"), NOW)
    assert notifications("session_changed") == []
    later = NOW + timedelta(minutes=1)
    services.update_session(session, trainer, replace(fields, starts_at=session.starts_at + timedelta(hours=1),
                                                      ends_at=session.ends_at + timedelta(hours=1)), later)
    services.update_session(session, trainer, replace(fields, location="培训室 B"), later + timedelta(minutes=1))
    sent = notifications("session_changed")
    assert sorted(n.user_id for n in sent) == sorted([agents[0].id, agents[1].id] * 2)
    assert {n.params["location"] for n in sent} == {"培训室 A", "培训室 B"}


# --- sign-up, capacity, waiting list, cutoff ----------------------------------------------------

def test_capacity_then_waiting_list_in_order(trainer, agents):
    session = schedule(trainer, signup_required=True, capacity=2)
    statuses = [signups.sign_up(session.id, agent, NOW + timedelta(seconds=i)).status
                for i, agent in enumerate(agents)]
    assert statuses == ["registered", "registered", "waitlisted", "waitlisted"]
    assert signups.waiting_position(session, agents[2]) == 1
    assert signups.waiting_position(session, agents[3]) == 2
    assert signups.waiting_position(session, agents[0]) is None
    with pytest.raises(services.AlreadySignedUp):
        signups.sign_up(session.id, agents[0], NOW)


def test_cancelling_a_place_moves_the_first_waiting_agent_in(trainer, agents):
    session = schedule(trainer, signup_required=True, capacity=1)
    for i, agent in enumerate(agents[:3]):
        signups.sign_up(session.id, agent, NOW + timedelta(seconds=i))
    signups.withdraw(session.id, agents[0], NOW + timedelta(minutes=1))
    status = dict(db.session.execute(select(ClassRegistration.user_id, ClassRegistration.status)).all())
    assert status == {agents[0].id: "cancelled", agents[1].id: "registered", agents[2].id: "waitlisted"}
    freed = notifications("session_place_freed")
    assert [n.user_id for n in freed] == [agents[1].id]
    assert signups.waiting_position(session, agents[2]) == 1
    # signing up again goes to the back of the queue
    again = signups.sign_up(session.id, agents[0], NOW + timedelta(minutes=2))
    assert again.status == "waitlisted" and signups.waiting_position(session, agents[0]) == 2


def test_raising_the_capacity_moves_the_waiting_list_in(trainer, agents):
    session = schedule(trainer, signup_required=True, capacity=1)
    for i, agent in enumerate(agents[:3]):
        signups.sign_up(session.id, agent, NOW + timedelta(seconds=i))
    fields = services.SessionFields(title=session.title, starts_at=session.starts_at, ends_at=session.ends_at,
                                    signup_required=True, capacity=2, audience={"teams": ["热线一组"]})
    services.update_session(session, trainer, fields, NOW)
    assert [n.user_id for n in notifications("session_place_freed")] == [agents[1].id]
    assert attendance.roster(session).waiting[0].user_id == agents[2].id


def test_a_free_place_does_not_jump_the_waiting_list(trainer, agents):
    """The waiting list is served first even if a place looks free for a moment."""
    session = schedule(trainer, signup_required=True, capacity=1)
    signups.sign_up(session.id, agents[0], NOW)
    signups.sign_up(session.id, agents[1], NOW + timedelta(seconds=1))
    db.session.execute(ClassRegistration.__table__.update().where(ClassRegistration.user_id == agents[0].id)
                       .values(status="cancelled"))
    db.session.commit()
    assert signups.sign_up(session.id, agents[2], NOW + timedelta(seconds=2)).status == "waitlisted"


def test_signup_cutoff(trainer, agents):
    session = schedule(trainer, signup_required=True, capacity=1, starts_in=timedelta(hours=30),
                       signup_cutoff_hours=6)
    cutoff = session.starts_at - timedelta(hours=6)
    signups.sign_up(session.id, agents[0], cutoff - timedelta(seconds=1))
    signups.sign_up(session.id, agents[1], cutoff - timedelta(seconds=1))
    with pytest.raises(services.SignupClosed):
        signups.sign_up(session.id, agents[2], cutoff)
    with pytest.raises(services.SignupClosed):
        signups.withdraw(session.id, agents[0], cutoff)
    # the waiting list can be left until the start, but not after
    signups.withdraw(session.id, agents[1], session.starts_at - timedelta(seconds=1))
    with pytest.raises(services.NotSignedUp):
        signups.withdraw(session.id, agents[1], session.starts_at - timedelta(seconds=1))


def test_signup_refusals(trainer, agents, make_user):
    open_session = schedule(trainer)
    with pytest.raises(services.SignupNotNeeded):
        signups.sign_up(open_session.id, agents[0], NOW)
    session = schedule(trainer, signup_required=True)
    with pytest.raises(services.NotInvited):
        signups.sign_up(session.id, make_user(team="热线二组"), NOW)
    with pytest.raises(services.SessionNotFound):
        signups.sign_up(999999, agents[0], NOW)


def test_capacity_holds_under_concurrent_signups(app, trainer, make_user):
    people = [make_user(team="热线一组") for _ in range(6)]
    session = schedule(trainer, signup_required=True, capacity=2)
    session_id, user_ids = session.id, [p.id for p in people]
    barrier, errors = threading.Barrier(len(user_ids)), []

    def sign(user_id):
        with app.app_context():
            try:
                from lms.models import User

                user = db.session.get(User, user_id)
                barrier.wait()
                signups.sign_up(session_id, user, NOW)
            except Exception as exc:  # pragma: no cover - shown below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    counts = dict(db.session.execute(select(ClassRegistration.status, func.count())
                                     .group_by(ClassRegistration.status)).all())
    assert counts == {"registered": 2, "waitlisted": 4}


# --- check-in -----------------------------------------------------------------------------------

@pytest.fixture
def running(trainer, agents):
    """A session without sign-up, starting at NOW (invited: the four agents of 热线一组)."""
    return schedule(trainer, starts_in=timedelta(days=1), now=NOW - timedelta(days=1))


def code_at(session, moment):
    return timing.current_code(session.id, moment)[0]


def test_checkin_present_late_and_code_reuse_by_another_agent(running, agents):
    early = NOW - timedelta(minutes=15)
    first = attendance.check_in(running.id, agents[0], code_at(running, early), early)
    assert (first.status, first.method, first.checked_in_at) == ("present", "code", early)
    at = NOW + timedelta(minutes=10, seconds=1)
    code = code_at(running, at)
    assert attendance.check_in(running.id, agents[1], code, at).status == "late"
    assert attendance.check_in(running.id, agents[2], code, at).status == "late"  # the room's code


def test_double_checkin_keeps_the_first(running, agents):
    attendance.check_in(running.id, agents[0], code_at(running, NOW), NOW)
    later = NOW + timedelta(minutes=30)
    with pytest.raises(services.AlreadyCheckedIn) as caught:
        attendance.check_in(running.id, agents[0], code_at(running, later), later)
    assert caught.value.attendance.checked_in_at == NOW and caught.value.attendance.status == "present"
    assert db.session.scalar(select(func.count()).select_from(ClassAttendance)) == 1


def test_checkin_outside_the_window(running, agents):
    before = NOW - timedelta(minutes=15, seconds=1)
    with pytest.raises(services.CheckinNotYetOpen):
        attendance.check_in(running.id, agents[0], code_at(running, before), before)
    with pytest.raises(services.CheckinOver):
        attendance.check_in(running.id, agents[0], code_at(running, running.ends_at), running.ends_at)


def test_expired_wrong_and_foreign_codes(running, agents, trainer):
    old = code_at(running, NOW - timedelta(minutes=3))
    with pytest.raises(services.CodeExpired):
        attendance.check_in(running.id, agents[0], old, NOW)
    other = schedule(trainer, starts_in=timedelta(days=1), now=NOW - timedelta(days=1), title="另一场")
    foreign = code_at(other, NOW)
    assert foreign != code_at(running, NOW)
    with pytest.raises(services.CodeWrong):
        attendance.check_in(running.id, agents[0], foreign, NOW)
    assert db.session.scalar(select(func.count()).select_from(ClassAttendance)) == 0


def test_too_many_wrong_codes_are_refused(running, agents):
    right = code_at(running, NOW)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for _ in range(attendance.MAX_WRONG_CODES):
        with pytest.raises(services.CodeWrong):
            attendance.check_in(running.id, agents[0], wrong, NOW)
    with pytest.raises(services.TooManyWrongCodes):
        attendance.check_in(running.id, agents[0], right, NOW)
    assert attendance.check_in(running.id, agents[1], right, NOW).status == "present"  # per agent


def test_not_invited_or_not_registered_is_refused(trainer, agents, make_user, running):
    stranger = make_user(team="热线二组")
    with pytest.raises(services.NotExpected):
        attendance.check_in(running.id, stranger, code_at(running, NOW), NOW)
    signup = schedule(trainer, signup_required=True, capacity=1, starts_in=timedelta(days=2))
    signups.sign_up(signup.id, agents[0], NOW)
    signups.sign_up(signup.id, agents[1], NOW)
    at = signup.starts_at
    with pytest.raises(services.NotExpected):  # waiting list
        attendance.check_in(signup.id, agents[1], code_at(signup, at), at)
    with pytest.raises(services.NotExpected):  # invited, never signed up
        attendance.check_in(signup.id, agents[2], code_at(signup, at), at)
    assert attendance.check_in(signup.id, agents[0], code_at(signup, at), at).status == "present"


# --- marking and closing ------------------------------------------------------------------------

def test_manual_marks_are_audited_and_a_stale_page_does_not_overwrite(running, agents, trainer):
    attendance.check_in(running.id, agents[0], code_at(running, NOW), NOW)
    changed = attendance.mark_attendance(running, trainer, {
        agents[0].id: (None, "absent"),  # the page was loaded before the check-in arrived
        agents[1].id: (None, "excused"),
        agents[2].id: (None, ""),  # left blank
    }, "", NOW)
    assert (changed.changed, changed.stale) == (1, 1)
    rows = {row.user_id: row for row in db.session.scalars(select(ClassAttendance))}
    assert rows[agents[0].id].status == "present" and rows[agents[1].id].status == "excused"
    assert rows[agents[1].id].method == "manual" and rows[agents[1].id].marked_by_id == trainer.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attendance_marked"))
    assert event.details == {"user_id": agents[1].id, "before": None, "after": "excused"}
    assert attendance.mark_attendance(running, trainer, {agents[0].id: ("present", "late")}, "", NOW).changed == 1
    with pytest.raises(services.NotExpected):
        attendance.mark_attendance(running, trainer, {trainer.id: (None, "present")}, "", NOW)


def test_close_writes_one_entry_per_agent_and_absences(running, agents, trainer):
    attendance.check_in(running.id, agents[0], code_at(running, NOW), NOW)
    late = NOW + timedelta(minutes=20)
    attendance.check_in(running.id, agents[1], code_at(running, late), late)
    attendance.mark_attendance(running, trainer, {agents[2].id: (None, "excused")}, "", late)
    with pytest.raises(services.AttendanceNotClosable):
        attendance.close_attendance(running, trainer, NOW - timedelta(seconds=1))
    counts = attendance.close_attendance(running, trainer, running.ends_at)
    assert counts == {"present": 1, "late": 1, "excused": 1, "absent": 1}
    entries = {e.user_id: e for e in db.session.scalars(select(RecordEntry).where(RecordEntry.kind == "attendance"))}
    assert {uid: e.passed for uid, e in entries.items()} == {
        agents[0].id: True, agents[1].id: True, agents[2].id: None, agents[3].id: False}
    absent = entries[agents[3].id]
    assert (absent.occurred_at, absent.source_type, absent.source_id, absent.details) == (
        running.starts_at, "class_session", running.id, {"status": "absent", "session_id": running.id})
    assert absent.recorded_by_id == trainer.id and absent.title == running.title
    with pytest.raises(services.AttendanceClosed):
        attendance.close_attendance(running, trainer, running.ends_at)
    with pytest.raises(services.AttendanceClosed):
        attendance.check_in(running.id, agents[3], code_at(running, NOW), NOW)


def test_a_change_after_closing_is_a_correction_with_a_reason(running, agents, trainer):
    attendance.close_attendance(running, trainer, running.ends_at)
    with pytest.raises(services.ReasonRequired):
        attendance.mark_attendance(running, trainer, {agents[0].id: ("absent", "excused")}, "  ", running.ends_at)
    attendance.mark_attendance(running, trainer, {agents[0].id: ("absent", "excused")}, "病假条已补交",
                             running.ends_at)
    original = db.session.scalar(select(RecordEntry).where(RecordEntry.user_id == agents[0].id,
                                                           RecordEntry.corrects_id.is_(None)))
    current = db.session.scalar(select(RecordEntry).where(RecordEntry.user_id == agents[0].id, in_force()))
    assert current.corrects_id == original.id and current.passed is None and current.reason == "病假条已补交"
    absences = db.session.scalar(select(func.count()).select_from(RecordEntry).where(
        RecordEntry.kind == "attendance", RecordEntry.passed.is_(False), in_force()))
    assert absences == 3  # the other three agents
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attendance_marked")).one()
    assert event.details["reason"] == "病假条已补交" and event.details["corrects"] == original.id


def test_closed_list_is_frozen(running, agents, trainer, make_user):
    attendance.close_attendance(running, trainer, running.ends_at)
    newcomer = make_user(team="热线一组")
    assert newcomer.id not in {u.id for u in services.expected_agents(running)}
    assert len(attendance.roster(running).lines) == 4


# --- agent views, reminders, calendar -----------------------------------------------------------

def test_upcoming_for_lists_the_next_14_days(trainer, agents, make_user):
    soon = schedule(trainer, starts_in=timedelta(days=2))
    schedule(trainer, starts_in=timedelta(days=15), title="太远")
    schedule(trainer, starts_in=timedelta(days=1), audience={"teams": ["热线二组"]}, title="别组")
    cancelled = schedule(trainer, starts_in=timedelta(days=3), title="取消了")
    services.cancel_session(cancelled, trainer, NOW)
    now_running = schedule(trainer, starts_in=timedelta(minutes=10), title="马上开始")
    items = agenda.upcoming_for(agents[0], NOW)
    assert [item.session.id for item in items] == [now_running.id, soon.id]
    assert items[0].checkin_open and not items[1].checkin_open
    assert agenda.upcoming_for(make_user(team="热线九组"), NOW) == []


def test_my_sessions_past_with_status(running, agents, trainer):
    attendance.check_in(running.id, agents[0], code_at(running, NOW), NOW)
    attendance.close_attendance(running, trainer, running.ends_at)
    upcoming, past = agenda.my_sessions(agents[0], running.ends_at + timedelta(hours=1))
    assert upcoming == [] and past[0].attendance == "present"
    assert agenda.my_sessions(agents[1], running.ends_at + timedelta(hours=1))[1][0].attendance == "absent"


def test_reminders_the_day_before_once(trainer, agents):
    # 2026-11-24 10:00 Shanghai is tomorrow seen from 2026-11-23 17:00 Shanghai
    tomorrow = schedule(trainer, starts_in=timedelta(hours=17), title="明天")
    schedule(trainer, starts_in=timedelta(days=2, hours=17), title="后天")
    assert reminders.send_due(NOW) == 4
    db.session.commit()
    assert reminders.send_due(NOW) == 0
    sent = notifications("session_reminder")
    assert {n.params["title"] for n in sent} == {"明天"} and sent[0].link == f"/sessions/{tomorrow.id}"


def test_month_and_week_grids():
    month = calendar.grid("month", date(2026, 11, 18))
    assert month.first == date(2026, 10, 26) and month.last == date(2026, 12, 6)
    assert all(len(week) == 7 for week in month.weeks) and len(month.weeks) == 6
    assert (month.previous, month.next) == (date(2026, 10, 1), date(2026, 12, 1))
    week = calendar.grid("week", date(2026, 11, 18))
    assert (week.first, week.last, week.previous) == (date(2026, 11, 16), date(2026, 11, 22), date(2026, 11, 9))
    assert calendar.parse_day("2026-02-30", date(2026, 1, 1)) == date(2026, 1, 1)


def test_sessions_go_on_their_local_day(app, trainer):
    # 2026-11-30 17:00 UTC is 2026-12-01 01:00 in Shanghai
    session = schedule(trainer, starts_in=datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc) - NOW)
    shown = calendar.place([session], calendar.grid("week", date(2026, 12, 1)))
    assert [d.day for d in shown.weeks[0] if d.sessions] == [date(2026, 12, 1)]


def test_ics_uid_stable_and_times_in_utc(app, trainer):
    session = schedule(trainer)
    body = calendar.ics([session], base_url="https://academy.example.com", now=NOW, name="我的课程",
                        link_for=lambda s: f"https://academy.example.com/sessions/{s.id}")
    again = calendar.ics([session], base_url="https://academy.example.com", now=NOW + timedelta(days=1), name="x",
                         link_for=lambda s: "")
    event = Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(event["UID"]) == f"class-session-{session.id}@academy.example.com"
    assert str(Calendar.from_ical(again).walk("VEVENT")[0]["UID"]) == str(event["UID"])
    assert event.decoded("DTSTART") == session.starts_at and event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert b"DTSTART:20261126T090000Z" in body
    assert str(event["LOCATION"]) == "培训室 A" and str(event["SUMMARY"]) == "投诉处理工作坊"


def test_demo_seed(make_user, frozen_now):
    from lms.classroom.demo import seed_demo

    frozen_now(NOW)
    users = {"T0001": make_user(roles=("trainer",), employee_no="T0001", team="培训部"),
             "M0001": make_user(roles=("mentor", "agent"), employee_no="M0001", star_level=4)}
    for number, team in (("E1001", "热线一组"), ("E1002", "热线一组"), ("E1003", "热线二组"), ("E1004", "热线二组")):
        users[number] = make_user(employee_no=number, team=team)
    seed_demo(users, NOW)
    past, upcoming = db.session.scalars(select(ClassSession).order_by(ClassSession.starts_at)).all()
    assert past.attendance_closed_at is not None and upcoming.starts_at > NOW
    statuses = {e.user.employee_no: e.details["status"] for e in db.session.scalars(
        select(RecordEntry).where(RecordEntry.kind == "attendance"))}
    assert statuses == {"E1001": "present", "M0001": "present", "E1002": "late", "E1003": "present",
                        "E1004": "absent"}
    roster = attendance.roster(upcoming)
    assert [r.user.employee_no for r in roster.registered] == ["E1002", "E1001"]
    assert [r.user.employee_no for r in roster.waiting] == ["E1004"]
    assert agenda.upcoming_for(users["E1004"], NOW)[0].position == 1
