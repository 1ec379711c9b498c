"""accounts: users.must_change_password (an admin's reset forces a new password at the next login)

Revision ID: 0016_password_change
Revises: 0015_recognition
Create Date: 2026-11-28 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016_password_change'
down_revision = '0015_recognition'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, as in 0015: a batch would rebuild `users`, which SQLite refuses with foreign keys on.
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column('users', 'must_change_password')
