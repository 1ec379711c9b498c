"""Uploaded files waiting for the uploader's confirmation (a previewed question bank)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import utcnow
from lms.models.base import Base


class StagedUpload(Base):
    """A file previewed but not yet confirmed. It lives in the database, not on the disk of the app
    server that showed the preview, so the confirmation may reach any app server behind the load
    balancer. The random `token` names it in the confirmation form; only its uploader may use it, once.
    Rows older than a day are deleted when the next upload is staged (lms/banks/staging.py)."""

    __tablename__ = "staged_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # what it is for: "bank"
    filename: Mapped[str] = mapped_column(String(200), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # format, bank slug, question count
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
