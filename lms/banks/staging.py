"""Bank uploads waiting for confirmation: a previewed file is staged, then imported once (at once,
or as a background job for a big file), by whichever app server the confirmation reaches.

A previewed file waits in the database (StagedUpload), not on this app server's disk: behind a load
balancer the confirmation may reach another server. Its token is used once: the row is deleted first
in the transaction that imports it (or queues its job), so of two confirmations at once (a double
click, two servers) one imports and the other finds it gone; a refused import rolls the delete back.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from lms.banks.services import BankChanges, ImportPlan, Upload, import_file, parse_upload, plan_import
from lms.clock import utcnow
from lms.content.errors import ContentInvalid
from lms.extensions import db
from lms.jobs import services as jobs
from lms.jobs.services import JobFailed, Progress, job_kind
from lms.models import Job, User
from lms.models.uploads import StagedUpload


class UploadExpired(Exception):
    """The staged upload is gone (confirmed already, too old, or someone else's)."""


TOKEN = re.compile(r"^[A-Za-z0-9_-]{40,64}$")
UPLOAD_LIFETIME = 24 * 3600
STAGED_PER_USER = 5  # previews kept per person; an older one is dropped when a newer one is staged


def stage_upload(user: User, data: bytes, upload: Upload, now: datetime | None = None) -> str:
    """Keep an uploaded file until it is confirmed (commits); returns the random token naming it.
    The confirmation re-reads the file from here: nothing the browser sends back is trusted."""
    now = now or utcnow()
    db.session.execute(delete(StagedUpload).where(StagedUpload.created_at < now - timedelta(seconds=UPLOAD_LIFETIME)))
    kept = list(db.session.scalars(select(StagedUpload.id).where(StagedUpload.user_id == user.id)
                                   .order_by(StagedUpload.id.desc()).offset(STAGED_PER_USER - 1)))
    if kept:
        db.session.execute(delete(StagedUpload).where(StagedUpload.id.in_(kept)))
    token = secrets.token_urlsafe(32)
    db.session.add(StagedUpload(token=token, user_id=user.id, kind="bank", filename=upload.filename[:200],
                                params={"format": upload.format, "bank": upload.bank_slug,
                                        "questions": len(upload.spec.questions)},
                                data=data, created_at=now))
    db.session.commit()
    return token


def prepare_upload(user: User, data: bytes, filename: str, fmt: str | None, bank_slug: str | None) -> ImportPlan:
    """Parse and compare an upload; when it is clean, stage it and give the plan its token."""
    upload = parse_upload(data, filename, fmt, bank_slug)
    plan = plan_import(upload)
    if not plan.errors:
        plan.token = stage_upload(user, data, upload)
    return plan


def _read_staged(user: User, token: str, now: datetime | None = None) -> StagedUpload:
    """The user's live staged upload named by `token`; UploadExpired otherwise."""
    if not TOKEN.match(token or ""):
        raise UploadExpired()
    now = now or utcnow()
    staged = db.session.scalar(select(StagedUpload).where(
        StagedUpload.token == token, StagedUpload.user_id == user.id, StagedUpload.kind == "bank",
        StagedUpload.created_at >= now - timedelta(seconds=UPLOAD_LIFETIME)))
    if staged is None:
        raise UploadExpired()
    return staged


def _use_up(staged: StagedUpload) -> tuple[bytes, str, dict]:
    """Delete the staged row, uncommitted, as the first write of the caller's transaction, and return
    its (data, file name, params). UploadExpired when another request, on this server or another,
    used it first: on PostgreSQL the second DELETE waits for the first transaction and then finds
    nothing; on SQLite writers take turns."""
    found = staged.data, staged.filename, dict(staged.params)
    if db.session.execute(delete(StagedUpload).where(StagedUpload.id == staged.id)
                          .execution_options(synchronize_session=False)).rowcount != 1:
        db.session.rollback()
        raise UploadExpired()
    return found


def confirm_upload(user: User, token: str, now: datetime) -> BankChanges:
    """Import a staged upload, once. Raises UploadExpired when the token names no upload of this user
    (or it was used meanwhile), ContentInvalid when the bank changed since the preview so that the
    file no longer applies (the upload waits again then)."""
    data, filename, params = _use_up(_read_staged(user, token, now))
    try:
        return import_file(data, filename, params.get("format"), params.get("bank"), actor=user, now=now)
    except ContentInvalid:
        db.session.rollback()  # the upload waits again (a file refused before any write leaves no rollback)
        raise


def staged_questions(user: User, token: str) -> int:
    """How many questions a staged upload holds (UploadExpired as confirm_upload)."""
    return int(_read_staged(user, token).params.get("questions") or 0)


def queue_upload(user: User, token: str, locale: str) -> Job:
    """Turn a staged upload into a background job (lms/jobs/services.py), which imports it as
    confirm_upload does, once. Raises UploadExpired as confirm_upload."""
    data, filename, params = _use_up(_read_staged(user, token))  # committed with the job by submit()
    return jobs.submit("bank", user, filename, data, total=int(params.get("questions") or 0), locale=locale,
                       params={"format": params.get("format"), "bank": params.get("bank")})


@job_kind("bank")
def import_job(job: Job, data: bytes, progress: Progress, complete) -> None:
    """A bank file as a background job: import_file, all or nothing; errors as `file:line`."""
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        import_file(data, job.filename, job.params.get("format"), job.params.get("bank"), actor=actor, now=utcnow(),
                    progress=progress, before_commit=lambda changes: complete(
                        {"slug": changes.slug, "counts": changes.counts()}))
    except ContentInvalid as exc:
        raise JobFailed([error.sentence() for error in exc.errors])  # in the uploader's language (the job's)
