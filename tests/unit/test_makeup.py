"""Make-up attempts (补考): how grants change an agent's standing at an exam, the grant service's
rules, and the list of agents out of attempts."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.exams import makeup, saving, services
from lms.extensions import db
from lms.models import AuditEvent, ExamAttempt
from lms.models.exams import AttemptGrant
from lms.models.notifications import Notification
from tests.conftest import count_queries
from tests.exam_support import answers_for, make_bank, make_exam, right_raw

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
AUTO = ("single", "multi", "truefalse", "fill", "matching")


@pytest.fixture
def exam(app):
    bank = make_bank("kb", per_type=2, types=AUTO)
    return make_exam([(bank, 5)], attempts_allowed=2, retake_delay_minutes=60, later_retake_delay_minutes=24 * 60)


@pytest.fixture
def trainer(make_user):
    return make_user(roles=("trainer",), name="李静")


@pytest.fixture
def agent(make_user):
    return make_user(roles=("agent",), name="赵磊")


def sit(user, exam, now, *, passing=False) -> ExamAttempt:
    """Start and submit one attempt at `now` (all right, or nothing answered)."""
    attempt = services.start_attempt(user, exam, now)
    if passing:
        saving.save_answers(user, attempt.id, answers_for(attempt, right_raw), now + timedelta(minutes=1))
    return services.submit_attempt(user, attempt.id, now + timedelta(minutes=2))


def status(user, exam, now):
    return services.exam_status(user, exam, now)


# --- the standing ----------------------------------------------------------------------------------

def test_extra_attempts_lift_the_limit_and_the_last_attempt_is_the_edge(exam, agent, trainer):
    sit(agent, exam, T0)
    assert status(agent, exam, T0 + timedelta(hours=2)).attempts_left == 1
    assert makeup.out_of_attempts(T0 + timedelta(hours=2)) == []  # one attempt left: not stuck
    sit(agent, exam, T0 + timedelta(hours=2))  # the last one
    later = T0 + timedelta(days=3)
    assert status(agent, exam, later).blocker == "limit"
    [row] = makeup.out_of_attempts(later)
    assert (row.user.id, row.used, row.allowed, row.percent) == (agent.id, 2, 2, 0.0)

    makeup.grant_attempts(trainer, agent, exam, 1, False, "系统故障导致第二次考试中断", later)
    after = status(agent, exam, later)
    assert (after.attempts_total, after.attempts_left, after.can_start) == (3, 1, True)
    assert makeup.out_of_attempts(later) == []
    sit(agent, exam, later)
    assert status(agent, exam, later + timedelta(days=2)).blocker == "limit"
    assert [r.allowed for r in makeup.out_of_attempts(later + timedelta(days=2))] == [3]


def test_a_waived_delay_lets_the_next_attempt_start_now(exam, agent, trainer):
    sit(agent, exam, T0)
    ended = status(agent, exam, T0 + timedelta(minutes=5)).finished[-1].submitted_at
    assert status(agent, exam, ended + timedelta(minutes=5)).blocker == "wait"
    with pytest.raises(services.RetakeNotYet):
        services.start_attempt(agent, exam, ended + timedelta(minutes=5))
    # granted at the very second the attempt ended: it comes after it, so it counts
    makeup.grant_attempts(trainer, agent, exam, 0, True, "培训主管同意提前补考", ended)
    now = ended + timedelta(minutes=5)
    assert status(agent, exam, now).retake_at is None and status(agent, exam, now).can_start
    attempt = services.start_attempt(agent, exam, now)
    assert attempt.number == 2


def test_a_waiver_given_before_the_last_attempt_does_not_lift_the_next_wait(exam, agent, trainer):
    makeup.grant_attempts(trainer, agent, exam, 1, True, "提前安排补考", T0 - timedelta(minutes=1))
    sit(agent, exam, T0)
    now = T0 + timedelta(minutes=10)
    assert status(agent, exam, now).blocker == "wait"
    assert status(agent, exam, now).attempts_left == 2


def test_passed_pending_open_and_inactive_agents_are_not_out_of_attempts(exam, make_user):
    passed, open_one, inactive = (make_user(roles=("agent",)) for _ in range(3))
    sit(passed, exam, T0)
    sit(passed, exam, T0 + timedelta(hours=2), passing=True)
    sit(open_one, exam, T0)
    services.start_attempt(open_one, exam, T0 + timedelta(hours=2))
    sit(inactive, exam, T0)
    sit(inactive, exam, T0 + timedelta(hours=2))
    inactive.active = False
    db.session.commit()
    assert makeup.out_of_attempts(T0 + timedelta(hours=2, minutes=5)) == []


def test_unlimited_exams_never_run_out(app, agent):
    exam = make_exam([(make_bank("kb2", per_type=1, types=AUTO), 3)], slug="open", attempts_allowed=0)
    for n in range(3):
        sit(agent, exam, T0 + timedelta(hours=n))
    assert status(agent, exam, T0 + timedelta(hours=4)).attempts_left is None
    assert makeup.out_of_attempts(T0 + timedelta(hours=4)) == []


def test_out_of_attempts_is_scoped_by_agent_and_exam(exam, agent, make_user):
    other = make_user(roles=("agent",))
    for user in (agent, other):
        sit(user, exam, T0)
        sit(user, exam, T0 + timedelta(hours=2))
    now = T0 + timedelta(days=2)
    assert {r.user.id for r in makeup.out_of_attempts(now)} == {agent.id, other.id}
    assert [r.user.id for r in makeup.out_of_attempts(now, user_ids=[other.id])] == [other.id]
    assert makeup.out_of_attempts(now, user_ids=[]) == []
    assert makeup.out_of_attempts(now, exam_ids=[exam.id + 999]) == []


def test_out_of_attempts_runs_a_fixed_number_of_queries(exam, make_user):
    def stuck(count):
        for _ in range(count):
            user = make_user(roles=("agent",))
            sit(user, exam, T0)
            sit(user, exam, T0 + timedelta(hours=2))

    stuck(2)
    few = count_queries(lambda: makeup.out_of_attempts(T0 + timedelta(days=2)))
    stuck(8)
    rows = []
    many = count_queries(lambda: rows.extend(makeup.out_of_attempts(T0 + timedelta(days=2))))
    assert len(rows) == 10 and few == many <= 5


# --- the grant service -----------------------------------------------------------------------------

def test_a_grant_is_audited_and_notified(exam, agent, trainer):
    grant = makeup.grant_attempts(trainer, agent, exam, 2, True, "  网络故障  ", T0)
    db.session.expire_all()
    stored = db.session.get(AttemptGrant, grant.id)
    assert (stored.extra_attempts, stored.waive_delay, stored.reason, stored.granted_by_id) == (2, True, "网络故障",
                                                                                                trainer.id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attempts_granted"))
    assert event.actor_id == trainer.id and event.details["extra"] == 2 and event.details["reason"] == "网络故障"
    note = db.session.scalar(select(Notification).where(Notification.user_id == agent.id))
    assert note.kind == "attempts_granted" and note.params["exam"] == exam.title and note.params["extra"] == 2
    assert note.link == f"/exams/{exam.slug}"


@pytest.mark.parametrize("extra, waive, reason, field", [
    (1, False, "   ", "reason"),
    (1, False, "很" * 501, "reason"),
    (0, False, "理由", "nothing"),
    (11, False, "理由", "extra"),
    (-1, True, "理由", "extra"),
])
def test_invalid_grants_are_refused(exam, agent, trainer, extra, waive, reason, field):
    with pytest.raises(makeup.GrantInvalid) as caught:
        makeup.grant_attempts(trainer, agent, exam, extra, waive, reason, T0)
    assert caught.value.field == field
    assert db.session.scalar(select(AttemptGrant)) is None


def test_extra_attempts_at_an_unlimited_exam_are_refused_but_a_waiver_is_not(app, agent, trainer):
    exam = make_exam([(make_bank("kb3", per_type=1, types=AUTO), 3)], slug="free", attempts_allowed=0)
    with pytest.raises(makeup.GrantInvalid) as caught:
        makeup.grant_attempts(trainer, agent, exam, 1, False, "理由", T0)
    assert caught.value.field == "unlimited"
    assert makeup.grant_attempts(trainer, agent, exam, 0, True, "理由", T0).waive_delay


@pytest.mark.parametrize("roles", [("agent",), ("mentor", "agent")])
def test_only_trainers_and_admins_grant(exam, agent, make_user, roles):
    with pytest.raises(makeup.GrantNotAllowed):
        makeup.grant_attempts(make_user(roles=roles), agent, exam, 1, False, "理由", T0)


def test_nobody_grants_to_themselves(exam, trainer):
    with pytest.raises(makeup.GrantNotAllowed):
        makeup.grant_attempts(trainer, trainer, exam, 1, False, "理由", T0)


def test_find_agent_refuses_unknown_and_inactive(agent, make_user):
    assert makeup.find_agent(f" {agent.employee_no} ").id == agent.id
    gone = make_user(active=False)
    for number in ("NOPE", gone.employee_no, ""):
        with pytest.raises(makeup.GrantInvalid):
            makeup.find_agent(number)
