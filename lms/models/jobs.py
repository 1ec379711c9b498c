"""Background jobs: a long import waiting, running, done or failed, with its progress and result."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import utcnow
from lms.models.base import Base
from lms.models.users import User

JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    """One background job. Its state lives here, not in a process, so any web worker can show it
    and any worker process (`lms jobs work`) can claim it (lms/jobs/services.py)."""

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint(f"status IN {JOB_STATUSES!r}", name="known_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    phase: Mapped[str] = mapped_column(String(16), default="")  # "checking" or "writing" while running
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    worker: Mapped[str] = mapped_column(String(100), default="")  # host:pid of the process running it
    filename: Mapped[str] = mapped_column(String(200), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The uploaded file, kept in the row so a worker on another app server can read it; emptied
    # when the job ends.
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    # One-time activation codes of the accounts a staff import created, in clear, until the admin
    # downloads them (then emptied; at most CODES_KEPT_HOURS). The users table holds only hashes.
    codes: Mapped[list | None] = mapped_column(JSON)

    created_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")
