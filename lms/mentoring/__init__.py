"""The mentor's page: mentees, pending practicals, recent results and pass rates."""
from lms.mentoring.views import bp

__all__ = ["bp"]
