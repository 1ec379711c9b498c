"""The agent's home page: the catalog by star level and the lesson to resume."""
from lms.catalog.views import bp

__all__ = ["bp"]
