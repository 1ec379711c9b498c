"""Role-play scenarios: scripts and rubrics, rehearsal alone, and practicals signed off by mentors."""
from lms.practicals.views import bp

__all__ = ["bp"]
