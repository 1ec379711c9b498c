"""Micro-lessons: reading, previous/next, and marking complete."""
from lms.lessons.views import bp

__all__ = ["bp"]
