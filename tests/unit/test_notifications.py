"""Notifications without HTTP: notify() once per key, the wording of every kind, the daily
reminders (`lms notify send-due`), expiring certificates, and the hooks in exams, practicals and
certificates."""
import random
import sys
import types
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Certificate, Course
from lms.models.notifications import Notification, OutgoingMail
from lms.notifications import messages, producers
from lms.notifications.services import mark_all_read, notify, open_notification, unread_count
from tests.conftest import count_queries
from tests.practicals_support import scenario  # noqa: F401 (fixture)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def notifications_of(user):
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


# --- notify ---------------------------------------------------------------------------------------

def test_a_key_makes_a_notification_happen_once(make_user):
    agent = make_user()
    first = notify(agent.id, "survey_waiting", params={"title": "入职满意度"}, link="/surveys/1", key="survey:1",
                   now=T0)
    again_pending = notify(agent.id, "survey_waiting", params={"title": "入职满意度"}, key="survey:1", now=T0)
    db.session.commit()
    again_committed = notify(agent.id, "survey_waiting", params={"title": "入职满意度"}, key="survey:1", now=T0)
    db.session.commit()
    assert first is not None and again_pending is None and again_committed is None
    assert [(n.kind, n.key, n.link, n.read_at) for n in notifications_of(agent)] == \
        [("survey_waiting", "survey:1", "/surveys/1", None)]


def test_the_key_is_per_person_and_no_key_always_adds(make_user):
    one, two = make_user(), make_user()
    assert notify(one.id, "welcome", key="same", now=T0) is not None
    assert notify(two.id, "welcome", key="same", now=T0) is not None
    assert notify(one.id, "welcome", now=T0) is not None
    assert notify(one.id, "welcome", now=T0) is not None
    db.session.commit()
    assert len(notifications_of(one)) == 3 and len(notifications_of(two)) == 1


def test_notify_does_not_commit(make_user):
    agent = make_user()
    notify(agent.id, "welcome", key="k", now=T0)
    db.session.rollback()
    assert notifications_of(agent) == []


def test_a_seen_notification_is_read_already_and_never_mailed(make_user, app):
    app.config["LMS_SMTP_URL"] = "smtp://127.0.0.1:1"
    agent = make_user(email="a@example.com")
    notify(agent.id, "exam_result", params={"exam": "期末", "percent": 90, "passed": True}, seen=True, now=T0)
    notify(agent.id, "welcome", now=T0)
    db.session.info.pop("lms_mail_queued", None)  # no sender thread in this test
    db.session.commit()
    seen, other = notifications_of(agent)
    assert seen.read_at == T0 and other.read_at is None
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 1


def test_open_and_mark_all_read(make_user):
    agent, other = make_user(), make_user()
    for number in range(3):
        notify(agent.id, "welcome", key=f"k{number}", link="/records/me", now=T0)
    notify(other.id, "welcome", now=T0)
    db.session.commit()
    first = notifications_of(agent)[0]
    assert unread_count(agent.id) == 3
    assert open_notification(agent, first.id, T0 + timedelta(hours=1)) == "/records/me"
    assert first.read_at == T0 + timedelta(hours=1) and unread_count(agent.id) == 2
    assert mark_all_read(agent, T0 + timedelta(hours=2)) == 2
    assert unread_count(agent.id) == 0 and unread_count(other.id) == 1  # only their own
    assert mark_all_read(agent, T0 + timedelta(hours=3)) == 0


def test_unread_count_is_one_query(make_user):
    agent = make_user()
    for number in range(30):
        notify(agent.id, "welcome", now=T0)
    db.session.commit()
    user_id = agent.id
    assert count_queries(lambda: unread_count(user_id)) == 1


@pytest.mark.parametrize("link, target", [("/exams/attempts/3/result", "/exams/attempts/3/result"),
                                          ("", None), ("//evil.example/x", None),
                                          ("https://evil.example/", None), ("javascript:alert(1)", None)])
def test_opening_follows_only_links_inside_the_site(make_user, link, target):
    agent = make_user()
    notification = notify(agent.id, "welcome", link=link, now=T0)
    db.session.commit()
    assert open_notification(agent, notification.id, T0) == target


# --- wording --------------------------------------------------------------------------------------

FULL_PARAMS = {
    "assignment_given": {"title": "入职必修课", "due_on": "2026-11-27", "plan": "新员工计划"},
    "assignment_reminder": {"plan": "新员工计划", "count": 2},
    "assignment_due_soon": {"title": "入职必修课", "due_on": "2026-11-27"},
    "assignment_overdue": {"title": "入职必修课", "due_on": "2026-11-20"},
    "attempts_granted": {"exam": "期末考试", "extra": 1, "reason": "系统故障补考"},
    "session_invited": {"title": "投诉处理工作坊", "starts_at": "2026-11-24T01:30:00+00:00", "location": "三楼培训室"},
    "session_place_freed": {"title": "投诉处理工作坊", "starts_at": "2026-11-24T01:30:00+00:00"},
    "session_cancelled": {"title": "投诉处理工作坊", "starts_at": "2026-11-24T01:30:00+00:00"},
    "recognition_awarded": {"month": "2026-10", "rank": 1},
    "session_changed": {"title": "投诉处理工作坊", "starts_at": "2026-11-24T02:30:00+00:00", "location": "培训室 B"},
    "session_reminder": {"title": "投诉处理工作坊", "starts_at": "2026-11-24T01:30:00+00:00", "location": "三楼培训室"},
    "survey_waiting": {"title": "入职满意度"},
    "exam_result": {"exam": "期末考试", "percent": 86.666, "passed": True},
    "essay_marked": {"exam": "期末考试", "percent": 40, "passed": False},
    "practical_scheduled": {"scenario": "账单查询", "mentor": "陈刚", "scheduled_for": "2026-11-25"},
    "practical_waiting": {"scenario": "账单查询", "mentor": "陈刚"},
    "certificate_earned": {"title": "服务礼仪"},
    "certificate_expiring": {"title": "服务礼仪", "expires_on": "2026-12-20"},
    "welcome": {},
}


def test_every_kind_has_a_message_and_a_test():
    assert set(FULL_PARAMS) == set(messages.MESSAGES)


@pytest.mark.parametrize("kind", sorted(FULL_PARAMS))
def test_every_kind_renders_with_its_params_and_without_them(app, kind):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        full = messages.render(kind, FULL_PARAMS[kind])
        bare = messages.render(kind, {})
    assert "%(" not in full and "—" not in full
    for value in FULL_PARAMS[kind].values():
        if isinstance(value, str) and not value[:4].isdigit():
            assert value in full
    assert bare and "%(" not in bare


def test_dates_and_times_are_shown_in_the_center_zone(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        # 01:30 UTC is 09:30 in Shanghai; a date stays the date it names
        text = messages.render("session_reminder", FULL_PARAMS["session_reminder"])
        due = messages.render("assignment_due_soon", {"title": "x", "due_on": "2026-11-27"})
    assert "9:30" in text and "Nov 24, 2026" in text
    assert "Nov 27, 2026" in due


def test_numbers_and_results(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        passed = messages.render("exam_result", {"exam": "期末", "percent": 86.666, "passed": True})
        failed = messages.render("exam_result", {"exam": "期末", "percent": 40.0, "passed": False})
        granted = messages.render("attempts_granted", {"exam": "期末", "extra": 2})
        reminder = messages.render("assignment_reminder", {"plan": "计划", "count": 1})
    assert passed == "You passed 期末 with 86.7%."
    assert failed == "Your result in 期末: 40%, not passed."
    assert granted == "You have 2 more attempts at 期末."
    assert reminder == "Reminder: 1 assignment of 计划 is still open."


@pytest.mark.parametrize("kind, params", [
    ("no_such_kind", {"title": "某事"}), ("no_such_kind", None), ("exam_result", {"percent": "abc"}),
    ("session_reminder", {"starts_at": "not a time", "title": 5}), ("assignment_due_soon", {"due_on": "2026-13-45"}),
    ("attempts_granted", {"extra": "many"}), ("survey_waiting", ["not", "a", "dict"]),
])
def test_odd_notifications_still_read_sensibly(app, kind, params):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        text = messages.render(kind, params)
    assert text and "%(" not in text and "Traceback" not in text


def test_a_broken_translation_falls_back_to_english(app, monkeypatch):
    monkeypatch.setitem(messages.MESSAGES, "survey_waiting", lambda p: "%(title)d broken")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert messages.render("survey_waiting", {"title": "问卷"}) == "You have a new notification."


def test_chinese_dates_in_a_chinese_reader_locale(app):
    with app.test_request_context(), force_locale("zh_CN"):
        text = messages.render("certificate_expiring", {"title": "服务礼仪", "expires_on": "2026-12-20"})
    assert "2026年12月20日" in text


# --- the daily producers --------------------------------------------------------------------------

@pytest.fixture
def fake_producers(monkeypatch):
    """Two producer modules: one notifying each active agent once a day, one that fails."""
    from lms.models import User

    good = types.ModuleType("tests_fake_reminders_good")

    def send_due(now):
        added = 0
        for user_id in db.session.scalars(select(User.id).where(User.active.is_(True))):
            added += notify(user_id, "survey_waiting", params={"title": "月度问卷"},
                            key=f"survey:{now.date().isoformat()}", now=now) is not None
        return added

    good.send_due = send_due
    bad = types.ModuleType("tests_fake_reminders_bad")

    def broken(now):
        notify(db.session.scalar(select(User.id)), "welcome", now=now)  # rolled back with the failure
        raise RuntimeError("producer bug")

    bad.send_due = broken
    monkeypatch.setitem(sys.modules, good.__name__, good)
    monkeypatch.setitem(sys.modules, bad.__name__, bad)
    return (bad.__name__, "tests_no_such_reminders_module", good.__name__)


def test_producers_run_once_per_key_skip_missing_and_survive_a_failure(make_user, fake_producers):
    make_user(), make_user()
    runs = producers.run_producers(T0, fake_producers)
    assert [(run.added, bool(run.error)) for run in runs] == [(None, True), (None, True), (2, False)]
    assert runs[1].error == "missing" and "producer bug" in runs[0].error
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2  # the failing one's is gone
    again = producers.run_producers(T0 + timedelta(hours=1), fake_producers)
    assert again[2].added == 0
    assert producers.run_producers(T0 + timedelta(days=1), fake_producers)[2].added == 2


def test_the_real_producer_list_imports_or_skips(app):
    runs = producers.run_producers(T0)
    assert [run.module for run in runs] == list(producers.PRODUCERS)
    assert all(run.error in ("", "missing") for run in runs), [run.error for run in runs]


def test_send_due_cli_twice_sends_nothing_twice(app, make_user, catalog, frozen_now, monkeypatch):
    now = frozen_now(T0)
    agent = make_user(star_level=2)
    certificate = _complete_refresher(agent, now - timedelta(days=340))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["notify", "send-due"])
    second = runner.invoke(args=["notify", "send-due"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "lms.certificates.reminders: 1 added" in first.output
    assert "lms.certificates.reminders: 0 added" in second.output
    keys = [n.key for n in notifications_of(agent) if n.kind == "certificate_expiring"]
    assert keys == [f"certificate_expiring:{certificate.id}"]


def test_send_due_cli_takes_a_date(app, make_user, catalog, frozen_now):
    now = frozen_now(T0)
    agent = make_user(star_level=2)
    _complete_refresher(agent, now - timedelta(days=300))  # expires in ~65 days: not yet today
    runner = app.test_cli_runner()
    assert "reminders: 0 added" in runner.invoke(args=["notify", "send-due"]).output
    later = runner.invoke(args=["notify", "send-due", "--date", "2026-12-31"])
    assert "lms.certificates.reminders: 1 added" in later.output, later.output
    assert runner.invoke(args=["notify", "send-due", "--date", "31/12/2026"]).exit_code == 2


def test_moment_of_a_date_keeps_the_time_of_day_in_the_center_zone(app, frozen_now):
    frozen_now(T0)  # 17:00 in Shanghai
    assert producers.moment_of(None) == T0
    assert producers.moment_of(T0.date() + timedelta(days=2)) == T0 + timedelta(days=2)


# --- expiring certificates ------------------------------------------------------------------------

def _complete_refresher(agent, when) -> Certificate:
    from lms.lessons.services import complete_lesson

    course = db.session.scalar(select(Course).where(Course.slug == "refresh"))
    from lms import clock
    before = clock._frozen
    clock.freeze(when)
    try:
        for lesson in course.live_lessons:
            complete_lesson(agent, lesson)
    finally:
        clock.freeze(before)
    return db.session.scalar(select(Certificate).where(Certificate.user_id == agent.id,
                                                       Certificate.course_id == course.id)
                             .order_by(Certificate.id.desc()))


def test_a_certificate_is_announced_once_from_the_lead_time_before_expiry(app, make_user, catalog):
    from lms.certificates import reminders

    agent = make_user(star_level=2)
    certificate = _complete_refresher(agent, T0 - timedelta(days=300))
    lead = timedelta(days=app.config.get("LMS_RECERT_LEAD_DAYS", 30))
    opens = certificate.valid_until - lead
    assert reminders.send_due(opens - timedelta(seconds=1)) == 0
    assert reminders.send_due(opens) == 1  # the edge: exactly the lead time before
    db.session.commit()
    assert reminders.send_due(opens + timedelta(days=1)) == 0
    assert reminders.send_due(certificate.valid_until) == 0  # expired: too late to remind
    notification = next(n for n in notifications_of(agent) if n.kind == "certificate_expiring")
    assert notification.link == "/courses/refresh"
    local_day = certificate.valid_until.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    assert notification.params == {"title": certificate.title, "expires_on": local_day.isoformat()}


def test_renewed_withdrawn_and_inactive_are_not_announced(app, make_user, catalog):
    from lms.certificates import reminders
    from lms.records.services import add_entry

    renewed, withdrawn, gone = make_user(star_level=2), make_user(star_level=2), make_user(star_level=2)
    for agent in (renewed, withdrawn, gone):
        _complete_refresher(agent, T0 - timedelta(days=340))
    newer = _complete_refresher(renewed, T0 - timedelta(days=340))  # a second cycle's certificate
    db.session.add(Certificate(code="TEST-RENE-WED2", user_id=renewed.id, kind="course", title=newer.title,
                               course_id=newer.course_id, issued_at=T0 - timedelta(days=2),
                               valid_until=T0 + timedelta(days=363)))
    old = db.session.get(Certificate, db.session.scalar(select(Certificate.id).where(
        Certificate.user_id == withdrawn.id)))
    add_entry(user=withdrawn, kind="course", title=old.title, course=old.course, passed=False,
              corrects=old.record_entry, reason="更正", occurred_at=T0 - timedelta(days=1))
    gone.active = False
    db.session.commit()
    assert reminders.send_due(T0) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "certificate_expiring")) == 0


def test_expiring_certificates_is_one_query_whatever_their_number(app, make_user, catalog):
    from lms.certificates import reminders

    for _ in range(4):
        _complete_refresher(make_user(star_level=2), T0 - timedelta(days=340))
    assert count_queries(lambda: reminders.expiring_certificates(T0)) == 1
    assert len(reminders.expiring_certificates(T0)) == 4


# --- hooks ----------------------------------------------------------------------------------------

def test_certificate_earned_when_a_course_is_completed(app, make_user, catalog):
    agent = make_user(star_level=2)
    certificate = _complete_refresher(agent, T0)
    earned = [n for n in notifications_of(agent) if n.kind == "certificate_earned"]
    assert [(n.key, n.link, n.params, n.read_at) for n in earned] == [
        (f"certificate_earned:{certificate.id}", f"/certificates/{certificate.id}", {"title": certificate.title},
         None)]


def test_exam_result_and_essay_marked(app, make_user):
    from lms.exams import marking, saving, services
    from tests.exam_support import answers_for, make_bank, make_exam, right_raw

    agent, trainer = make_user(name="坐席甲"), make_user(roles=("trainer",))
    # submitted by the agent: the result page shows at once, so the notification is read already
    bank = make_bank("tf", per_type=2, types=("truefalse",))
    exam = make_exam([(bank, 2)], slug="quiz", pass_percent=50)
    attempt = services.start_attempt(agent, exam, T0, rng=random.Random(1))
    services.submit_attempt(agent, attempt.id, T0 + timedelta(minutes=2))
    # essays: the mark comes later, unread
    essays = make_bank("essays", per_type=1, types=("truefalse", "essay"))
    second = services.start_attempt(agent, make_exam([(essays, 2)], slug="essay-exam", shuffle_questions=False,
                                                     pass_percent=50), T0, rng=random.Random(1))
    for slot, raw in answers_for(second, right_raw).items():
        saving.save_answer(agent, second.id, slot, raw, 1, T0)
    services.submit_attempt(agent, second.id, T0 + timedelta(minutes=3))
    assert [n.kind for n in notifications_of(agent)] == ["exam_result"]
    slot = next(aq.position for aq in second.questions if aq.question_type == "essay")
    marking.mark_essays(trainer, second.id, {slot: marking.Mark(1)}, T0 + timedelta(days=1))
    result, marked = notifications_of(agent)
    assert (result.kind, result.key, result.read_at is not None) == ("exam_result", f"exam_result:{attempt.id}", True)
    assert result.params == {"exam": exam.title, "percent": 0.0, "passed": False}
    assert (marked.kind, marked.read_at, marked.link) == ("essay_marked", None, f"/exams/attempts/{second.id}/result")
    assert marked.params == {"exam": second.exam.title, "percent": 100.0, "passed": True}


def test_an_attempt_closed_when_time_ran_out_is_unread(app, make_user):
    from lms.exams import services
    from tests.exam_support import make_bank, make_exam

    agent = make_user()
    exam = make_exam([(make_bank("tf", per_type=1, types=("truefalse",)), 1)], time_limit_minutes=10)
    attempt = services.start_attempt(agent, exam, T0, rng=random.Random(1))
    services.close_expired_attempts(attempt.deadline + timedelta(minutes=5))
    (notification,) = notifications_of(agent)
    assert notification.kind == "exam_result" and notification.read_at is None


def test_practical_scheduled_waiting_and_corrected(app, make_user, scenario):
    from lms.practicals import services
    from tests.practicals_support import criteria_ids

    mentor = make_user(roles=("mentor", "agent"), star_level=4, name="陈刚")
    agent = make_user(star_level=0, mentor=mentor)
    now_practical = services.open_practical(mentor, agent, scenario, scheduled_for=None, now=T0)
    assert notifications_of(agent) == []  # observed at once: the agent is sitting there
    planned = services.open_practical(mentor, agent, scenario, scheduled_for=T0.date() + timedelta(days=2), now=T0)
    ids = criteria_ids(scenario)
    marks = {ids["empathy"]: 2, ids["verify"]: 1, ids["escalate"]: 1}
    entry = services.sign_off(mentor, now_practical, script_version_id=scenario.script.id,
                              rubric_version_id=scenario.rubric.id, marks=marks, comments={}, overall_comment="",
                              work_on="", mood=None, now=T0)
    services.correct_practical(mentor, now_practical, marks={**marks, ids["empathy"]: 1}, comments={},
                               reason="重听录音后更正", now=T0 + timedelta(hours=1))
    scheduled, waiting, corrected = notifications_of(agent)
    assert (scheduled.kind, scheduled.link) == ("practical_scheduled", f"/practicals/{planned.id}")
    assert scheduled.params == {"scenario": scenario.title, "mentor": "陈刚",
                                "scheduled_for": (T0.date() + timedelta(days=2)).isoformat()}
    assert (waiting.kind, waiting.key) == ("practical_waiting", f"practical_waiting:{entry.id}")
    assert corrected.kind == "practical_waiting" and corrected.params["corrected"] is True
