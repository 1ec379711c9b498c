"""search: the index of courses, lessons, scenarios and questions, with a trigram full-text index

Revision ID: 0018_search
Revises: 0017_content_authoring
Create Date: 2026-11-28 05:00:00

SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34+) over title and body, an external-content
index of `search_documents` kept in step by triggers. PostgreSQL: pg_trgm GIN indexes, which serve
`ILIKE '%term%'`. Neither is in the models (lms.models.search.outside_models names them).
"""
import sqlite3

from alembic import op
import sqlalchemy as sa


revision = '0018_search'
down_revision = '0017_content_authoring'
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_documents_fts USING fts5(title, body, content='search_documents',"
    " content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents BEGIN"
    " INSERT INTO search_documents_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents BEGIN"
    " INSERT INTO search_documents_fts(search_documents_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_fts_update AFTER UPDATE ON search_documents BEGIN"
    " INSERT INTO search_documents_fts(search_documents_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body);"
    " INSERT INTO search_documents_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
POSTGRESQL_TRGM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_search_documents_title_trgm ON search_documents USING gin (title gin_trgm_ops)",
    "CREATE INDEX ix_search_documents_body_trgm ON search_documents USING gin (body gin_trgm_ops)",
]


def upgrade():
    op.create_table(
        'search_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('bank_id', sa.Integer(), nullable=True),
        sa.Column('star_level', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('course', 'lesson', 'scenario', 'question')",
                           name=op.f('ck_search_documents_known_kind')),
        sa.ForeignKeyConstraint(['bank_id'], ['question_banks.id'],
                                name=op.f('fk_search_documents_bank_id_question_banks'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_search_documents_course_id_courses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents')),
        sa.UniqueConstraint('kind', 'ref_id', name=op.f('uq_search_documents_kind_ref_id')),
    )
    op.create_index(op.f('ix_search_documents_bank_id'), 'search_documents', ['bank_id'], unique=False)
    op.create_index(op.f('ix_search_documents_course_id'), 'search_documents', ['course_id'], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite' and sqlite3.sqlite_version_info >= (3, 34):
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == 'postgresql':
        for statement in POSTGRESQL_TRGM:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER IF EXISTS search_documents_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS search_documents_fts")
    elif dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_documents_body_trgm")
        op.execute("DROP INDEX IF EXISTS ix_search_documents_title_trgm")
    op.drop_index(op.f('ix_search_documents_course_id'), table_name='search_documents')
    op.drop_index(op.f('ix_search_documents_bank_id'), table_name='search_documents')
    op.drop_table('search_documents')
