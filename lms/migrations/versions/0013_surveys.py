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
    op.create_table(
        'survey_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('applies_to', sa.String(length=10), nullable=False),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("applies_to IN ('course', 'session')", name=op.f('ck_survey_templates_known_applies_to')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_survey_templates_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_templates')),
    )
    op.create_table(
        'survey_responses',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('subject_type', sa.String(length=10), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("subject_type IN ('course', 'session')",
                           name=op.f('ck_survey_responses_known_subject_type')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_survey_responses_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'subject_type', 'subject_id', name=op.f('pk_survey_responses')),
    )
    op.create_table(
        'survey_answers',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('subject_type', sa.String(length=10), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('instructor_id', sa.Integer(), nullable=True),
        sa.Column('course_rating', sa.Integer(), nullable=False),
        sa.Column('instructor_rating', sa.Integer(), nullable=True),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('answered_on', sa.Date(), nullable=False),
        sa.CheckConstraint("subject_type IN ('course', 'session')", name=op.f('ck_survey_answers_known_subject_type')),
        sa.CheckConstraint('course_rating BETWEEN 1 AND 5', name=op.f('ck_survey_answers_course_rating_range')),
        sa.CheckConstraint('instructor_rating IS NULL OR instructor_rating BETWEEN 1 AND 5',
                           name=op.f('ck_survey_answers_instructor_rating_range')),
        sa.ForeignKeyConstraint(['template_id'], ['survey_templates.id'],
                                name=op.f('fk_survey_answers_template_id_survey_templates'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_survey_answers_course_id_courses'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['instructor_id'], ['users.id'], name=op.f('fk_survey_answers_instructor_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
    )
    op.create_index(op.f('ix_survey_answers_template_id'), 'survey_answers', ['template_id'], unique=False)
    op.create_index(op.f('ix_survey_answers_course_id'), 'survey_answers', ['course_id'], unique=False)
    op.create_index(op.f('ix_survey_answers_instructor_id'), 'survey_answers', ['instructor_id'], unique=False)
    op.create_index('ix_survey_answers_subject_type_subject_id', 'survey_answers', ['subject_type', 'subject_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_survey_answers_subject_type_subject_id', table_name='survey_answers')
    op.drop_index(op.f('ix_survey_answers_instructor_id'), table_name='survey_answers')
    op.drop_index(op.f('ix_survey_answers_course_id'), table_name='survey_answers')
    op.drop_index(op.f('ix_survey_answers_template_id'), table_name='survey_answers')
    op.drop_table('survey_answers')
    op.drop_table('survey_responses')
    op.drop_table('survey_templates')
