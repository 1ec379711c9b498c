"""SQLAlchemy models, one module per domain; importing this package registers them all."""
from lms.models.courses import KINDS, TRACKS, Course, Lesson, course_prerequisites
from lms.models.progress import LessonProgress
from lms.models.questions import QUESTION_TYPES, Question, QuestionBank, QuestionVersion
from lms.models.records import BANDS, ENTRY_KINDS, AuditEvent, RecordEntry
from lms.models.users import ROLES, STAR_LEVELS, User, UserRole

__all__ = [
    "KINDS", "TRACKS", "Course", "Lesson", "course_prerequisites", "LessonProgress",
    "ROLES", "STAR_LEVELS", "User", "UserRole", "BANDS", "ENTRY_KINDS", "AuditEvent", "RecordEntry",
    "QUESTION_TYPES", "Question", "QuestionBank", "QuestionVersion",
]
