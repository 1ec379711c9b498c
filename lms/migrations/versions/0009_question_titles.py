"""question titles (Moodle names) and text formats

Revision ID: 0009_question_titles
Revises: 0008_jobs
Create Date: 2026-11-27 20:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_question_titles'
down_revision = '0008_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=255), server_default='', nullable=False))
    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_format', sa.String(length=16), server_default='markdown',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.drop_column('text_format')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('title')
