"""survey templates and anonymous answers

Revision ID: 0013_surveys
Revises: 0012_classroom
Create Date: 2026-11-27 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_surveys'
down_revision = '0012_classroom'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
