"""the recognition board (表彰榜): users.recognition_opt_out, certificates of recognition

Revision ID: 0015_recognition
Revises: 0014_notifications
Create Date: 2026-11-28 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015_recognition'
down_revision = '0014_notifications'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch would rebuild `users`, which every other table references (SQLite
    # refuses to drop it with foreign keys on, and must not try).
    op.add_column('users', sa.Column('recognition_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period', sa.String(length=7), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_certificates_known_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_certificates_known_kind'),
                                         "kind IN ('course', 'promotion', 'recognition')")
        batch_op.create_unique_constraint(batch_op.f('uq_certificates_user_id_kind_period'),
                                          ['user_id', 'kind', 'period'])


def downgrade():
    op.execute("DELETE FROM certificates WHERE kind = 'recognition'")
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_certificates_user_id_kind_period'), type_='unique')
        batch_op.drop_constraint(batch_op.f('ck_certificates_known_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_certificates_known_kind'), "kind IN ('course', 'promotion')")
        batch_op.drop_column('period')

    op.drop_column('users', 'recognition_opt_out')
