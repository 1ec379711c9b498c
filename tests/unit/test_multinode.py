"""Two app servers on one database at the same instant (PostgreSQL when LMS_TEST_DATABASE_URL is set,
else one SQLite file): whatever both touch at once happens once. Node A is the `app` fixture, node B a
second create_app() on the same database; each race runs one thread per node, started together.

Also: the secret key a database server needs, and a job's worker named so that another machine or
container with the same host name never takes it for a dead process of its own.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import types
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms import clock, config, create_app
from lms.banks import staging
from lms.exams import services as exams
from lms.extensions import db
from lms.jobs import services as jobs
from lms.models import AuditEvent, ExamAttempt, Job, Question, RecordEntry, User
from lms.models.notifications import Notification, OutgoingMail
from lms.models.uploads import StagedUpload
from lms.notifications import mail
from lms.notifications.producers import run_producers
from lms.notifications.services import notify
from tests.conftest import TEST_CONFIG
from tests.exam_support import make_bank, make_exam
from tests.jobs_support import staff_csv

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
SMTP = {"LMS_SMTP_URL": "smtp://mail.example.test:2525", "LMS_MAIL_WORKER": "external"}


@pytest.fixture
def app_config():
    return dict(SMTP)


@pytest.fixture
def node_b(app, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "node-b"))
    other = create_app({**TEST_CONFIG, **SMTP, "SQLALCHEMY_DATABASE_URI": database_url,
                        "LMS_MEDIA_CACHE_DIR": str(tmp_path / "node-b" / "media-cache")})
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def race(work, nodes, rounds: int = 1):
    """Run work(node, round) on every node at once (one thread each), `rounds` times; the results per
    round, in node order. An exception in a thread fails the test."""
    results = []
    for round_ in range(rounds):
        barrier = threading.Barrier(len(nodes), timeout=30)
        out: list = [None] * len(nodes)
        errors: list = []

        def run(index, node):
            with node.app_context():
                try:
                    barrier.wait()
                    out[index] = work(node, round_)
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(i, node)) for i, node in enumerate(nodes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        results.append(out)
    db.session.expire_all()
    return results


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- exam attempts past their deadline ---------------------------------------------------------------

def test_an_overdue_attempt_touched_by_both_nodes_at_once_closes_once(app, node_b, make_user):
    clock.freeze(T0)
    exam = make_exam([(make_bank("mn", per_type=2, types=("single", "truefalse")), 4)], attempts_allowed=0)
    agents = [make_user() for _ in range(4)]
    attempts = [exams.start_attempt(agent, exam, T0).id for agent in agents]
    clock.freeze(T0 + timedelta(hours=1))  # every attempt is past its 20 minutes and the allowance

    def open_result(node, round_):  # the agent's result page, opened on both nodes (two tabs, a retry)
        attempt = db.session.get(ExamAttempt, attempts[round_])
        user = db.session.get(User, attempt.user_id)
        exams.load_attempt_for(user, attempt.id, clock.utcnow())
        return db.session.get(ExamAttempt, attempt.id).state

    rounds = race(open_result, [app, node_b], rounds=len(attempts))
    assert rounds == [["graded", "graded"]] * len(attempts)
    assert count(RecordEntry) == len(attempts)  # one record entry per attempt, not two
    assert count(Notification, Notification.kind == "exam_result") == len(attempts)
    for attempt_id in attempts:
        attempt = db.session.get(ExamAttempt, attempt_id)
        assert attempt.submitted_at == attempt.deadline and attempt.auto_submitted


def test_close_expired_run_on_both_nodes_at_once_closes_each_attempt_once(app, node_b, make_user):
    clock.freeze(T0)
    exam = make_exam([(make_bank("mn", per_type=2, types=("single", "truefalse")), 4)], attempts_allowed=0)
    for _ in range(6):
        exams.start_attempt(make_user(), exam, T0)
    now = T0 + timedelta(hours=1)
    clock.freeze(now)
    [closed] = race(lambda node, _round: exams.close_expired_attempts(now), [app, node_b])
    assert sum(closed) == 6  # between them, each attempt once
    assert count(ExamAttempt, ExamAttempt.state == "graded") == 6 and count(RecordEntry) == 6


# --- background jobs ---------------------------------------------------------------------------------

def test_a_job_claimed_on_both_nodes_at_once_runs_once(app, node_b, make_user):
    admin = make_user(roles=("admin",))
    queued = [jobs.submit("staff", admin, "staff.csv", staff_csv(3, 100 * n), total=3).id for n in range(5)]

    claims = race(lambda node, round_: jobs.claim(queued[round_], worker=f"node-{id(node)}:1"), [app, node_b],
                  rounds=len(queued))
    assert [sorted(pair, key=lambda x: x is None) for pair in claims] == [[job_id, None] for job_id in queued]


def test_job_workers_on_both_nodes_run_every_job_once(app, node_b, make_user):
    admin = make_user(roles=("admin",))
    queued = [jobs.submit("staff", admin, "staff.csv", staff_csv(3, 100 * n), total=3).id for n in range(6)]
    [ran] = race(lambda node, _round: jobs.work(node, once=True), [app, node_b])
    assert sum(ran) == len(queued)
    assert sorted(db.session.scalars(select(Job.status))) == ["done"] * len(queued)
    assert count(User) == 1 + 3 * len(queued)  # each file's accounts made once


def test_a_worker_on_another_machine_with_the_same_host_name_is_not_taken_for_dead(app, make_user):
    """Containers from one template may share a host name, and pid 7 over there is not pid 7 here."""
    admin = make_user(roles=("admin",))
    host = jobs.this_host()
    assert host.startswith(socket.gethostname()) and jobs.this_worker() == f"{host}:{os.getpid()}"
    twin = jobs.submit("staff", admin, "staff.csv", staff_csv(3), total=3)
    name = host.split("#")[0]
    jobs.claim(twin.id, worker=f"{name}#0000ffff:999999999")  # same name, another machine: no such pid here
    dead = jobs.submit("staff", admin, "staff.csv", staff_csv(3, 10), total=3)
    jobs.claim(dead.id, worker=f"{host}:999999999")  # this machine, a process that is gone
    assert jobs.mark_interrupted() == 1
    db.session.expire_all()
    assert (db.session.get(Job, twin.id).status, db.session.get(Job, dead.id).status) == ("running", "failed")


# --- notifications and their mail --------------------------------------------------------------------

def test_mail_sent_by_both_nodes_at_once_goes_out_once(app, node_b, make_user, monkeypatch):
    sent, lock = [], threading.Lock()

    def deliver(message, settings, timeout):
        with lock:
            sent.append(message["Message-ID"])
        threading.Event().wait(0.005)  # the SMTP conversation: the other node works meanwhile

    monkeypatch.setattr(mail, "deliver", deliver)
    people = [make_user(email=f"agent{n}@example.test") for n in range(8)]
    for person in people:
        for n in range(3):
            notify(person.id, "exam_result", params={"exam": "考试", "percent": 90.0, "passed": True},
                   link="/inbox", key=f"mn:{n}")
    db.session.commit()
    assert count(OutgoingMail) == 24

    [results] = race(lambda node, _round: mail.send_queued(), [app, node_b])
    assert sum(done for done, _failed in results) == 24 and len(sent) == 24 and len(set(sent)) == 24
    assert count(OutgoingMail, OutgoingMail.status == "sent") == 24


def test_reminders_run_on_both_nodes_at_once_are_added_once(app, node_b, make_user, monkeypatch):
    """`lms notify send-due` from cron on two app servers: the (person, key) uniqueness refuses the
    second copy; that run tries again, adds nothing, and both runs succeed."""
    people = [make_user().id for _ in range(5)]
    first = threading.Barrier(2, timeout=30)
    calls: dict[int, int] = {}

    def send_due(now):
        me = threading.get_ident()
        calls[me] = calls.get(me, 0) + 1
        if calls[me] == 1:
            first.wait()  # both runs look for existing reminders before either has committed
        added = 0
        for person in people:
            added += notify(person, "exam_result", params={"exam": "考试", "percent": 80.0, "passed": True},
                            key=f"due:mn:{person}", now=now) is not None
        return added

    monkeypatch.setitem(sys.modules, "tests_mn_reminders", types.SimpleNamespace(send_due=send_due))
    [runs] = race(lambda node, _round: run_producers(T0, ("tests_mn_reminders",))[0], [app, node_b])
    assert [run.error for run in runs] == ["", ""]
    assert sum(run.added for run in runs) == len(people)
    assert count(Notification) == len(people)


# --- an upload previewed once, confirmed twice at once ---------------------------------------------------

def test_a_bank_upload_confirmed_on_both_nodes_at_once_is_imported_once(app, node_b, make_user):
    trainer = make_user(roles=("trainer",))
    trainer_id = trainer.id  # the threads use their own sessions, never this test's objects
    gift = "::mn-1::先问候吗？{T}\n\n::mn-2::要记录吗？{T}\n"
    token = staging.prepare_upload(trainer, gift.encode(), "drill.gift", None, None).token
    assert token

    def confirm(node, _round):
        try:
            return staging.confirm_upload(db.session.get(User, trainer_id), token, clock.utcnow()).slug
        except staging.UploadExpired:
            return "expired"

    [outcomes] = race(confirm, [app, node_b])
    assert sorted(outcomes) == ["drill", "expired"]
    assert count(Question) == 2 and count(StagedUpload) == 0
    assert count(AuditEvent, AuditEvent.action == "bank.imported") == 1


# --- the secret key ---------------------------------------------------------------------------------------

def test_a_database_server_needs_an_explicit_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql+psycopg://lms@db.internal/lms")
    with pytest.raises(RuntimeError, match="LMS_SECRET_KEY must be set .* the same value on every app server"):
        config.load_secret_key(tmp_path)
    assert not (tmp_path / "secret_key").exists()  # no key of this machine's own was made
    (tmp_path / "secret_key").write_text("old-key")
    with pytest.raises(RuntimeError, match="to keep today's logins: the key in"):
        config.load_secret_key(tmp_path)
    monkeypatch.setenv("LMS_SECRET_KEY", "shared-by-every-node")
    assert config.load_secret_key(tmp_path) == "shared-by-every-node"
    monkeypatch.delenv("LMS_SECRET_KEY")
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite:///{tmp_path / 'lms.sqlite3'}")
    assert config.load_secret_key(tmp_path) == "old-key"  # the embedded SQLite: one machine, its own key


# --- the connection pool of each app process -------------------------------------------------------------

def test_the_pool_of_each_process_is_sized_from_the_environment(monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql+psycopg://lms@/lms?host=/nonexistent")
    monkeypatch.setenv("LMS_DB_POOL_SIZE", "3")
    monkeypatch.setenv("LMS_DB_MAX_OVERFLOW", "2")
    app = create_app({"SECRET_KEY": "shared"})  # no connection is opened yet
    with app.app_context():
        assert (db.engine.pool.size(), db.engine.pool._max_overflow, db.engine.pool._pre_ping) == (3, 2, True)
    monkeypatch.setenv("LMS_DB_MAX_OVERFLOW", "lots")
    with pytest.raises(RuntimeError, match="LMS_DB_MAX_OVERFLOW must be a whole number"):
        config.engine_options("postgresql+psycopg://lms@/lms")
    assert config.engine_options("sqlite:////tmp/x.db") == {"pool_pre_ping": True}  # one machine: left as it is
