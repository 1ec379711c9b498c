"""classroom sessions, sign-ups and attendance

Revision ID: 0012_classroom
Revises: 0011_attempt_grants
Create Date: 2026-11-27 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_classroom'
down_revision = '0011_attempt_grants'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
