"""Who may read an agent's training archive: the agent, their mentor, trainers and admins."""
from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db
from lms.models import User


class ArchiveNotFound(LookupError):
    pass


class NotAllowed(PermissionError):
    pass


def is_mentor_of(viewer: User, agent: User) -> bool:
    """Mentor powers need both the mentor role and the link."""
    return agent.mentor_id == viewer.id and viewer.has_role("mentor")


def may_read_archive(viewer: User, agent: User) -> bool:
    return viewer.id == agent.id or viewer.has_role("trainer", "admin") or is_mentor_of(viewer, agent)


def check_archive_access(viewer: User, agent: User) -> None:
    if not may_read_archive(viewer, agent):
        raise NotAllowed(agent.id)


def load_agent_for(viewer: User, employee_no: str) -> User:
    """The account whose archive `viewer` asks for. Raises ArchiveNotFound, NotAllowed."""
    agent = db.session.scalar(select(User).where(User.employee_no == employee_no))
    if agent is None:
        raise ArchiveNotFound(employee_no)
    check_archive_access(viewer, agent)
    return agent
