"""content: course types, Markdown sources, lesson versions, media files

Revision ID: 0017_content_authoring
Revises: 0016_password_change
Create Date: 2026-11-28 03:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017_content_authoring'
down_revision = '0016_password_change'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs (no batch): SQLite would rebuild the table, which its foreign keys refuse.
    op.add_column('courses', sa.Column('course_type', sa.String(length=16), nullable=True))
    op.add_column('courses', sa.Column('intro_md', sa.Text(), server_default='', nullable=False))
    op.add_column('courses', sa.Column('folder_hash', sa.String(length=64), server_default='', nullable=False))
    op.add_column('courses', sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('lessons', sa.Column('body_md', sa.Text(), server_default='', nullable=False))
    op.add_column('lessons', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.create_table(
        'lesson_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('body_md', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('origin', sa.String(length=8), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("origin IN ('file', 'browser')", name=op.f('ck_lesson_versions_known_origin')),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_lesson_versions_author_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_lesson_versions_lesson_id_lessons'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_versions')),
        sa.UniqueConstraint('lesson_id', 'number', name=op.f('uq_lesson_versions_lesson_id_number')),
    )
    op.create_index(op.f('ix_lesson_versions_lesson_id'), 'lesson_versions', ['lesson_id'], unique=False)
    op.create_table(
        'media_blobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('extension', sa.String(length=8), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('duration_seconds', sa.Float(), nullable=True),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('image', 'audio', 'video')", name=op.f('ck_media_blobs_known_media_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_blobs')),
        sa.UniqueConstraint('sha256', name=op.f('uq_media_blobs_sha256')),
    )
    op.create_table(
        'course_media',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('blob_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['blob_id'], ['media_blobs.id'], name=op.f('fk_course_media_blob_id_media_blobs')),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_media_course_id_courses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_course_media')),
        sa.UniqueConstraint('course_id', 'name', name=op.f('uq_course_media_course_id_name')),
    )
    op.create_index(op.f('ix_course_media_blob_id'), 'course_media', ['blob_id'], unique=False)
    op.create_index(op.f('ix_course_media_course_id'), 'course_media', ['course_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_course_media_course_id'), table_name='course_media')
    op.drop_index(op.f('ix_course_media_blob_id'), table_name='course_media')
    op.drop_table('course_media')
    op.drop_table('media_blobs')
    op.drop_index(op.f('ix_lesson_versions_lesson_id'), table_name='lesson_versions')
    op.drop_table('lesson_versions')
    op.drop_column('lessons', 'version')
    op.drop_column('lessons', 'body_md')
    op.drop_column('courses', 'edited_at')
    op.drop_column('courses', 'folder_hash')
    op.drop_column('courses', 'intro_md')
    op.drop_column('courses', 'course_type')
