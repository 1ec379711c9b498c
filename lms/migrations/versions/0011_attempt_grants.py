"""make-up attempts granted by trainers

Revision ID: 0011_attempt_grants
Revises: 0010_plans
Create Date: 2026-11-27 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_attempt_grants'
down_revision = '0010_plans'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
