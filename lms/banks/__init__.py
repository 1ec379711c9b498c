"""Question banks: files and uploads in, exports out, authoring in the browser."""
from lms.banks.views import bp

__all__ = ["bp"]
