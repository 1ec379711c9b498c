"""Closed sets of values the content files may name, as plain tuples (no SQLAlchemy).

The file parsers check front matter against these, and `lms sync --check` parses every content
folder without importing the models (lms/cli.py keeps it short). The models import their columns'
values from here, so there is one list of each.
"""
from __future__ import annotations

# Courses (lms.models.courses)
KINDS = ("required", "elective")
TRACKS = ("onboarding", "in-service", "refresher")
# The seed regime's four kinds of course: 业务类、操作规范类、技能类、提升类 (front matter `type`).
COURSE_TYPES = ("business", "norms", "skills", "advancement")

# Exams (lms.models.exams)
GRADING_METHODS = ("highest", "average", "first", "last")
REVIEW_POLICIES = ("after_close", "immediately", "never")
