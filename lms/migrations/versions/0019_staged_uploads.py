"""staged uploads: a previewed bank file waits in the database, so any app server can confirm it

Revision ID: 0019_staged_uploads
Revises: 0018_search
Create Date: 2026-11-29 09:00:00

Before this, a previewed file waited in instance/bank-uploads/ on the disk of the app server that
showed the preview; behind a load balancer the confirmation could reach another one. Files waiting
there when upgrading are not carried over (they expire within a day anyway): upload them again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_staged_uploads'
down_revision = '0018_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staged_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staged_uploads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_uploads')),
    sa.UniqueConstraint('token', name=op.f('uq_staged_uploads_token'))
    )
    with op.batch_alter_table('staged_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_uploads_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_uploads_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staged_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_staged_uploads_created_at'))
    op.drop_table('staged_uploads')
