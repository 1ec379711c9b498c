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
    op.create_table(
        'training_plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_training_plans_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_training_plans')),
    )
    op.create_table(
        'cohorts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts')),
        sa.UniqueConstraint('name', name=op.f('uq_cohorts_name')),
    )
    op.create_table(
        'cohort_members',
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_members_cohort_id_cohorts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cohort_members_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('cohort_id', 'user_id', name=op.f('pk_cohort_members')),
    )
    op.create_index(op.f('ix_cohort_members_user_id'), 'cohort_members', ['user_id'], unique=False)
    op.create_table(
        'assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('item_kind', sa.String(length=16), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('exam_id', sa.Integer(), nullable=True),
        sa.Column('scenario_id', sa.Integer(), nullable=True),
        sa.Column('target_kind', sa.String(length=16), nullable=False),
        sa.Column('target_user_id', sa.Integer(), nullable=True),
        sa.Column('target_team', sa.String(length=100), nullable=True),
        sa.Column('target_level', sa.Integer(), nullable=True),
        sa.Column('target_cohort_id', sa.Integer(), nullable=True),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("item_kind IN ('course', 'exam', 'scenario')", name=op.f('ck_assignments_known_item_kind')),
        sa.CheckConstraint("target_kind IN ('agent', 'team', 'level', 'cohort')",
                           name=op.f('ck_assignments_known_target_kind')),
        sa.CheckConstraint(
            "(item_kind = 'course' AND course_id IS NOT NULL AND exam_id IS NULL AND scenario_id IS NULL)"
            " OR (item_kind = 'exam' AND exam_id IS NOT NULL AND course_id IS NULL AND scenario_id IS NULL)"
            " OR (item_kind = 'scenario' AND scenario_id IS NOT NULL AND course_id IS NULL AND exam_id IS NULL)",
            name=op.f('ck_assignments_one_item')),
        sa.CheckConstraint(
            "(target_kind = 'agent' AND target_user_id IS NOT NULL AND target_team IS NULL"
            " AND target_level IS NULL AND target_cohort_id IS NULL)"
            " OR (target_kind = 'team' AND target_team IS NOT NULL AND target_user_id IS NULL"
            " AND target_level IS NULL AND target_cohort_id IS NULL)"
            " OR (target_kind = 'level' AND target_level IS NOT NULL AND target_user_id IS NULL"
            " AND target_team IS NULL AND target_cohort_id IS NULL)"
            " OR (target_kind = 'cohort' AND target_cohort_id IS NOT NULL AND target_user_id IS NULL"
            " AND target_team IS NULL AND target_level IS NULL)",
            name=op.f('ck_assignments_one_target')),
        sa.CheckConstraint('target_level IS NULL OR target_level BETWEEN 0 AND 5',
                           name=op.f('ck_assignments_target_level_range')),
        sa.CheckConstraint('due_on >= starts_on', name=op.f('ck_assignments_due_after_start')),
        sa.ForeignKeyConstraint(['plan_id'], ['training_plans.id'], name=op.f('fk_assignments_plan_id_training_plans'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_assignments_course_id_courses'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_assignments_exam_id_exams'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['scenario_id'], ['scenarios.id'], name=op.f('fk_assignments_scenario_id_scenarios'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['target_user_id'], ['users.id'], name=op.f('fk_assignments_target_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['target_cohort_id'], ['cohorts.id'],
                                name=op.f('fk_assignments_target_cohort_id_cohorts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assignments_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    )
    op.create_index(op.f('ix_assignments_plan_id'), 'assignments', ['plan_id'], unique=False)
    op.create_index(op.f('ix_assignments_course_id'), 'assignments', ['course_id'], unique=False)
    op.create_index(op.f('ix_assignments_exam_id'), 'assignments', ['exam_id'], unique=False)
    op.create_index(op.f('ix_assignments_scenario_id'), 'assignments', ['scenario_id'], unique=False)
    op.create_index(op.f('ix_assignments_target_user_id'), 'assignments', ['target_user_id'], unique=False)
    op.create_index(op.f('ix_assignments_target_cohort_id'), 'assignments', ['target_cohort_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_assignments_target_cohort_id'), table_name='assignments')
    op.drop_index(op.f('ix_assignments_target_user_id'), table_name='assignments')
    op.drop_index(op.f('ix_assignments_scenario_id'), table_name='assignments')
    op.drop_index(op.f('ix_assignments_exam_id'), table_name='assignments')
    op.drop_index(op.f('ix_assignments_course_id'), table_name='assignments')
    op.drop_index(op.f('ix_assignments_plan_id'), table_name='assignments')
    op.drop_table('assignments')
    op.drop_index(op.f('ix_cohort_members_user_id'), table_name='cohort_members')
    op.drop_table('cohort_members')
    op.drop_table('cohorts')
    op.drop_table('training_plans')
