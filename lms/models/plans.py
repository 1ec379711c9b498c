"""Training plans, cohorts (named groups such as a new-hire intake) and assignments."""
from __future__ import annotations
