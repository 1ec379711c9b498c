"""Administration: staff accounts, roles, and bulk import."""
from lms.admin.views import bp

__all__ = ["bp"]
