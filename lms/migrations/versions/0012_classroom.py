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
    op.create_table(
        'class_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('instructor_id', sa.Integer(), nullable=True),
        sa.Column('location', sa.String(length=200), nullable=False),
        sa.Column('online_url', sa.String(length=500), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=True),
        sa.Column('signup_required', sa.Boolean(), nullable=False),
        sa.Column('signup_cutoff_hours', sa.Integer(), nullable=False),
        sa.Column('audience', sa.JSON(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('survey_template_id', sa.Integer(), nullable=True),
        sa.Column('attendance_closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_class_sessions_ends_after_start')),
        sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_class_sessions_positive_capacity')),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_class_sessions_course_id_courses'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['instructor_id'], ['users.id'], name=op.f('fk_class_sessions_instructor_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_class_sessions_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_class_sessions')),
    )
    op.create_index(op.f('ix_class_sessions_course_id'), 'class_sessions', ['course_id'], unique=False)
    op.create_index(op.f('ix_class_sessions_instructor_id'), 'class_sessions', ['instructor_id'], unique=False)
    op.create_index(op.f('ix_class_sessions_starts_at'), 'class_sessions', ['starts_at'], unique=False)

    op.create_table(
        'class_registrations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('registered', 'waitlisted', 'cancelled')",
                           name=op.f('ck_class_registrations_known_status')),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_class_registrations_session_id_class_sessions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_class_registrations_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_class_registrations')),
        sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_class_registrations_session_id_user_id')),
    )
    op.create_index(op.f('ix_class_registrations_user_id'), 'class_registrations', ['user_id'], unique=False)

    op.create_table(
        'class_attendance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('marked_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('present', 'late', 'excused', 'absent')",
                           name=op.f('ck_class_attendance_known_status')),
        sa.CheckConstraint("method IN ('code', 'manual')", name=op.f('ck_class_attendance_known_method')),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_class_attendance_session_id_class_sessions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_class_attendance_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_class_attendance_marked_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_class_attendance')),
        sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_class_attendance_session_id_user_id')),
    )
    op.create_index(op.f('ix_class_attendance_user_id'), 'class_attendance', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_class_attendance_user_id'), table_name='class_attendance')
    op.drop_table('class_attendance')
    op.drop_index(op.f('ix_class_registrations_user_id'), table_name='class_registrations')
    op.drop_table('class_registrations')
    op.drop_index(op.f('ix_class_sessions_starts_at'), table_name='class_sessions')
    op.drop_index(op.f('ix_class_sessions_instructor_id'), table_name='class_sessions')
    op.drop_index(op.f('ix_class_sessions_course_id'), table_name='class_sessions')
    op.drop_table('class_sessions')
