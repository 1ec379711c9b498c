"""The search index: one row per searchable thing (course, lesson, scenario, question), its plain text.

The rows are derived data, rebuilt from the content by lms.search.index (after `lms sync`, after a
browser edit, or with `lms search reindex`). The full-text structures over `title` and `body` live
outside these models because they depend on the database: on SQLite an FTS5 table with the trigram
tokenizer (`search_documents_fts`, kept in step by triggers), on PostgreSQL pg_trgm GIN indexes
(`ix_search_documents_title_trgm`, `ix_search_documents_body_trgm`); see migration 0018_search.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import utcnow
from lms.models.base import Base

SEARCH_KINDS = ("course", "lesson", "scenario", "question")


class SearchDocument(Base):
    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id"),
        CheckConstraint(f"kind IN {SEARCH_KINDS!r}", name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int] = mapped_column(Integer)  # the course's, lesson's, scenario's or question's id
    # The course it belongs to (a lesson's, a scenario's; a course's own id); None for a question.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"), index=True)
    star_level: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")  # plain text: tags stripped, whitespace folded
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


def outside_models(name: str | None) -> bool:
    """The database's own full-text structures (migration 0018_search)."""
    return bool(name) and (name.startswith("search_documents_fts") or name.endswith("_trgm"))


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's schema comparison skips the structures `outside_models` names (lms/migrations/env.py)."""
    return not (reflected and compare_to is None and outside_models(name))
