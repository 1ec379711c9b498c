"""Large imports as background jobs through the browser: the job path, its timing, progress,
failures, caps, the codes download, and who may see a job."""
import csv
import io
import re
import threading
import time

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.jobs import services as jobs
from lms.models import AuditEvent, Job, QuestionBank, User
from tests.conftest import assert_access
from tests.jobs_support import staff_csv, xlsx_bomb

ROLE_USERS = {"agent": ("agent",), "mentor": ("mentor", "agent"), "trainer": ("trainer",), "admin": ("admin",)}


def upload(data: bytes, filename: str = "staff.csv", **fields) -> dict:
    return {"file": (io.BytesIO(data), filename), **fields}


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def finish(job_id: int) -> Job:
    thread = jobs.THREADS.pop(job_id, None)
    if thread is not None:
        thread.join(120)
    db.session.expire_all()
    return db.session.get(Job, job_id)


def job_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return int(re.fullmatch(r"/jobs/(\d+)", response.location).group(1))


@pytest.fixture
def admin(make_user):
    return make_user(roles=("admin",), employee_no="A0001", preferred_language="en")


@pytest.fixture
def admin_client(admin, login_as):
    return login_as(admin)


def test_5000_new_staff_import_in_the_background_in_under_a_minute(admin_client):
    started = time.monotonic()
    response = admin_client.post("/admin/users/import", content_type="multipart/form-data",
                                 data=upload(staff_csv(5000)))
    job = finish(job_id_of(response))
    elapsed = time.monotonic() - started
    print(f"\n5,000-row staff import through the job path: {elapsed:.1f} s")
    assert elapsed < 60
    assert job.status == "done" and job.result == {"created": 5000, "updated": 0, "codes": 5000}
    assert user_count() == 5001
    imported = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.imported"))
    assert imported.details["created"] == 5000 and imported.actor.employee_no == "A0001"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "account.created")) == 5000

    page = admin_client.get(f"/jobs/{job.id}")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "5000 accounts created, 0 updated." in html and "<td>J04999</td>" in html

    download = admin_client.post(f"/jobs/{job.id}/codes.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["employee_no", "name", "activation_code"] and len(rows) == 5001
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", rows[1][2])
    assert "activation.codes_exported" in {event.action for event in db.session.scalars(select(AuditEvent))}
    assert admin_client.post(f"/jobs/{job.id}/codes.csv").status_code == 410  # once
    assert rows[1][2] not in admin_client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_progress_is_visible_while_the_job_runs(app, admin_client, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0)
    reached, release = threading.Event(), threading.Event()
    original = jobs.Progress.__call__

    def pause(self, done, total):
        original(self, done, total)
        if done == 200:
            reached.set()
            release.wait(30)

    monkeypatch.setattr(jobs.Progress, "__call__", pause)
    job_id = job_id_of(admin_client.post("/admin/users/import", content_type="multipart/form-data",
                                         data=upload(staff_csv(400))))
    try:
        assert reached.wait(30)
        state = admin_client.get(f"/jobs/{job_id}/status").get_json()
        assert state == {"id": job_id, "status": "running", "phase": "checking", "done": 200, "total": 400,
                         "finished": False}
        html = admin_client.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert '<progress id="job-bar" max="400" value="200">' in html and "js/job.js" in html
        assert "<script>" not in html  # CSP: the page polls through a static script
    finally:
        release.set()
    assert finish(job_id).status == "done"
    assert admin_client.get(f"/jobs/{job_id}/status").get_json()["finished"] is True


def test_a_failing_large_file_writes_nothing_and_its_page_lists_the_rows(admin_client):
    before = user_count()
    data = staff_csv(300) + b"J1,,\nJ2,x,,\n"
    job = finish(job_id_of(admin_client.post("/admin/users/import", content_type="multipart/form-data",
                                             data=upload(data))))
    assert job.status == "failed" and user_count() == before
    html = admin_client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Nothing was imported" in html and "Row 302: name is required." in html
    assert "accounts created" not in html


def test_an_xlsx_bomb_is_refused_at_once(admin_client):
    bomb = xlsx_bomb()
    started = time.monotonic()
    response = admin_client.post("/admin/users/import", content_type="multipart/form-data",
                                 data=upload(bomb, "bomb.xlsx"))
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert "more than 20000 rows" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_an_upload_over_the_size_limit_is_refused(admin_client):
    response = admin_client.post("/admin/users/import", content_type="multipart/form-data",
                                 data=upload(b"x" * (8 * 1024 * 1024 + 1)))
    assert response.status_code == 413


def test_large_evaluations_and_bank_files_import_as_jobs(app, admin_client, make_user):
    make_user(employee_no="E1")
    lines = "employee_no,month,satisfaction\n" + "".join(f"E1,2026-{m:02d},9{m % 10}\n" for m in range(1, 11))
    app.config["LMS_IMPORT_INLINE_ROWS"] = 5
    job = finish(job_id_of(admin_client.post("/evaluations/import", content_type="multipart/form-data",
                                             data=upload(lines.encode(), "evaluations.csv"))))
    assert job.status == "done" and job.result["created"] == 10
    assert "New evaluations: 10, corrected: 0, unchanged: 0." in admin_client.get(f"/jobs/{job.id}").get_data(
        as_text=True)

    gift = "".join(f"::q{n}::第{n}题可以挂断客户电话。{{FALSE}}\n\n" for n in range(8)).encode()
    preview = admin_client.post("/banks/import", content_type="multipart/form-data",
                                data=upload(gift, "drill.gift", bank="drill")).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview).group(1)
    job = finish(job_id_of(admin_client.post("/banks/import/confirm", data={"token": token})))
    assert job.status == "done" and job.result["counts"]["new"] == 8
    assert db.session.scalar(select(QuestionBank).where(QuestionBank.slug == "drill")) is not None
    assert "Imported into drill: 8 new questions" in admin_client.get(f"/jobs/{job.id}").get_data(as_text=True)


@pytest.mark.parametrize("who", ["anonymous", "creator", "other admin", "trainer", "agent", "mentor"])
@pytest.mark.parametrize("path", ["/jobs/{id}", "/jobs/{id}/status"])
def test_only_the_creator_and_admins_see_a_job(app, client, make_user, login_as, who, path):
    creator = make_user(roles=("trainer",), employee_no="T0001")
    job = jobs.submit("evaluations", creator, "evaluations.csv", b"employee_no,month,satisfaction\n", total=0)
    if who == "creator":
        login_as(creator)
    elif who == "other admin":
        login_as(make_user(roles=("admin",)))
    elif who != "anonymous":
        login_as(make_user(roles=ROLE_USERS[who]))
    response = client.get(path.format(id=job.id))
    assert_access(response, "anonymous" if who == "anonymous" else who,
                  allowed={"creator", "other admin"})
    assert client.get(path.format(id=job.id + 1000)).status_code in (302, 404)


def test_only_the_creator_or_an_admin_may_take_the_codes(app, client, make_user, login_as, admin):
    job = jobs.submit("staff", admin, "staff.csv", staff_csv(3), total=3)
    jobs.start(job)
    login_as(make_user(roles=("trainer",)))
    assert client.post(f"/jobs/{job.id}/codes.csv").status_code == 403
    db.session.refresh(job)
    assert len(job.codes) == 3
