"""Where a person lands after logging in: the place their main role works from.

An admin runs the programme, a trainer the content and marking, a mentor their mentees; only someone
whose work is learning lands on the agent home. Someone with several roles lands on the highest one
and reaches the others from the navigation.
"""
from __future__ import annotations

LANDING_BY_ROLE = (
    ("admin", "admin.overview"),  # staff in numbers, what waits for a decision (lms/admin/overview.py)
    ("trainer", "workspace.index"),  # marking, sessions, banks, exams open now (lms/workspace)
    ("mentor", "mentoring.home"),  # the mentees, each with the next thing to do
)
AGENT_HOME = "catalog.learning"


def landing_endpoint(user) -> str:
    """The endpoint `user` starts from: the first of their roles in LANDING_BY_ROLE, else the agent home."""
    for role, endpoint in LANDING_BY_ROLE:
        if user.has_role(role):
            return endpoint
    return AGENT_HOME
