"""Background jobs: long imports (staff, question banks, customer evaluations) run outside the
request that accepted the file, with progress anyone allowed can watch, and a result page.

Design, and why:
- **State in the database** (`jobs` table, lms/models/jobs.py): status queued/running/done/failed,
  progress, the uploaded file itself (8 MB at most), the result, the error. Any gunicorn worker
  or app server shows the same progress, and a worker on another machine can read the file.
- **Who runs a job.** By default (`LMS_JOBS_WORKER=thread`) the web process that accepted the
  upload starts a thread for it, with its own app context and database session: nothing extra to
  install or start on the embedded default (SQLite, one machine, several gunicorn workers), and
  the thread is not a request, so the gunicorn worker timeout never kills it. With several app
  servers, or to keep imports off the web processes, set `LMS_JOBS_WORKER=external` and run
  `lms jobs work` (a loop) on one or more machines. Both claim a job with one conditional UPDATE
  (`... SET status='running' WHERE id=? AND status='queued'`): exactly one claimer wins, whatever
  mix of threads and worker loops is running.
- **All or nothing.** A job's import runs in one transaction, and the job is marked done in that
  same transaction (`complete`), so "done" and the imported rows are committed together. A failed
  job writes nothing but its own row: its result lists the row errors, as the import pages do.
- **Progress** is written by short transactions of its own while the file is checked (reads only).
  While the import writes, the job shows "writing" without numbers: SQLite has one writer, and the
  import's own transaction holds it until its commit.
- **Interrupted jobs fail, they are not requeued.** A job is interrupted when its process died
  (same host and its pid is gone) or its heartbeat is older than LMS_JOB_STALE_MINUTES (another
  host). It is shown as failed, "interrupted: send the file again". Nothing of it was written
  (all or nothing), and replaying an upload later, unseen, could overwrite edits made since (an old
  staff file) or import a file twice after the person already sent it again; the person who sent
  it decides.
- **Small files** (at most LMS_IMPORT_INLINE_ROWS rows, default 200) still import at once, inside
  the request, through the same job so their result page and codes work the same way.
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.exceptions import Forbidden, NotFound

from lms.clock import utcnow
from lms.extensions import db
from lms.models import Job, User

log = logging.getLogger(__name__)

DEFAULT_INLINE_ROWS = 200
DEFAULT_STALE_MINUTES = 30
CODES_KEPT_HOURS = 24
PROGRESS_EVERY = 0.5  # seconds between progress writes
WORKER_MODES = ("thread", "external")


class JobFailed(Exception):
    """The job's input is refused; `errors` (display strings, `file:line` or "Row n: ...") say why.
    Nothing was written."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


class Complete(Protocol):
    def __call__(self, result: dict, codes: list | None = None) -> None: ...


# A handler does one kind of job: it reads `data`, reports progress, and calls `complete` just
# before its single commit. It raises JobFailed when the input is refused.
Handler = Callable[[Job, bytes, "Progress", Complete], None]
HANDLERS: dict[str, Handler] = {}


def job_kind(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for jobs of kind `name` (used by each capability's services)."""
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def inline_rows() -> int:
    return int(current_app.config.get("LMS_IMPORT_INLINE_ROWS", DEFAULT_INLINE_ROWS))


def worker_mode() -> str:
    return current_app.config.get("LMS_JOBS_WORKER", "thread")


def this_worker() -> str:
    """`host:pid` of this process, the host part naming this machine and process namespace (see
    `this_host`), so that only this machine's processes are judged by their pid."""
    return f"{this_host()}:{os.getpid()}"[:100]


def this_host() -> str:
    """The host name and a short digest of this boot and this PID namespace. Two app servers may
    carry the same host name (containers started from one template, `network_mode: host`), and
    the same pid number means another process in another container: a running job of theirs must
    not look dead here."""
    global _HOST
    if _HOST is None:
        marks = []
        for path, read in (("/proc/sys/kernel/random/boot_id", lambda p: open(p).read().strip()),
                           ("/proc/self/ns/pid", os.readlink)):
            try:
                marks.append(read(path))
            except OSError:
                marks.append("")
        digest = hashlib.sha256("|".join(marks).encode()).hexdigest()[:8] if any(marks) else ""
        _HOST = f"{socket.gethostname()[:80]}#{digest}" if digest else socket.gethostname()[:80]
    return _HOST


_HOST: str | None = None


# --- Creating and claiming -------------------------------------------------------------------------

def submit(kind: str, user: User, filename: str, data: bytes, *, total: int, params: dict | None = None,
           locale: str | None = None) -> Job:
    """Queue a job (commits). `total` is what the progress counts to (rows, questions)."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, status="queued", created_by_id=user.id, created_at=utcnow(), filename=filename[:200],
              data=data, params={**(params or {}), "locale": locale or "en"}, progress_total=total,
              progress_done=0, phase="", worker="", error="")
    db.session.add(job)
    db.session.commit()
    return job


def claim(job_id: int | None = None, worker: str | None = None) -> int | None:
    """Take a queued job (this one, or the oldest) for `worker`: one conditional UPDATE, so of
    several claimers exactly one gets it. Returns the job's id, or None when there is none to take."""
    worker = worker or this_worker()
    candidates = [job_id] if job_id is not None else list(db.session.scalars(
        select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(10)))
    now = utcnow()
    for candidate in candidates:
        claimed = db.session.execute(
            update(Job).where(Job.id == candidate, Job.status == "queued")
            .values(status="running", worker=worker, started_at=now, heartbeat_at=now, phase="checking")
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if claimed == 1:
            return candidate
    return None


# --- Running ---------------------------------------------------------------------------------------

@dataclass
class Progress:
    """Counts a job's progress into its row, in short transactions of its own, at most every
    PROGRESS_EVERY seconds. After `writing()` it writes nothing more: the import holds the
    (SQLite) write lock until its commit."""

    job_id: int
    last: float = 0.0
    stopped: bool = False
    calls: list = field(default_factory=list)  # (done, total) as reported, for tests

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))
        now = time.monotonic()
        if self.stopped or (now - self.last < PROGRESS_EVERY and done < total):
            return
        self.last = now
        self._write(progress_done=done, progress_total=total, phase="checking")

    def writing(self, total: int) -> None:
        """The check is over and the import starts writing; the job shows "writing"."""
        self._write(progress_done=total, progress_total=total, phase="writing")
        self.stopped = True

    def _write(self, **values) -> None:
        with db.engine.begin() as connection:
            connection.execute(update(Job.__table__).where(Job.__table__.c.id == self.job_id,
                                                           Job.__table__.c.status == "running")
                               .values(heartbeat_at=utcnow(), **values))


def _complete(job: Job, result: dict, codes: list | None = None) -> None:
    """Mark `job` done inside the import's own transaction (the caller commits)."""
    job.status, job.phase, job.finished_at = "done", "", utcnow()
    job.result, job.codes, job.data = result, codes or None, None
    job.progress_done = job.progress_total


def _fail(job_id: int, errors: list[str], message: str) -> None:
    db.session.rollback()
    db.session.execute(update(Job).where(Job.id == job_id).values(
        status="failed", phase="", finished_at=utcnow(), result={"errors": errors}, error=message, data=None,
        codes=None).execution_options(synchronize_session=False))
    db.session.commit()


def run(job_id: int) -> None:
    """Run a job this process claimed; it ends done or failed, never raises."""
    job = db.session.get(Job, job_id)
    if job is None or job.status != "running":
        return
    handler = HANDLERS[job.kind]
    try:
        with force_locale(job.params.get("locale") or "en"):
            handler(job, job.data or b"", Progress(job.id), lambda result, codes=None: _complete(job, result, codes))
        if job.status != "done":  # a handler that wrote nothing: finish here
            _complete(job, {})
            db.session.commit()
    except JobFailed as exc:
        _fail(job_id, exc.errors, "invalid")
    except Exception:
        log.exception("job %s (%s) failed", job_id, job.kind)
        _fail(job_id, [], "error")


def run_in_app(app: Flask, job_id: int) -> None:
    """Run a claimed job in a context of its own (a thread's, or a worker loop's)."""
    with app.app_context():
        try:
            run(job_id)
        finally:
            db.session.remove()


def start(job: Job) -> Job:
    """Start a queued job: at once in this request when it is small, else in a thread of this
    process (`thread` mode) or by a `lms jobs work` loop (`external` mode)."""
    if job.progress_total <= inline_rows():
        if claim(job.id) is not None:
            run(job.id)
        db.session.refresh(job)
        return job
    if worker_mode() == "thread" and claim(job.id) is not None:
        thread = threading.Thread(target=run_in_app, args=(current_app._get_current_object(), job.id),
                                  name=f"job-{job.id}", daemon=True)
        thread.start()
        THREADS[job.id] = thread
    return job


THREADS: dict[int, threading.Thread] = {}  # this process's job threads, so tests can wait for them


def work(app: Flask, *, once: bool = False, idle_seconds: float = 2.0, stop: Callable[[], bool] = lambda: False,
         echo: Callable[[str], None] = lambda line: None) -> int:
    """The `lms jobs work` loop: claim queued jobs one at a time and run them; with `once`, return
    when none is queued. Returns how many jobs it ran."""
    ran = 0
    worker = this_worker()
    while not stop():
        with app.app_context():
            mark_interrupted()
            job_id = claim(worker=worker)
            db.session.remove()
        if job_id is None:
            if once:
                break
            time.sleep(idle_seconds)
            continue
        echo(f"job {job_id}: running")
        run_in_app(app, job_id)
        with app.app_context():
            status = db.session.scalar(select(Job.status).where(Job.id == job_id))
            db.session.remove()
        echo(f"job {job_id}: {status}")
        ran += 1
    return ran


# --- Interrupted jobs, reading, codes ------------------------------------------------------------

def _process_gone(worker: str) -> bool:
    host, _sep, pid = worker.rpartition(":")
    if host != this_host() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def interrupted(job: Job, now: datetime) -> bool:
    """Whether a running job's process is gone: its pid on this host no longer exists, or (any
    host) it has not reported for LMS_JOB_STALE_MINUTES."""
    if job.status != "running":
        return False
    stale = timedelta(minutes=int(current_app.config.get("LMS_JOB_STALE_MINUTES", DEFAULT_STALE_MINUTES)))
    return _process_gone(job.worker) or (job.heartbeat_at is not None and now - job.heartbeat_at > stale)


def mark_interrupted(now: datetime | None = None) -> int:
    """Fail every running job whose process is gone (see `interrupted`); returns how many."""
    now = now or utcnow()
    count = 0
    for job in db.session.scalars(select(Job).where(Job.status == "running")):
        if interrupted(job, now):
            # only if still running as we saw it: the job may have finished meanwhile
            count += db.session.execute(update(Job).where(Job.id == job.id, Job.status == "running",
                                                          Job.heartbeat_at == job.heartbeat_at).values(
                status="failed", phase="", finished_at=now, error="interrupted", data=None, codes=None,
                result={"errors": []}).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return count


def load_job_for(user: User, job_id: int) -> Job:
    """The job, for its creator or an admin; NotFound or Forbidden otherwise. A job whose process
    died is marked failed on the way."""
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound()
    if job.created_by_id != user.id and not user.has_role("admin"):
        raise Forbidden()
    now = utcnow()
    if interrupted(job, now):
        mark_interrupted(now)
        db.session.refresh(job)
    if job.codes and job.finished_at and now - job.finished_at > timedelta(hours=CODES_KEPT_HOURS):
        job.codes = None
        db.session.commit()
    return job


def status(job: Job) -> dict:
    """What the progress page polls."""
    return {"id": job.id, "status": job.status, "phase": job.phase, "done": job.progress_done,
            "total": job.progress_total, "finished": job.finished}


def error_message(job: Job) -> str:
    if job.error == "interrupted":
        return _("The import was interrupted (the server restarted); nothing was imported. Send the file again.")
    if job.error == "error":
        return _("The import failed because of an error on the server; nothing was imported. Send the file "
                 "again, and tell your administrator if it happens again.")
    return ""


def take_codes(job: Job, actor: User) -> list:
    """The activation codes a staff import made, handed out once: they are removed from the job
    and the hand-over is audited (commits). Empty when they were taken already or have expired."""
    from lms.records.services import audit

    codes = list(job.codes or [])
    if codes:
        job.codes = None
        audit(actor, "activation.codes_exported", "job", job.id, accounts=len(codes))
        db.session.commit()
    return codes


def accept_upload(kind: str, user: User, upload, *, max_rows: int, locale: str | None) -> tuple[Job | None, str | None]:
    """An uploaded import file (a Werkzeug FileStorage) read once here, so a file over its row cap
    or unreadable is refused at once: (the job, queued and started, None) or (None, the problem)."""
    from pathlib import PurePath

    from lms.content.spreadsheets import SpreadsheetError, read_table

    filename = PurePath(upload.filename or "").name[:200]
    data = upload.read()
    try:
        table = read_table(filename, data, max_rows=max_rows)
    except SpreadsheetError as exc:
        return None, str(exc)
    return start(submit(kind, user, filename, data, total=len(table.rows), locale=locale)), None
