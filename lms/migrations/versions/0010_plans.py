"""training plans, cohorts and assignments

Revision ID: 0010_plans
Revises: 0009_question_titles
Create Date: 2026-11-27 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_plans'
down_revision = '0009_question_titles'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
