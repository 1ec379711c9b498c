"""Background jobs without HTTP: claiming, running all or nothing, interrupted jobs, the worker
loop, and the row and size caps of spreadsheet reading."""
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.content.spreadsheets import TooManyRows, read_table
from lms.extensions import db
from lms.jobs import services as jobs
from lms.models import AuditEvent, Job, User


from tests.jobs_support import staff_csv, xlsx_bomb


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.fixture
def admin(make_user):
    return make_user(roles=("admin",), employee_no="A0001")


def test_a_job_is_claimed_by_exactly_one_claimer(app, admin):
    job = jobs.submit("staff", admin, "staff.csv", staff_csv(3), total=3)
    assert jobs.claim(job.id, worker="one:1") == job.id
    assert jobs.claim(job.id, worker="two:2") is None  # the conditional UPDATE lets one win
    assert jobs.claim(worker="two:2") is None  # nothing else queued
    db.session.refresh(job)
    assert (job.status, job.worker) == ("running", "one:1")


def test_a_job_imports_all_or_nothing_and_completes_in_the_same_commit(app, admin):
    job = jobs.submit("staff", admin, "staff.csv", staff_csv(300), total=300)
    jobs.claim(job.id)
    jobs.run(job.id)
    db.session.refresh(job)
    assert job.status == "done" and job.result == {"created": 300, "updated": 0, "codes": 300}
    assert job.data is None  # the file is not kept once imported
    assert len(job.codes) == 300 and user_count() == 301
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.imported")).details["created"] == 300


def test_a_failing_job_writes_nothing_and_lists_the_rows(app, admin):
    data = staff_csv(250) + b"J99999,,\nbad no!,x,\n"
    job = jobs.submit("staff", admin, "staff.csv", data, total=252)
    jobs.claim(job.id)
    jobs.run(job.id)
    db.session.refresh(job)
    assert job.status == "failed" and job.error == "invalid"
    assert job.result["errors"] == ["Row 252: name is required.",
                                    "Row 253: employee_no bad no!: use 1-32 letters, digits, '-' or '_'."]
    assert user_count() == 1 and job.codes is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_progress_is_written_while_checking_then_writing(app, admin, monkeypatch):
    seen = []
    original = jobs.Progress._write

    def spy(self, **values):
        original(self, **values)
        with db.engine.connect() as connection:  # what any other worker would read now
            seen.append(tuple(connection.execute(select(Job.phase, Job.progress_done)
                                                 .where(Job.id == self.job_id)).one()))

    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0)
    monkeypatch.setattr(jobs.Progress, "_write", spy)
    job = jobs.submit("staff", admin, "staff.csv", staff_csv(500), total=500)
    jobs.claim(job.id)
    jobs.run(job.id)
    assert ("checking", 100) in seen and ("checking", 400) in seen and seen[-1] == ("writing", 500)


def test_a_job_whose_process_died_is_shown_failed(app, admin):
    job = jobs.submit("staff", admin, "staff.csv", staff_csv(3), total=3)
    jobs.claim(job.id, worker=f"{jobs.this_worker().rpartition(':')[0]}:999999999")  # no such pid
    other = jobs.submit("staff", admin, "staff.csv", staff_csv(3, 10), total=3)
    jobs.claim(other.id, worker="elsewhere:1")
    assert jobs.mark_interrupted() == 1  # another host's job, recently heard from, is left alone
    assert jobs.mark_interrupted(utcnow() + timedelta(minutes=31)) == 1  # ... until its heartbeat is stale
    db.session.expire_all()
    assert [db.session.get(Job, job_id).error for job_id in (job.id, other.id)] == ["interrupted", "interrupted"]
    assert user_count() == 1


def test_the_cli_worker_claims_and_runs_queued_jobs(app, admin):
    app.config["LMS_JOBS_WORKER"] = "external"
    job = jobs.submit("staff", admin, "staff.csv", staff_csv(201), total=201)
    assert jobs.start(job).status == "queued"  # external mode: the web process only queues
    result = CliRunner().invoke(app.cli, ["jobs", "work", "--once"], catch_exceptions=False)
    assert f"job {job.id}: done" in result.output and "1 job run." in result.output
    db.session.refresh(job)
    assert job.status == "done" and user_count() == 202


def test_a_thread_runs_a_large_job_in_the_web_process(app, admin):
    job = jobs.start(jobs.submit("staff", admin, "staff.csv", staff_csv(201), total=201))
    jobs.THREADS.pop(job.id).join(30)
    db.session.refresh(job)
    assert job.status == "done" and user_count() == 202


def test_read_table_stops_at_the_row_cap():
    with pytest.raises(TooManyRows) as raised:
        read_table("staff.csv", staff_csv(101), max_rows=100)
    assert "more than 100 rows" in str(raised.value)
    assert len(read_table("staff.csv", staff_csv(100), max_rows=100).rows) == 100


def test_an_xlsx_declaring_a_million_rows_is_refused_within_seconds():
    data = xlsx_bomb()
    assert len(data) < 8 * 1024 * 1024  # under the upload limit: only the row cap can stop it
    started = time.monotonic()
    with pytest.raises(TooManyRows):
        read_table("bomb.xlsx", data, max_rows=20_000)
    assert time.monotonic() - started < 3
