"""SQLAlchemy models, one module per domain; importing this package registers them all."""
from lms.models.certificates import CERTIFICATE_KINDS, Certificate
from lms.models.courses import (COURSE_TYPES, KINDS, TRACKS, Course, CourseMedia, Lesson, LessonVersion, MediaBlob,
                                course_prerequisites)
from lms.models.exams import (ATTEMPT_STATES, GRADING_METHODS, REVIEW_POLICIES, AttemptAnswer, AttemptQuestion,
                              Exam, ExamAttempt, ExamPool)
from lms.models.jobs import JOB_STATUSES, Job
from lms.models.ladder import STAR_CHANGE_KINDS, StarChange, StarLevel
from lms.models.progress import LessonProgress
from lms.models.practicals import (MOODS, PRACTICAL_STATUSES, Practical, PracticalAcknowledgement,
                                   PracticalCorrection, PracticalScore, Rehearsal, RubricCriterion,
                                   RubricVersion, Scenario, ScriptVersion)
from lms.models.questions import QUESTION_TYPES, Question, QuestionBank, QuestionVersion
from lms.models.records import BANDS, ENTRY_KINDS, AuditEvent, RecordEntry
from lms.models.search import SEARCH_KINDS, SearchDocument
from lms.models.users import ROLES, STAR_LEVELS, User, UserRole
# Modules whose classes are imported from the module itself (lms.models.plans.Assignment, ...).
from lms.models import classroom, notifications, plans, surveys, uploads  # noqa: E402  (registers their tables)

__all__ = [
    "COURSE_TYPES", "KINDS", "TRACKS", "Course", "CourseMedia", "Lesson", "LessonVersion", "MediaBlob",
    "course_prerequisites", "LessonProgress",
    "ROLES", "STAR_LEVELS", "User", "UserRole", "BANDS", "ENTRY_KINDS", "AuditEvent", "RecordEntry",
    "QUESTION_TYPES", "Question", "QuestionBank", "QuestionVersion",
    "GRADING_METHODS", "REVIEW_POLICIES", "ATTEMPT_STATES", "Exam", "ExamPool", "ExamAttempt", "AttemptQuestion",
    "AttemptAnswer", "CERTIFICATE_KINDS", "Certificate", "STAR_CHANGE_KINDS", "StarChange", "StarLevel",
    "MOODS", "PRACTICAL_STATUSES", "Scenario", "ScriptVersion", "RubricVersion", "RubricCriterion",
    "Rehearsal", "Practical", "PracticalScore", "PracticalCorrection", "PracticalAcknowledgement",
    "JOB_STATUSES", "Job", "SEARCH_KINDS", "SearchDocument", "classroom", "notifications", "plans", "surveys", "uploads",
]
